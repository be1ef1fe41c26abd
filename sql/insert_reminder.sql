-- One reminder e-mail as it ended: sent, or failed after its attempts (with the reason).
insert into reminder (
    period, parent_code, recipient, fingerprint, attempts, outcome, error, sent_at
)
values (
    :period, :parent_code, :recipient, :fingerprint, :attempts, :outcome, :error, :sent_at
)
