select code, name, parent_code, kind, sector, valid_from, valid_to, email, position, level
from unit
where registry_version = :registry_version
order by position
