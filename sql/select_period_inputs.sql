-- What a period's consolidation is computed from, in a few figures: submissions are only ever
-- added (never changed or deleted), and every registry import is recorded, so when these have
-- not moved, consolidating again would give the same figures and statuses.
select
    (select count(*) from submission where period = :period) as submissions,
    (select max(imported_at) from registry_import) as registry_imported_at
