-- Each unit below the given unit with the direct child of it that it lies under (a child is
-- under itself): a subtree's progress is counted per child with one join.
with child as (
    select code
    from unit
    where registry_version = :registry_version and parent_code = :unit_code
),

final as (
    select
        closure.ancestor as child_code,
        closure.descendant as unit_code
    from unit_closure as closure
    inner join child on child.code = closure.ancestor
    where closure.registry_version = :registry_version
)

select * from final
