insert into inbox_file (unit_code, file_name, size_bytes, mtime_ns, sha256)
values (:folder, :file_name, :size_bytes, :mtime_ns, :sha256)
on conflict (unit_code, file_name) do update set
    size_bytes = excluded.size_bytes,
    mtime_ns = excluded.mtime_ns,
    sha256 = excluded.sha256
