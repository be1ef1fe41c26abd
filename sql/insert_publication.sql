insert into publication (period, version, fingerprint, created_at, published_at)
values (:period, :version, :fingerprint, :created_at, null)
