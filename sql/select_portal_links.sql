-- Each unit's working link, if any: when it was made and until when it works.
select unit_code, created_at, expires_at
from portal_link
where revoked_at is null and expires_at > :now
