{#- The one definition of an active unit (SPEC §1: a unit counts in a period when it is active on
    the period's last day; a blank date is open), in the registry version in force on that day,
    for any alias of the `unit` table: `{% from "is_active.sql" import is_active %}` then
    `where {{ is_active("unit") }}`. -#}
{% macro is_active(unit) -%}
{{ unit }}.registry_version = :registry_version
      and ({{ unit }}.valid_from is null or {{ unit }}.valid_from <= :last_day)
      and ({{ unit }}.valid_to is null or {{ unit }}.valid_to >= :last_day)
{%- endmacro %}
