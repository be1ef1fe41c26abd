-- Upgrade of a PostgreSQL database from before longer periods: a span such as `2021Q2-2023Q2`
-- is 13 characters (SQLite keeps any length in a varchar).
alter table publication alter column period type varchar(16);
alter table published_value alter column period type varchar(16);
alter table published_status alter column period type varchar(16);
alter table publication_input alter column period type varchar(16);
alter table outbox_message alter column period type varchar(16)
