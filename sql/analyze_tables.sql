-- Fresh planner statistics for the tables every roll-up joins, after a bulk change to them (a
-- registry import, a collection). Without them SQLite takes the closure of a registry version
-- for a handful of rows and nests a scan of every counted submission inside it: a roll-up of
-- 20,000 units then ran for many minutes instead of seconds.
analyze unit;
analyze unit_closure;
analyze submission;
analyze submission_value;
