-- 1 when the unit is the ancestor itself or lies below it.
select count(*) as below
from unit_closure
where ancestor = :ancestor and descendant = :unit_code
