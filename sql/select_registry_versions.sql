-- Every registry version: when each comes into force and when it was imported.
select number, effective_from, imported_at, file_name
from registry_version
order by number
