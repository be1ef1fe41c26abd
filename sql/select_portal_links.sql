-- Each unit's working link, if any: its id and digest (a link is derived from its id), when it
-- was made and until when it works.
select id, unit_code, secret_sha256, created_at, expires_at
from portal_link
where revoked_at is null and expires_at > :now
