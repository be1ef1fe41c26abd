select
    published_status.unit_code,
    published_status.status,
    published_status.on_time,
    published_status.submission_id,
    published_status.received_at,
    published_status.file_name,
    published_status.errors,
    published_status.warnings,
    published_status.quarters
from published_status
left join unit
    on unit.code = published_status.unit_code and unit.registry_version = :registry_version
where published_status.period = :period and published_status.version = :version
order by unit.position, published_status.unit_code
