select unit_code as folder, file_name, size_bytes, mtime_ns, sha256 from inbox_file
