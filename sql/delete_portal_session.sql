-- A visit that signs out, and every visit past its time.
delete from portal_session
where token_sha256 = :token_sha256 or expires_at <= :now
