-- The fingerprints of a version's report e-mails that reached their unit: never sent twice.
select distinct fingerprint
from report_delivery
where period = :period and version = :version and outcome = 'sent'
