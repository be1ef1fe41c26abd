-- The fingerprints of the period's reminders that reached their recipient: never sent twice.
select distinct fingerprint
from reminder
where period = :period and outcome = 'sent'
