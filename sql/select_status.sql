-- One row per unit expected in the period (SPEC §7 status): the version that counts is the latest
-- accepted one; a unit is rejected only when none of its versions was accepted.
with active_unit as (
    select code, position
    from unit
    where (valid_from is null or valid_from <= :last_day)
      and (valid_to is null or valid_to >= :last_day)
),

shown as (
    -- the counted version when there is one, else the latest received
    select
        active_unit.code as unit_code,
        coalesce(counted.id, latest_received.id) as submission_id
    from active_unit
    left join counted_submission as counted
        on counted.unit_code = active_unit.code and counted.period = :period
    left join latest_submission as latest_received
        on latest_received.unit_code = active_unit.code and latest_received.period = :period
)

select
    shown.unit_code,
    coalesce(submission.outcome, 'missing') as status,
    case
        when first_accepted.received_at is null then null
        when first_accepted.received_at < :deadline_end then 1
        else 0
    end as on_time,
    shown.submission_id,
    submission.received_at,
    submission.file_name,
    coalesce(submission.error_count, 0) as errors,
    coalesce(submission.warning_count, 0) as warnings
from shown
inner join active_unit on active_unit.code = shown.unit_code
left join submission on submission.id = shown.submission_id
left join first_accepted_submission as first_accepted
    on first_accepted.unit_code = shown.unit_code and first_accepted.period = :period
order by active_unit.position
