-- How many figures and texts one version holds: a version built on it by a delta holds as many,
-- less the rows the delta replaces, plus its own.
select count(*) as value_count
from published_value
where period = :period and version = :version
