insert into publication_input (period, version, signature)
values (:period, :version, :signature)
on conflict (period, version) do update set signature = excluded.signature
