update publication
set published_at = :published_at
where period = :period and version = :version
