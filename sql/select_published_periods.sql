-- Every period with a published version: the longer periods among them are published again
-- when a quarter inside them changes.
select distinct period
from publication
where published_at is not null
