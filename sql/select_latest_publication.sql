-- The newest version of a period's publication, if any.
select version, fingerprint, created_at, published_at
from publication
where period = :period
order by version desc
limit 1
