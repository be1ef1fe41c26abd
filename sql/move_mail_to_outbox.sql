-- A database from before the outbox: its reminders and report deliveries become outbox rows of
-- their kind (each row ended when it was recorded), then the old tables go.
insert into outbox_message (
    id, kind, period, version, about_code, recipient, fingerprint, state, attempts, error,
    queued_at, ended_at
)
select
    'reminder-' || fingerprint || '-' || cast(row_number() over (order by sent_at) as varchar(20)),
    'reminder', period, null, parent_code, recipient, fingerprint, outcome, attempts, error,
    sent_at, sent_at
from reminder;

insert into outbox_message (
    id, kind, period, version, about_code, recipient, fingerprint, state, attempts, error,
    queued_at, ended_at
)
select
    'report-' || fingerprint || '-' || cast(row_number() over (order by sent_at) as varchar(20)),
    'report', period, version, unit_code, recipient, fingerprint, outcome, attempts, error,
    sent_at, sent_at
from report_delivery;

drop table reminder;

drop table report_delivery
