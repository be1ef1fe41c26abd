-- Upgrade of a database created before versions were ordered by arrival: the stored versions
-- are numbered in the order they were processed, then received.
alter table submission add column arrival bigint;

update submission
set arrival = ranked.arrival
from (
    select
        id,
        row_number() over (order by processed_at, received_at, file_name, id) as arrival
    from submission
) as ranked
where ranked.id = submission.id
