insert into unit_closure (ancestor, descendant, depth) values (:ancestor, :descendant, :depth)
