-- Upgrade of a database created before submissions arrived by e-mail: every stored file came
-- from the folder inbox, which has no sender.
alter table submission add column sender text
