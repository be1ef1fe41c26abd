-- Every letter of a kind for a period and version (0 for letters without one), oldest first:
-- the plan takes each fingerprint's latest state, and a sent one for good.
select fingerprint, state
from outbox_message
where kind = :kind and period = :period and coalesce(version, 0) = :version
order by queued_at, id
