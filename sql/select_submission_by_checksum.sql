-- The version a unit's file with these bytes was recorded as, if it was.
select id, period
from submission
where unit_code = :unit_code and sha256 = :sha256
