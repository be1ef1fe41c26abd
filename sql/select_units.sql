select code, name, parent_code, kind, sector, valid_from, valid_to, email, position, level
from unit
order by position
