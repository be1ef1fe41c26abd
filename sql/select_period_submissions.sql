-- How many files were received for the quarters of a period (first to last quarter): with the
-- registry versions and successor links, what a longer period is computed from.
select count(*) as submissions
from submission
where period >= :first_quarter and period <= :last_quarter and period like '____Q_'
