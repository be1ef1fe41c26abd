-- Upgrade of a database from before longer periods: a quarter's statuses have no quarters.
alter table published_status add column quarters text
