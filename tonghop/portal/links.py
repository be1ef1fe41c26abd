"""Handing out the units' personal links (`tonghop web links`): a new link for each unit that
has none working (or for the units named, replacing theirs), and a CSV the operator can mail
merge or print, since the database keeps no secret and cannot show a link again."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from tonghop.layout import write_atomically
from tonghop.portal.access import issue_links, link_url, revoke_links, working_links
from tonghop.registry import Unit
from tonghop.storage import transaction

LINKS_CSV_HEADER = ("ma_don_vi", "ten_don_vi", "email", "lien_ket", "het_han")


@dataclass(frozen=True)
class IssuedLink:
    unit: Unit
    url: str
    expires_at: datetime


def portal_base_url(public_url: str | None, host: str, port: int) -> str:
    """The address units open: the public one behind the reverse proxy, else where
    `tonghop web` listens."""
    return (public_url or f"http://{host}:{port}").rstrip("/")


def hand_out_links(
    database_url: str,
    units: Sequence[Unit],
    base_url: str,
    now: datetime,
    days: int,
    *,
    only: Sequence[str] = (),
    rotate: bool = False,
) -> list[IssuedLink]:
    """New links for the units active today (or the units `only` names) that have no working
    link, or for all of them with `rotate`; registry order."""
    chosen = (
        [unit for unit in units if unit.code in only]
        if only
        else [unit for unit in units if unit.active_on(now.date())]
    )
    with transaction(database_url) as connection:
        working = working_links(connection, now)
        due = [unit for unit in chosen if rotate or unit.code not in working]
        secrets = issue_links(connection, [unit.code for unit in due], now, days)
    expires = now + timedelta(days=days)
    return [IssuedLink(unit, link_url(base_url, secrets[unit.code]), expires) for unit in due]


def revoke_unit_links(database_url: str, unit_codes: Sequence[str], now: datetime) -> None:
    """The units' links stop working (and every visit opened with them ends)."""
    with transaction(database_url) as connection:
        revoke_links(connection, unit_codes, now)


def write_links_csv(path: Path, issued: Sequence[IssuedLink]) -> None:
    """The issued links as a CSV Excel opens as UTF-8 (with its byte-order mark)."""

    def write(temp: Path) -> None:
        with temp.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(LINKS_CSV_HEADER)
            for link in issued:
                writer.writerow(
                    (
                        link.unit.code,
                        link.unit.name,
                        link.unit.email or "",
                        link.url,
                        link.expires_at.strftime("%d/%m/%Y"),
                    )
                )

    write_atomically(path, write)
    # Anyone who reads this file can open the units' pages.
    path.chmod(0o600)
