-- Problems of each unit's latest received version in the period: what the unit has to fix now.
with latest_received as (
    select id, unit_code, file_name, received_at
    from (
        select
            id,
            unit_code,
            file_name,
            received_at,
            row_number() over (
                partition by unit_code order by received_at desc, id desc
            ) as recency
        from submission
        where period = :period
    ) as ranked
    where recency = 1
)

select
    latest_received.unit_code,
    latest_received.file_name,
    latest_received.received_at,
    problem.rule,
    problem.severity,
    problem.indicator_code,
    problem.row_number,
    problem.message
from latest_received
inner join problem on problem.submission_id = latest_received.id
order by latest_received.unit_code, problem.seq
