-- A successor link as the latest successor CSV gives it (a link given again replaces the old).
delete from unit_successor where code = :code and successor_code = :successor_code;
insert into unit_successor (code, successor_code, share, effective, registry_version)
values (:code, :successor_code, :share, :effective, :registry_version)
