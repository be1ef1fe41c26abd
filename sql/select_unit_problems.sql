-- Every problem of every version a unit sent for a period.
select
    problem.submission_id,
    problem.seq,
    problem.rule,
    problem.severity,
    problem.indicator_code,
    problem.row_number,
    problem.message
from problem
inner join submission on submission.id = problem.submission_id
where submission.unit_code = :unit_code and submission.period = :period
order by problem.submission_id, problem.seq
