insert into unit (code, name, parent_code, kind, sector, valid_from, valid_to, email, position, level)
values (
    :code, :name, :parent_code, :kind, :sector, :valid_from, :valid_to, :email, :position, :level
)
