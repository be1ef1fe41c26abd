-- How a letter whose intent was recorded ended.
update outbox_message
set state = :state, attempts = :attempts, error = :error, ended_at = :ended_at
where id = :id
