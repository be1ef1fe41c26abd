-- One report e-mail as it ended: sent, or failed after its attempts (with the reason).
insert into report_delivery (
    period, version, unit_code, recipient, fingerprint, attempts, outcome, error, sent_at
)
values (
    :period, :version, :unit_code, :recipient, :fingerprint, :attempts, :outcome, :error, :sent_at
)
