-- Problems of each unit's latest received version in the period: what the unit has to fix now.
select
    latest_received.unit_code,
    latest_received.submission_number,
    latest_received.file_name,
    latest_received.received_at,
    problem.rule,
    problem.severity,
    problem.indicator_code,
    problem.row_number,
    problem.message
from latest_submission as latest_received
inner join problem on problem.submission_id = latest_received.id
where latest_received.period = :period
order by latest_received.unit_code, problem.seq
