-- The numbers of every unit's counted submission of a period, with the unit's parent and kind:
-- the siblings rule O2 compares a new figure with.
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
order by counted.unit_code, value.indicator_code
