-- Every version a unit sent for a period, oldest first, marking the one that counts.
select
    submission.id,
    submission.file_name,
    submission.raw_file_name,
    submission.sha256,
    submission.size_bytes,
    submission.received_at,
    submission.archive_path,
    submission.declared_unit_code,
    submission.declared_period,
    submission.outcome,
    submission.error_count,
    submission.warning_count,
    submission.processed_at,
    case when counted.id is null then 0 else 1 end as counts
from submission
left join counted_submission as counted on counted.id = submission.id
where submission.unit_code = :unit_code and submission.period = :period
order by submission.arrival
