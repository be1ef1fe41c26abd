-- The values that count for a unit in a period: those of its latest accepted version.
select
    submission_value.indicator_code,
    submission_value.number,
    submission_value.text_value as text
from counted_submission as counted
inner join submission_value on submission_value.submission_id = counted.id
where counted.unit_code = :unit_code and counted.period = :period
