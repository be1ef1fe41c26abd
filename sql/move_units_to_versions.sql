-- The registry of a database from before registry versions becomes version 1, in force from the
-- beginning, as it was.
insert into registry_version (number, effective_from, imported_at, file_name)
select 1, null, coalesce(max(imported_at), current_timestamp), null
from registry_import
where exists (select 1 from unit_before_versions);

insert into unit (
    registry_version, code, name, parent_code, kind, sector, valid_from, valid_to, email,
    position, level
)
select 1, code, name, parent_code, kind, sector, valid_from, valid_to, email, position, level
from unit_before_versions;

insert into unit_closure (registry_version, ancestor, descendant, depth)
select 1, ancestor, descendant, depth
from unit_closure_before_versions;

drop table unit_closure_before_versions;

drop table unit_before_versions
