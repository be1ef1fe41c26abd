-- The numbers of the counted submissions of a period of every unit under some parents, with the
-- unit's parent and kind: the siblings rule O2 compares a new figure with (a batch's units'
-- parents only: a late form need not read the whole province).
with counted as (
    select id, unit_code
    from counted_submission
    where period = :period
)

select
    counted.unit_code,
    unit.parent_code,
    unit.kind,
    value.indicator_code,
    value.number
from counted
inner join unit
    on unit.code = counted.unit_code and unit.registry_version = :registry_version
inner join submission_value as value on value.submission_id = counted.id
where value.number is not null
  and unit.parent_code in :parent_codes
order by counted.unit_code, value.indicator_code
