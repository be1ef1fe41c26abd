-- Texts of each active unit's counted submission, in hierarchy order, with the ancestors that
-- collect them: the subtree's texts are listed under every ancestor.
{% from "is_active.sql" import is_active %}
with active_unit as (
    select code, name, position
    from unit
    where {{ is_active("unit") }}
),

own_text as (
    select counted.unit_code, value.indicator_code, value.text_value
    from counted_submission as counted
    inner join submission_value as value on value.submission_id = counted.id
    where counted.period = :period
      and value.text_value is not null
)

select
    closure.ancestor as ancestor_code,
    own_text.unit_code,
    author.name as unit_name,
    own_text.indicator_code,
    own_text.text_value as text
from unit_closure as closure
inner join active_unit as ancestor on ancestor.code = closure.ancestor
inner join active_unit as author on author.code = closure.descendant
inner join own_text on own_text.unit_code = closure.descendant
where closure.registry_version = :registry_version
order by closure.ancestor, own_text.indicator_code, author.position
