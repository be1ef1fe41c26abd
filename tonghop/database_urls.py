"""Database URLs with the session limits the settings choose, and the same URLs without them.

The limits travel inside a PostgreSQL URL as libpq's own parameters (`connect_timeout`, and
`options=-c statement_timeout=…`): tasks receive the database as a URL, in this process, in
Prefect's process pool or on a Dask worker, and every connection made from that URL — the
storage engine's and the run lock's alike — gets them with nothing else passed along. The
database a URL names (for the run lock's key and for messages) is the same with or without
them."""

from __future__ import annotations

import re

from sqlalchemy.engine import URL, make_url

# A statement_timeout among libpq's startup options, in any spelling the server accepts
# (`-c statement_timeout=5s`, `-cstatement_timeout=5s`, `--statement-timeout=5s`).
_STATEMENT_TIMEOUT = re.compile(r"(?:^|\s)(?:-c\s*|--)statement[_-]timeout=\S*")


def with_session_limits(
    url: str, connect_timeout_seconds: int, statement_timeout_seconds: float
) -> str:
    """The URL with a connect timeout and a statement timeout when it is PostgreSQL's and the
    operator did not set them in it; 0 adds no limit. Other URLs are returned unchanged."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return url
    query = dict(parsed.query)
    if connect_timeout_seconds > 0 and "connect_timeout" not in query:
        query["connect_timeout"] = str(connect_timeout_seconds)
    options = query.get("options", "")
    # A repeated `options` (a tuple) is the operator's to sort out; it is left as it is.
    if (
        statement_timeout_seconds > 0
        and isinstance(options, str)
        and not _STATEMENT_TIMEOUT.search(options)
    ):
        milliseconds = max(1, round(statement_timeout_seconds * 1000))
        query["options"] = f"{options} -c statement_timeout={milliseconds}".strip()
    if query == dict(parsed.query):
        return url
    return parsed.set(query=query).render_as_string(hide_password=False)


def database_identity(url: str) -> str:
    """What names the database: the URL without the session limits (whoever set them), its
    other parameters in a fixed order, and the password hidden."""
    return _without_session_limits(make_url(url)).render_as_string(hide_password=True)


def _without_session_limits(parsed: URL) -> URL:
    query = dict(parsed.query)
    query.pop("connect_timeout", None)
    options = query.get("options")
    if isinstance(options, str):
        rest = " ".join(_STATEMENT_TIMEOUT.sub(" ", options).split())
        if rest:
            query["options"] = rest
        else:
            del query["options"]
    return parsed.set(query=dict(sorted(query.items())))
