-- A visit that has just signed in (by a unit's link or an operator's password).
insert into portal_session (
    token_sha256, unit_code, link_id, operator, csrf, created_at, expires_at
)
values (:token_sha256, :unit_code, :link_id, :operator, :csrf, :created_at, :expires_at)
