"""Who a visitor of the portal is: units by a personal link carrying a long random secret,
operators by a password; a visit that signed in by either holds a random session token in a
cookie. The database keeps only SHA-256 digests of link secrets and tokens (they are random and
long: a slow password hash would add nothing), and argon2 hashes of operators' passwords. Too
many wrong links or passwords from one address are refused for a while."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, text

from tonghop.storage import load_sql

# 32 random bytes: 43 characters in a URL, far beyond guessing.
SECRET_BYTES = 32
LINK_PATH = "/u/"

_hasher = PasswordHasher()


@cache
def _unknown_user_hash() -> str:
    """Checked when the user name is unknown, so that a wrong name takes as long as a wrong
    password; made on first use, not when the module is imported (every run imports it)."""
    return _hasher.hash(secrets.token_urlsafe(16))


def digest(secret: str) -> str:
    """The SHA-256 of a secret or token, as the database keeps it."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Link:
    """A unit's working personal link (its secret is known only to whoever received it)."""

    id: str
    unit_code: str
    created_at: datetime
    expires_at: datetime


def link_url(base_url: str, secret: str) -> str:
    """The address a unit opens: `<public base URL>/u/<secret>`."""
    return f"{base_url.rstrip('/')}{LINK_PATH}{secret}"


def link_secret(key: bytes, link_id: str) -> str:
    """The secret of a link: an HMAC of its id under the portal's key (43 characters). The
    database keeps its SHA-256 alone, so a copy of the database opens nothing, while whoever
    holds the key can give a unit its link again (in each form letter, `tonghop web links`)."""
    mac = hmac.new(key, link_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def issue_links(
    connection: Connection, unit_codes: Sequence[str], now: datetime, days: int, key: bytes
) -> dict[str, str]:
    """A new link for each unit, revoking the ones it had: the secrets, by unit code."""
    if not unit_codes:
        return {}
    revoke_links(connection, unit_codes, now)
    rows = [
        {
            "id": uuid.uuid4().hex,
            "unit_code": code,
            "created_at": now,
            "expires_at": now + timedelta(days=days),
        }
        for code in unit_codes
    ]
    for row in rows:
        row["secret_sha256"] = digest(link_secret(key, row["id"]))
    connection.execute(text(load_sql("insert_portal_link")), rows)
    return {row["unit_code"]: link_secret(key, row["id"]) for row in rows}


def revoke_links(connection: Connection, unit_codes: Sequence[str], now: datetime) -> None:
    """The units' links stop working now, and so do the visits opened with them."""
    if unit_codes:
        connection.execute(
            text(load_sql("revoke_portal_links")),
            [{"unit_code": code, "now": now} for code in unit_codes],
        )


def working_secrets(connection: Connection, now: datetime, key: bytes) -> dict[str, str]:
    """Each unit's working link's secret, by unit code, for the links made under `key` (a link
    made under another key, or before links were derived, cannot be given again)."""
    found = {}
    for row in connection.execute(text(load_sql("select_portal_links")), {"now": now}):
        secret = link_secret(key, row.id)
        if hmac.compare_digest(digest(secret), row.secret_sha256.strip()):
            found[row.unit_code] = secret
    return found


def find_link(connection: Connection, secret: str, now: datetime) -> Link | None:
    """The working link with this secret; None for a wrong, revoked or expired one alike."""
    row = connection.execute(
        text(load_sql("select_portal_link")), {"secret_sha256": digest(secret), "now": now}
    ).first()
    if row is None:
        return None
    return Link(row.id, row.unit_code, _moment(row.created_at), _moment(row.expires_at))


@dataclass(frozen=True)
class Visitor:
    """Who is signed in: a unit (by its link) or an operator; `csrf` is the token each form of
    the visit carries back."""

    unit_code: str | None
    operator: str | None
    csrf: str

    @property
    def is_operator(self) -> bool:
        return self.operator is not None


def open_session(
    connection: Connection,
    now: datetime,
    hours: float,
    *,
    link: Link | None = None,
    operator: str | None = None,
) -> tuple[str, Visitor]:
    """A new visit for a unit's link or an operator: its token (for the cookie) and visitor."""
    token = secrets.token_urlsafe(SECRET_BYTES)
    visitor = Visitor(
        unit_code=link.unit_code if link else None,
        operator=operator,
        csrf=secrets.token_hex(32),
    )
    connection.execute(
        text(load_sql("insert_portal_session")),
        {
            "token_sha256": digest(token),
            "unit_code": visitor.unit_code,
            "link_id": link.id if link else None,
            "operator": operator,
            "csrf": visitor.csrf,
            "created_at": now,
            "expires_at": now + timedelta(hours=hours),
        },
    )
    return token, visitor


def find_session(connection: Connection, token: str, now: datetime) -> Visitor | None:
    """The visitor of a session token, while the visit lasts and its link works."""
    row = connection.execute(
        text(load_sql("select_portal_session")), {"token_sha256": digest(token), "now": now}
    ).first()
    if row is None:
        return None
    return Visitor(unit_code=row.unit_code, operator=row.operator, csrf=row.csrf.strip())


def close_session(connection: Connection, token: str, now: datetime) -> None:
    """End a visit (and forget every visit past its time)."""
    connection.execute(
        text(load_sql("delete_portal_session")), {"token_sha256": digest(token), "now": now}
    )


def hash_password(password: str) -> str:
    """The argon2 hash of an operator's password, for TONGHOP_WEB_OPERATORS."""
    return _hasher.hash(password)


def check_password(operators: Mapping[str, str], user: str, password: str) -> bool:
    """Whether `password` is the operator's; an unknown name costs the same time as a known one."""
    stored = operators.get(user)
    try:
        return _hasher.verify(stored or _unknown_user_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


class AttemptLimiter:
    """At most `per_minute` failed attempts (wrong link or password) per client address in any
    minute; past that, every attempt from the address is refused until the minute has passed.
    Kept in the process: one portal process serves the province (README, running it)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float]:
        failures = self._failures[client]
        while failures and failures[0] <= now - 60:
            failures.popleft()
        return failures

    def blocked(self, client: str, now: float | None = None) -> bool:
        """Whether the address has used up its attempts for now."""
        with self._lock:
            return len(self._recent(client, now or time.monotonic())) >= self.per_minute

    def failed(self, client: str, now: float | None = None) -> None:
        """Count a failed attempt of the address."""
        with self._lock:
            moment = now or time.monotonic()
            self._recent(client, moment).append(moment)


def _moment(value: object) -> datetime:
    # SQLite gives timestamps back as text.
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
