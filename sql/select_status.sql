-- One row per unit expected in the period (SPEC §7 status): the version that counts is the latest
-- accepted one; a unit is rejected only when none of its versions was accepted.
with active_unit as (
    select code, position
    from unit
    where (valid_from is null or valid_from <= :last_day)
      and (valid_to is null or valid_to >= :last_day)
),

latest_received as (
    select id, unit_code
    from (
        select
            id,
            unit_code,
            row_number() over (
                partition by unit_code order by received_at desc, id desc
            ) as recency
        from submission
        where period = :period
    ) as ranked
    where recency = 1
),

first_accepted as (
    select unit_code, min(received_at) as received_at
    from submission
    where period = :period
      and outcome in ('accepted', 'accepted_with_warnings')
    group by unit_code
),

shown as (
    -- the counted version when there is one, else the latest received
    select
        active_unit.code as unit_code,
        coalesce(counted.id, latest_received.id) as submission_id
    from active_unit
    left join counted_submission as counted
        on counted.unit_code = active_unit.code and counted.period = :period
    left join latest_received on latest_received.unit_code = active_unit.code
)

select
    shown.unit_code,
    coalesce(submission.outcome, 'missing') as status,
    case
        when first_accepted.received_at is null then null
        when first_accepted.received_at < :deadline_end then 1
        else 0
    end as on_time,
    submission.received_at,
    submission.file_name,
    coalesce(submission.error_count, 0) as errors,
    coalesce(submission.warning_count, 0) as warnings
from shown
inner join active_unit on active_unit.code = shown.unit_code
left join submission on submission.id = shown.submission_id
left join first_accepted on first_accepted.unit_code = shown.unit_code
order by active_unit.position
