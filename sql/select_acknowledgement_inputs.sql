-- Every version received for the period, each with what its acknowledgement says: the unit,
-- file, receipt time, outcome and sender (null for a file of the folder inbox), and which of
-- the unit's files of the period it is (`arrival_number`, 1-based in arrival order, as the unit
-- counts its sendings). By unit, then in arrival order: the earlier version that still counts
-- beside a rejected one is found walking them once (tonghop/answers.py).
select
    id,
    unit_code,
    file_name,
    received_at,
    outcome,
    sender,
    error_count,
    warning_count,
    processed_at,
    row_number() over (partition by unit_code order by arrival, id) as arrival_number
from submission
where period = :period
order by unit_code, arrival_number
