insert into unit_closure (registry_version, ancestor, descendant, depth)
values (:registry_version, :ancestor, :descendant, :depth)
