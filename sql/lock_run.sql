-- PostgreSQL only: a session lock the server releases by itself when the holder's connection
-- ends, even when its process is killed.
select pg_try_advisory_lock(:key)
