-- Every problem of every version received for the period, in the order each was found.
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
where submission.period = :period
order by problem.submission_id, problem.seq
