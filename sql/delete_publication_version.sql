-- A version that was never completely published is replaced, never kept beside its successor.
delete from published_value where period = :period and version = :version;

delete from published_status where period = :period and version = :version;

delete from publication where period = :period and version = :version
