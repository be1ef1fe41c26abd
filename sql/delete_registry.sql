-- The registry file is the whole truth: re-importing replaces units and closure in one transaction.
delete from unit_closure;
delete from unit
