-- 1 when the unit is the ancestor itself or lies below it.
select count(*) as below
from unit_closure
where registry_version = :registry_version
  and ancestor = :ancestor
  and descendant = :unit_code
