-- One row per unit expected in the period (SPEC §7 status): the version that counts is the latest
-- accepted one; a unit is rejected only when none of its versions was accepted. One pass over
-- the period's submissions: joining the counted/latest views here made SQLite re-rank them for
-- every unit (a minute at 20,000 units).
{% from "is_active.sql" import is_active %}
with period_submission as (
    select
        id,
        unit_code,
        outcome,
        received_at,
        file_name,
        error_count,
        warning_count,
        -- accepted versions first, latest to arrive first: rank 1 is the counted version when
        -- there is one, else the latest received
        row_number() over (
            partition by unit_code
            order by
                case when outcome in ('accepted', 'accepted_with_warnings') then 0 else 1 end,
                arrival desc
        ) as shown_rank,
        min(
            case when outcome in ('accepted', 'accepted_with_warnings') then received_at end
        ) over (partition by unit_code) as first_accepted_at
    from submission
    where period = :period
),

shown as (
    select *
    from period_submission
    where shown_rank = 1
),

final as (
    -- active units that sent something; joining `unit` itself (no CTE) lets SQLite look each
    -- up by its key instead of scanning a materialised list once per row
    select
        unit.position,
        unit.code as unit_code,
        shown.outcome as status,
        case
            when shown.first_accepted_at is null then null
            when shown.first_accepted_at < :deadline_end then 1
            else 0
        end as on_time,
        shown.id as submission_id,
        shown.received_at,
        shown.file_name,
        shown.error_count as errors,
        shown.warning_count as warnings
    from shown
    inner join unit on unit.code = shown.unit_code
    where {{ is_active("unit") }}

    union all

    -- active units that sent nothing
    select
        unit.position,
        unit.code as unit_code,
        'missing' as status,
        null as on_time,
        null as submission_id,
        null as received_at,
        null as file_name,
        0 as errors,
        0 as warnings
    from unit
    where {{ is_active("unit") }}
      and not exists (
          select 1
          from submission
          where submission.period = :period and submission.unit_code = unit.code
      )
)

select unit_code, status, on_time, submission_id, received_at, file_name, errors, warnings
from final
order by position
