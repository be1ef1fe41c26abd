insert into mail_message (
    id, sha256, period, message_id, sender, subject, received_at, size_bytes, archive_path,
    disposition, form_count, refusal, processed_at
)
values (
    :id, :sha256, :period, :message_id, :sender, :subject, :received_at, :size_bytes,
    :archive_path, :disposition, :form_count, :refusal, :processed_at
)
