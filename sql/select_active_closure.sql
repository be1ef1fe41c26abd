-- Every (ancestor, descendant) pair of the units active on the last day given, in the registry
-- version in force then, each unit with itself: what a roll-up computed outside the database sums.
{% from "is_active.sql" import is_active %}
with active_unit as (
    select code
    from unit
    where {{ is_active("unit") }}
)

select closure.ancestor, closure.descendant
from unit_closure as closure
inner join active_unit as ancestor on ancestor.code = closure.ancestor
inner join active_unit as descendant on descendant.code = closure.descendant
where closure.registry_version = :registry_version
