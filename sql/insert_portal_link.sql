-- A unit's new personal link (only the SHA-256 of its secret).
insert into portal_link (id, unit_code, secret_sha256, created_at, expires_at, revoked_at)
values (:id, :unit_code, :secret_sha256, :created_at, :expires_at, null)
