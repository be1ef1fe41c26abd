insert into submission (
    id, unit_code, period, file_name, raw_file_name, sha256, size_bytes, received_at, arrival,
    archive_path, declared_unit_code, declared_period, outcome, error_count, warning_count,
    processed_at, sender
)
values (
    :id, :unit_code, :period, :file_name, :raw_file_name, :sha256, :size_bytes, :received_at,
    :arrival, :archive_path, :declared_unit_code, :declared_period, :outcome, :error_count,
    :warning_count, :processed_at, :sender
)
