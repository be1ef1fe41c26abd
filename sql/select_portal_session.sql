-- The visit whose token has this SHA-256, while it lasts; a unit's visit ends with its link.
with visit as (
    select token_sha256, unit_code, link_id, operator, csrf
    from portal_session
    where token_sha256 = :token_sha256 and expires_at > :now
),

final as (
    select visit.*
    from visit
    left join portal_link as link on link.id = visit.link_id
    where
        visit.link_id is null
        or (link.revoked_at is null and link.expires_at > :now)
)

select * from final
