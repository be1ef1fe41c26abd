-- Each unit's members in its latest accepted submission of the most recent earlier quarter in
-- which it has one: the figure rule O1 compares this period's members with. Quarters written
-- `2025Q4` sort as text; the pattern keeps half-years and years out of the comparison.
with earlier_period as (
    select unit_code, max(period) as period
    from counted_submission
    where period < :period and period like '____Q_'
    group by unit_code
),

earlier_submission as (
    select counted.id, counted.unit_code, counted.period
    from counted_submission as counted
    inner join earlier_period
        on earlier_period.unit_code = counted.unit_code
        and earlier_period.period = counted.period
)

select
    earlier_submission.unit_code,
    earlier_submission.period,
    value.number as members
from earlier_submission
inner join submission_value as value
    on value.submission_id = earlier_submission.id and value.indicator_code = 'members'
where value.number is not null
order by earlier_submission.unit_code
