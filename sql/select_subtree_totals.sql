-- Every active unit's value of every count and flag indicator: its own accepted value plus its
-- active descendants' (SPEC §6). A unit whose subtree reported nothing for an indicator gets no
-- row, so the value stays blank rather than 0. `reporting_units` counts the units that reported
-- it (the denominator of a flag's share).
{% from "is_active.sql" import is_active %}
with active_unit as (
    select code
    from unit
    where {{ is_active("unit") }}
),

own_value as (
    select counted.unit_code, value.indicator_code, value.number
    from counted_submission as counted
    inner join submission_value as value on value.submission_id = counted.id
    where counted.period = :period
      and value.number is not null
),

rolled_up as (
    select
        closure.ancestor as unit_code,
        own_value.indicator_code,
        sum(own_value.number) as number,
        count(*) as reporting_units
    from unit_closure as closure
    inner join active_unit as ancestor on ancestor.code = closure.ancestor
    inner join active_unit as descendant on descendant.code = closure.descendant
    inner join own_value on own_value.unit_code = closure.descendant
    where closure.registry_version = :registry_version
    group by closure.ancestor, own_value.indicator_code
)

select unit_code, indicator_code, number, reporting_units
from rolled_up
