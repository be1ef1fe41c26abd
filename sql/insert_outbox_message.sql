-- One letter of the outbox: its intent before it is sent (state 'sending'), or a letter that
-- ended without an attempt.
insert into outbox_message (
    id, kind, period, version, about_code, recipient, fingerprint, state, attempts, error,
    queued_at, ended_at
)
values (
    :id, :kind, :period, :version, :about_code, :recipient, :fingerprint, :state, :attempts,
    :error, :queued_at, :ended_at
)
