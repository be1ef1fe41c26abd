insert into unit (
    registry_version, code, name, parent_code, kind, sector, valid_from, valid_to, email,
    position, level
)
values (
    :registry_version, :code, :name, :parent_code, :kind, :sector, :valid_from, :valid_to, :email,
    :position, :level
)
