-- The numbers of some submissions (a late form's or a correction's, and the ones they replace),
-- for an incremental consolidation (tonghop/incremental.py).
select submission_id, indicator_code, number
from submission_value
where submission_id in :submission_ids
  and number is not null
