-- Where every ended unit's figures continue (SPEC §1), oldest change first.
select code, successor_code, share, effective, registry_version
from unit_successor
order by effective, code, successor_code
