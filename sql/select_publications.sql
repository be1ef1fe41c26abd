-- Every version of a period's publication, oldest first.
select version, fingerprint, created_at, published_at
from publication
where period = :period
order by version
