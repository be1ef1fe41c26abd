-- Periods the database already holds submissions or publications for.
select period from submission
union
select period from publication
