"""The units' personal links: the portal's key they are derived from, and handing them out — to
`tonghop web links` (one `unit_code,url` line per unit, a CSV for mail merge on demand) and to
the blank-form letters, which carry each unit's link. A unit keeps its link until the operator
rotates or revokes it; a link is made the first time one is asked for."""

from __future__ import annotations

import csv
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from tonghop.layout import write_atomically
from tonghop.portal.access import issue_links, link_url, revoke_links, working_secrets
from tonghop.registry import Unit
from tonghop.storage import transaction

LINKS_CSV_HEADER = ("ma_don_vi", "ten_don_vi", "email", "lien_ket")


@dataclass(frozen=True)
class IssuedLink:
    unit: Unit
    url: str


def portal_key(configured: str | None, key_file: Path) -> bytes:
    """The key the links are derived from: the configured one (TONGHOP_WEB_SECRET_KEY), else the
    workspace's key file, made on first use readable by its owner alone."""
    if configured:
        return configured.encode()
    try:
        return key_file.read_bytes().strip()
    except FileNotFoundError:
        pass
    key_file.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return key_file.read_bytes().strip()
    key = secrets.token_hex(32).encode()
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key)
        handle.flush()
        os.fsync(handle.fileno())
    return key


def hand_out_links(
    database_url: str,
    units: Sequence[Unit],
    base_url: str,
    now: datetime,
    days: int,
    key: bytes,
    *,
    rotate: bool = False,
) -> list[IssuedLink]:
    """Each unit's link, in the order given: the one it has, or a new one when it has none
    working (for every unit with `rotate`, revoking the old)."""
    codes = [unit.code for unit in units]
    with transaction(database_url) as connection:
        working = {} if rotate else working_secrets(connection, now, key)
        due = [code for code in codes if code not in working]
        secrets_by_code = working | issue_links(connection, due, now, days, key)
    return [IssuedLink(unit, link_url(base_url, secrets_by_code[unit.code])) for unit in units]


def revoke_unit_links(database_url: str, unit_codes: Sequence[str], now: datetime) -> None:
    """The units' links stop working (and every visit opened with them ends)."""
    with transaction(database_url) as connection:
        revoke_links(connection, unit_codes, now)


def write_links_csv(path: Path, issued: Sequence[IssuedLink]) -> None:
    """The links as a CSV Excel opens as UTF-8 (with its byte-order mark), for mail merge."""

    def write(temp: Path) -> None:
        with temp.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(LINKS_CSV_HEADER)
            for link in issued:
                writer.writerow((link.unit.code, link.unit.name, link.unit.email or "", link.url))

    write_atomically(path, write)
    # Anyone who reads this file can open the units' pages.
    path.chmod(0o600)
