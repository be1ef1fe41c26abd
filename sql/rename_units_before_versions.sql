-- Upgrade of a database from before registry versions (one registry, replaced at each import):
-- its tables step aside for the versioned ones of create_schema.sql, which
-- move_units_to_versions.sql then fills as version 1, in force from the beginning.
alter table unit rename to unit_before_versions;
alter table unit_closure rename to unit_closure_before_versions
