-- The period's messages whose sender is owed an answer: something in them was not accepted.
select id, sha256, sender, subject, received_at, disposition, refusal
from mail_message
where period = :period and refusal is not null and sender is not null
order by received_at, id
