-- Every unit and quarter with an accepted submission: what a registry import checks the new
-- registry against, so that no accepted figures stop counting in a quarter it governs.
select distinct unit_code, period
from submission
where outcome in ('accepted', 'accepted_with_warnings')
  and period like '____Q_'
order by unit_code, period
