-- The link whose secret has this SHA-256, if it still works.
select id, unit_code, created_at, expires_at
from portal_link
where secret_sha256 = :secret_sha256 and revoked_at is null and expires_at > :now
