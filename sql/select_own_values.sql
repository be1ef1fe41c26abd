-- Each unit's own figures and texts in each quarter of a period (first to last quarter): the
-- values of its counted submission (SPEC §5), which a longer period combines (SPEC §2). Quarters
-- written `2025Q4` sort as text.
select
    counted.unit_code,
    counted.period,
    value.indicator_code,
    value.number,
    value.text_value as text
from counted_submission as counted
inner join submission_value as value on value.submission_id = counted.id
where counted.period >= :first_quarter
  and counted.period <= :last_quarter
  and counted.period like '____Q_'
  and (value.number is not null or value.text_value is not null)
