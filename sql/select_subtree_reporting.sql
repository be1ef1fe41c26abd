-- Per active unit, the counts behind completeness, timeliness and the grassroots online share:
-- units expected in its subtree (itself included), those with an accepted submission, those whose
-- first accepted submission arrived by the deadline, and its grassroots organisations that
-- reported sessions and that held at least one online or hybrid session.
{% from "is_active.sql" import is_active %}
with active_unit as (
    select code, kind
    from unit
    where {{ is_active("unit") }}
),

grassroots_sessions as (
    -- each grassroots organisation's whole-subtree session counts
    select
        organisation.code,
        sum(case when value.indicator_code = 'sessions_total' then 1 else 0 end) as reported,
        sum(
            case
                when value.indicator_code in ('sessions_online', 'sessions_hybrid')
                    then value.number
                else 0
            end
        ) as online_sessions
    from active_unit as organisation
    inner join unit_closure as closure
        on closure.ancestor = organisation.code and closure.registry_version = :registry_version
    inner join active_unit as descendant on descendant.code = closure.descendant
    inner join counted_submission as counted
        on counted.unit_code = closure.descendant and counted.period = :period
    inner join submission_value as value
        on value.submission_id = counted.id and value.number is not null
    where organisation.kind in ('grassroots_committee', 'grassroots_cell')
    group by organisation.code
),

per_descendant as (
    select
        closure.ancestor as unit_code,
        1 as expected,
        case when first_accepted.unit_code is not null then 1 else 0 end as accepted,
        case when first_accepted.received_at < :deadline_end then 1 else 0 end as on_time,
        case when grassroots_sessions.reported > 0 then 1 else 0 end as grassroots_reporting,
        case
            when grassroots_sessions.reported > 0 and grassroots_sessions.online_sessions > 0
                then 1
            else 0
        end as grassroots_online
    from unit_closure as closure
    inner join active_unit as ancestor on ancestor.code = closure.ancestor
    inner join active_unit as descendant on descendant.code = closure.descendant
    left join first_accepted_submission as first_accepted
        on first_accepted.unit_code = closure.descendant and first_accepted.period = :period
    left join grassroots_sessions on grassroots_sessions.code = closure.descendant
    where closure.registry_version = :registry_version
)

select
    unit_code,
    sum(expected) as expected_units,
    sum(accepted) as accepted_units,
    sum(on_time) as on_time_units,
    sum(grassroots_reporting) as grassroots_reporting,
    sum(grassroots_online) as grassroots_online
from per_descendant
group by unit_code
