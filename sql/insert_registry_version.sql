insert into registry_version (number, effective_from, imported_at, file_name)
values (:number, :effective_from, :imported_at, :file_name)
