-- A new version's figures of every unit whose subtree did not move, copied inside the database
-- from the published version it is built on (tonghop/incremental.py computes the others).
insert into published_value (period, version, unit_code, indicator_code, number, text_value)
select period, :version, unit_code, indicator_code, number, text_value
from published_value
where period = :period
    and version = :base_version
    and unit_code not in :moved_units
