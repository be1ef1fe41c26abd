insert into published_status (
    period, version, unit_code, status, on_time, submission_id, received_at, file_name, errors,
    warnings, quarters
)
values (
    :period, :version, :unit_code, :status, :on_time, :submission_id, :received_at, :file_name,
    :errors, :warnings, :quarters
)
