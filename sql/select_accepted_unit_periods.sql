-- Every unit and quarter with an accepted submission, beside the unit as the stored registry
-- has it (blank columns when the registry no longer has the unit): what a registry import
-- compares the new registry with, before it replaces the stored one, to tell which units it
-- removes or ends although their accepted figures would count in those periods.
with accepted as (
    select distinct unit_code, period
    from submission
    where outcome in ('accepted', 'accepted_with_warnings')
      and period like '____Q_'
)

select
    accepted.unit_code,
    accepted.period,
    unit.code,
    unit.name,
    unit.parent_code,
    unit.kind,
    unit.sector,
    unit.valid_from,
    unit.valid_to,
    unit.email
from accepted
left join unit on unit.code = accepted.unit_code
order by accepted.unit_code, accepted.period
