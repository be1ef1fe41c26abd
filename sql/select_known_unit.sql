-- What the database knows of a unit code: its row of the stored registry, if the registry still
-- has it, and how many files it ever sent. A unit removed from the registry keeps its
-- submissions, so `history` and `show` still find it by them.
with sent as (
    select count(*) as submissions
    from submission
    where unit_code = :unit_code
)

select
    unit.code,
    unit.name,
    unit.parent_code,
    unit.kind,
    unit.sector,
    unit.valid_from,
    unit.valid_to,
    unit.email,
    sent.submissions
from sent
left join unit on unit.code = :unit_code and unit.registry_version = :registry_version
