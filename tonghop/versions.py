"""Published versions of a period: every publication is stored with a fingerprint of what it
shows. A run that changes nothing keeps the current version; a run that changes a figure or a
unit's status makes the next one, beside the old, never over it. Consecutive versions are
compared for the "what changed" sheet."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter

import numpy as np
import pandas as pd
from sqlalchemy import Connection, text

from tonghop.consolidation import STATUS_COLUMNS
from tonghop.periods import Period
from tonghop.registry_store import (
    load_successors,
    registry_version_on,
    registry_versions,
    version_in_force,
)
from tonghop.storage import execute_many, load_sql, select_frame, sql_statement, statements

INTEGER_STATUS_COLUMNS = frozenset({"on_time", "errors", "warnings"})
# What a version stores of each unit's status: what the outputs show, the file counted, and for
# a longer period each quarter's outcome (tonghop/longer_periods.py).
STORED_STATUS_COLUMNS = (*STATUS_COLUMNS, "submission_id", "quarters")


@dataclass(frozen=True)
class Version:
    """One version of a period's publication."""

    period: str
    number: int
    fingerprint: str
    created_at: datetime
    published_at: datetime | None  # None until every file of the version is written
    is_new: bool  # made by this run


@dataclass(frozen=True)
class Changes:
    """What a version changed against the one before it."""

    previous: int
    previous_published_at: datetime | None
    # unit_code, indicator_code, old_number, new_number, old_text, new_text
    values: pd.DataFrame
    # unit_code, old_status, new_status, old_file_name, new_file_name, old_received_at,
    # new_received_at
    units: pd.DataFrame


def _present(value: object) -> bool:
    return value is not None and not (not isinstance(value, str) and pd.isna(value))


def _shown_number(number: object) -> str:
    # `x == x` is False only for NaN: cheaper than pandas' isna on every figure.
    if number is None or number != number:
        return ""
    return f"{float(number):.12g}"  # type: ignore[arg-type]


def _shown_text(value: object) -> str:
    return str(value) if _present(value) else ""


@dataclass(frozen=True)
class Delta:
    """A version as the published one it is built on plus what moved: the `base` version's
    rows of every unit but `units`, and `rows` for those units, which replace the base's
    `replaced`; `figures` rows in all."""

    base: int
    units: list[str]
    rows: list[dict[str, object]]
    replaced: list[dict[str, object]]
    figures: int


# A version's fingerprint: "v", the sum of its value rows' hashes in 31 hex digits, then a digest
# of its units' statuses in 32. The sum does not depend on the rows' order, and it composes: a
# version built on another is the other's sum, less the rows it replaces, plus its own — without
# reading the rest (a province has 800,000 rows; a late form replaces a few hundred).
_SUM_DIGITS = 31
_SUM_MODULUS = 16**_SUM_DIGITS
_STATUS_DIGITS = 32
COMPOSABLE = "v"


def fingerprint(values: Iterable[Mapping[str, object]], status: pd.DataFrame) -> str:
    """A checksum of everything a version shows: figures, texts and each unit's status."""
    return _composed(values_sum(values), status)


def delta_fingerprint(base: str, delta: Delta, status: pd.DataFrame) -> str | None:
    """The fingerprint of the version `delta` builds on the one fingerprinted `base`, from the
    delta's rows alone; None when `base` was stored before fingerprints composed."""
    total = values_sum_of(base)
    if total is None:
        return None
    moved = values_sum(delta.rows) - values_sum(delta.replaced)
    return _composed((total + moved) % _SUM_MODULUS, status)


def values_sum(values: Iterable[Mapping[str, object]]) -> int:
    """The sum of the value rows' hashes, modulo 16**31."""
    total = 0
    for row in values:
        line = _value_line(row).encode()
        total += int.from_bytes(hashlib.blake2b(line, digest_size=16).digest())
    return total % _SUM_MODULUS


def _value_line(row: Mapping[str, object]) -> str:
    """A value row as fingerprints read it: 12 significant digits, so that the same figures from
    SQLite and PostgreSQL hash alike."""
    return (
        f"v|{row['unit_code']}|{row['indicator_code']}|{_shown_number(row['number'])}|"
        f"{_shown_text(row['text_value'])}"
    )


def values_sum_of(stored: str) -> int | None:
    """The values' sum a stored fingerprint holds; None for one stored before they composed
    (one digest of 64 hex digits)."""
    if not stored.startswith(COMPOSABLE):
        return None
    return int(stored[len(COMPOSABLE) : len(COMPOSABLE) + _SUM_DIGITS], 16)


def _composed(total: int, status: pd.DataFrame) -> str:
    return f"{COMPOSABLE}{total:0{_SUM_DIGITS}x}{_status_digest(status)[:_STATUS_DIGITS]}"


def _status_digest(status: pd.DataFrame, digest: hashlib._Hash | None = None) -> str:
    """A digest of each unit's status, in unit order (added to `digest` when given)."""
    digest = digest or hashlib.sha256()
    for row in status.sort_values("unit_code").itertuples():
        on_time = "" if not _present(row.on_time) else str(int(row.on_time))
        counted = row.submission_id if _present(row.submission_id) else ""
        # Only a longer period's statuses have quarters: a quarter's fingerprint stays as it was.
        quarters = f"|{row.quarters}" if _present(getattr(row, "quarters", None)) else ""
        digest.update(
            f"s|{row.unit_code}|{row.status}|{on_time}|{counted}|"
            f"{int(row.errors or 0)}|{int(row.warnings or 0)}{quarters}\n".encode()
        )
    return digest.hexdigest()


def earlier_fingerprint(values: Sequence[Mapping[str, object]], status: pd.DataFrame) -> str:
    """The fingerprint as versions stored before fingerprints composed: one digest of the rows
    in order, then the statuses — to tell whether such a version changed."""
    digest = hashlib.sha256()
    ordered = sorted(values, key=itemgetter("unit_code", "indicator_code"))
    digest.update("".join(f"{_value_line(row)}\n" for row in ordered).encode())
    return _status_digest(status, digest)


def _moment(value: object) -> datetime | None:
    if not _present(value):
        return None
    return pd.Timestamp(value).to_pydatetime()


def latest_version(connection: Connection, period: Period) -> Version | None:
    """The newest version of the period, published or not."""
    frame = select_frame(
        connection,
        "select_latest_publication",
        parse_dates=["created_at", "published_at"],
        period=str(period),
    )
    if frame.empty:
        return None
    row = frame.iloc[0]
    return Version(
        period=str(period),
        number=int(row["version"]),
        fingerprint=str(row["fingerprint"]),
        created_at=_moment(row["created_at"]),
        published_at=_moment(row["published_at"]),
        is_new=False,
    )


def store_version(
    connection: Connection,
    period: Period,
    values: Sequence[Mapping[str, object]] | None,
    status: pd.DataFrame,
    now: datetime,
    delta: Delta | None = None,
) -> Version:
    """Keep the current version when nothing changed; else store the next one. A version never
    completely published is replaced instead, so that published versions have no gaps. Given
    the `delta` that builds the version on the latest one, only what moved is hashed and
    written from here, the rest copied inside the database; else `values` is the whole
    version."""
    latest = latest_version(connection, period)
    if delta is not None:
        composed = None
        if latest is not None and latest.number == delta.base:
            composed = delta_fingerprint(latest.fingerprint, delta, status)
        if composed is None:
            raise ValueError(f"a delta on version {delta.base} does not fit the latest one")
        checksum = composed
    elif values is not None:
        checksum = fingerprint(values, status)
    else:
        raise ValueError("a version is stored from its values or from a delta")
    if latest is not None:
        # A version stored before fingerprints composed is compared as it was fingerprinted.
        compared = checksum
        if values is not None and values_sum_of(latest.fingerprint) is None:
            compared = earlier_fingerprint(values, status)
        if latest.fingerprint == compared:
            return latest
    number = 1
    if latest is not None and latest.published_at is None:
        number = latest.number
        for statement in statements("delete_publication_version"):
            connection.execute(text(statement), {"period": str(period), "version": number})
    elif latest is not None:
        number = latest.number + 1
    key = {"period": str(period), "version": number}
    connection.execute(
        text(load_sql("insert_publication")), {**key, "fingerprint": checksum, "created_at": now}
    )
    written: Sequence[Mapping[str, object]] = values or ()
    if delta is not None:
        params = {**key, "base_version": delta.base, "moved_units": delta.units}
        connection.execute(sql_statement("copy_published_values", params), params)
        written = delta.rows
    execute_many(connection, "insert_published_value", [{**key, **row} for row in written])
    status_rows = [
        {
            **key,
            **{
                column: _plain(row.get(column), integer=column in INTEGER_STATUS_COLUMNS)
                for column in STORED_STATUS_COLUMNS
            },
        }
        for row in status.to_dict("records")
    ]
    execute_many(connection, "insert_published_status", status_rows)
    return Version(str(period), number, checksum, now, None, True)


def _plain(value: object, *, integer: bool = False) -> object:
    """pandas' markers and numpy scalars → what a database driver takes; `integer` for the
    columns pandas turned into floats to make room for blanks (COPY takes no `1.0` for 1)."""
    if not _present(value):
        return None
    if integer:
        return int(value)  # type: ignore[call-overload]
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        return value.item()
    return value


def mark_published(connection: Connection, version: Version, at: datetime) -> None:
    """Record that every file of the version is written."""
    connection.execute(
        text(load_sql("update_publication_published")),
        {"period": version.period, "version": version.number, "published_at": at},
    )


def version_values(connection: Connection, period: Period, number: int) -> pd.DataFrame:
    """unit_code, indicator_code, number, text of one version."""
    return select_frame(connection, "select_published_values", period=str(period), version=number)


def version_status(connection: Connection, period: Period, number: int) -> pd.DataFrame:
    """The status of every expected unit in one version, in hierarchy order."""
    status = select_frame(
        connection,
        "select_published_status",
        parse_dates=["received_at"],
        period=str(period),
        version=number,
        registry_version=registry_version_on(connection, period.last_day),
    )
    # SQLite answers 1/0 and PostgreSQL may too; None means the unit has nothing accepted.
    status["on_time"] = [None if pd.isna(flag) else bool(flag) for flag in status["on_time"]]
    return status


def value_changes(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Every figure or text that differs between two versions' values."""
    merged = old.merge(new, on=["unit_code", "indicator_code"], how="outer", suffixes=("_o", "_n"))
    old_number = pd.to_numeric(merged["number_o"], errors="coerce").astype(float)
    new_number = pd.to_numeric(merged["number_n"], errors="coerce").astype(float)
    same_number = np.isclose(old_number, new_number, rtol=1e-9, atol=1e-12, equal_nan=True)
    old_text = merged["text_o"].where(merged["text_o"].notna(), "")
    new_text = merged["text_n"].where(merged["text_n"].notna(), "")
    changed = merged[~same_number | (old_text != new_text)]
    return pd.DataFrame(
        {
            "unit_code": changed["unit_code"],
            "indicator_code": changed["indicator_code"],
            "old_number": old_number[changed.index],
            "new_number": new_number[changed.index],
            "old_text": changed["text_o"].where(changed["text_o"].notna(), None),
            "new_text": changed["text_n"].where(changed["text_n"].notna(), None),
        }
    ).reset_index(drop=True)


def unit_changes(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Units whose counted report or status differs between two versions."""
    columns = ["unit_code", "status", "submission_id", "file_name", "received_at"]
    merged = old[columns].merge(new[columns], on="unit_code", how="outer", suffixes=("_o", "_n"))
    counted_o = merged["submission_id_o"].where(merged["submission_id_o"].notna(), "")
    counted_n = merged["submission_id_n"].where(merged["submission_id_n"].notna(), "")
    changed = merged[(counted_o != counted_n) | (merged["status_o"] != merged["status_n"])]
    return pd.DataFrame(
        {
            "unit_code": changed["unit_code"],
            "old_status": changed["status_o"].fillna("missing"),
            "new_status": changed["status_n"].fillna("missing"),
            "old_file_name": changed["file_name_o"],
            "new_file_name": changed["file_name_n"],
            "old_received_at": changed["received_at_o"],
            "new_received_at": changed["received_at_n"],
        }
    ).reset_index(drop=True)


def longer_periods_containing(connection: Connection, quarters: Sequence[Period]) -> list[Period]:
    """The longer periods already published that contain one of `quarters`: a correction to a
    quarter publishes them again too (SPEC §2)."""
    found = set()
    for (text_value,) in connection.execute(text(load_sql("select_published_periods"))):
        period = Period.parse(text_value)
        if not period.is_quarter and any(period.contains(quarter) for quarter in quarters):
            found.add(period)
    return sorted(found, key=lambda period: (period.last_day, period.length))


def newest_published_version(connection: Connection, period: Period) -> int | None:
    """The newest version of the period whose files are all written; None before the first."""
    rows = connection.execute(text(load_sql("select_publications")), {"period": str(period)})
    published = [row.version for row in rows if row.published_at is not None]
    return max(published, default=None)


def changes_since_previous(
    connection: Connection,
    version: Version,
    values: pd.DataFrame | None = None,
    status: pd.DataFrame | None = None,
    moved: list[str] | None = None,
) -> Changes | None:
    """What `version` changed against the version before it; None for the first version.
    `values` and `status` are the version's own, when the caller has read them already;
    `moved`, when known, the only units whose figures may differ (a version built on the one
    before copies every other row of it), so that only theirs are read and compared."""
    if version.number == 1:
        return None
    period = Period.parse(version.period)
    previous = version.number - 1
    published_at = select_frame(
        connection,
        "select_publications",
        parse_dates=["published_at"],
        period=version.period,
    ).set_index("version")["published_at"]
    return Changes(
        previous=previous,
        previous_published_at=_moment(published_at.get(previous)),
        values=_value_changes(connection, period, version.number, values, moved),
        units=unit_changes(
            version_status(connection, period, previous),
            version_status(connection, period, version.number) if status is None else status,
        ),
    )


def _value_changes(
    connection: Connection,
    period: Period,
    number: int,
    values: pd.DataFrame | None,
    moved: list[str] | None,
) -> pd.DataFrame:
    """The figures version `number` changed against the one before: of every unit, or only of
    the `moved` ones when known."""
    if values is None:
        values = version_values(connection, period, number)
    if moved is None:
        return value_changes(version_values(connection, period, number - 1), values)
    before = select_frame(
        connection,
        "select_published_values_of_units",
        period=str(period),
        version=number - 1,
        unit_codes=moved,
    )
    return value_changes(before, values[values["unit_code"].isin(moved)])


def period_inputs(connection: Connection, period: Period, deadline_days: int) -> str:
    """A signature of everything the period's consolidation is computed from: the files received
    for its quarters (only ever added), the registry version in force for each quarter, and
    for a longer period the successor links that carry figures across changes."""
    quarters = period.quarters()
    submissions = connection.execute(
        text(load_sql("select_period_submissions")),
        {"first_quarter": str(quarters[0]), "last_quarter": str(quarters[-1])},
    ).scalar()
    versions = registry_versions(connection)
    used = ",".join(str(version_in_force(versions, quarter.last_day)) for quarter in quarters)
    signature = f"{submissions}|r{used}|{deadline_days}"
    if not period.is_quarter:
        links = sorted(
            f"{link.code}>{link.successor_code}:{link.share:g}@{link.effective}"
            for link in load_successors(connection)
        )
        signature += "|" + hashlib.sha256(";".join(links).encode()).hexdigest()[:16]
    return signature


def same_basis(before: str | None, now: str) -> bool:
    """Whether two inputs signatures (`period_inputs`) share the registry versions, deadline
    and successor links, whatever files came in between: a version computed from `before`
    can be the base of one from `now`."""
    return before is not None and before.split("|")[1:] == now.split("|")[1:]


def inputs_of(connection: Connection, version: Version) -> str | None:
    """The inputs signature a version was computed from, if recorded."""
    return connection.execute(
        text(load_sql("select_publication_input")),
        {"period": version.period, "version": version.number},
    ).scalar()


def remember_inputs(connection: Connection, version: Version, signature: str) -> None:
    """Record what the version was computed from (again, when a later run found it unchanged)."""
    connection.execute(
        text(load_sql("upsert_publication_input")),
        {"period": version.period, "version": version.number, "signature": signature},
    )
