-- Whose version this is, and of which period.
select unit_code, period
from submission
where id = :id
