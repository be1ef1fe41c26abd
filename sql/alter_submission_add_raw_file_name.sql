-- Upgrade of a database created before file names were kept losslessly: every stored name was
-- UTF-8, so none needs its bytes.
alter table submission add column raw_file_name text
