"""Incremental consolidation of a quarter: a late form or a correction changes one unit's counted
report, so the next version is the published one with that unit's ancestors summed again from
the difference, not the whole province summed again (SPEC §6 gives the same figures).

The version before is the base: every unit whose counted submission, status or timeliness moved
since it, and all their ancestors, get new rows; every other row is the base's. A count or flag
of an ancestor is the base's plus what its moved descendants added or changed; its reporting
counts the same way (accepted, on time, and the grassroots organisations that reported
sessions or held one online); its rates are computed again from its new figures and its texts
gathered again. A figure a moved unit no longer reports could leave an ancestor's figure blank
or not, which the base alone cannot tell: then, as for a base under another registry or deadline,
nothing is done incrementally and the caller consolidates the whole quarter."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from sqlalchemy import Connection

from tonghop.aggregation import add_rates, subtree_texts, unit_texts, value_rows
from tonghop.catalogue import RATES, load_catalogue
from tonghop.consolidation import ACCEPTED
from tonghop.periods import Period
from tonghop.registry import GRASSROOTS_KINDS, lineage
from tonghop.registry_store import units_frame
from tonghop.storage import select_frame, sql_statement
from tonghop.versions import Delta, Version, same_basis, values_sum_of, version_status

# What a unit's own report adds to its ancestors' reporting counts.
_SESSIONS, _ONLINE = "sessions_total", ("sessions_online", "sessions_hybrid")


def _on_time(value: object) -> int:
    return 1 if value is not None and not pd.isna(value) and bool(value) else 0


def _counted(status: pd.DataFrame) -> dict[str, tuple[str | None, str, int]]:
    """Each unit's (counted submission, status, on time) in a status frame."""
    return {
        row.unit_code: (
            row.submission_id if row.status in ACCEPTED else None,
            str(row.status),
            _on_time(row.on_time),
        )
        for row in status.itertuples(index=False)
    }


def _own_numbers(connection: Connection, submission_ids: Iterable[str]) -> dict[str, dict]:
    """The numbers of some submissions, by submission id then indicator."""
    wanted = sorted(set(submission_ids))
    found: dict[str, dict[str, float]] = {code: {} for code in wanted}
    if not wanted:
        return found
    params = {"submission_ids": wanted}
    for row in connection.execute(sql_statement("select_submission_numbers", params), params):
        found[row.submission_id][row.indicator_code] = float(row.number)
    return found


def incremental_values(
    connection: Connection,
    period: Period,
    deadline_days: int,
    base: Version,
    base_inputs: str | None,
    inputs: str,
    status: pd.DataFrame,
) -> Delta | None:
    """The quarter's consolidation as a delta from the published version `base` and the
    quarter's current `status`: the rows of the units that moved (as `consolidated_values`
    gives them) and the base's rows they replace; None when it cannot be done from the base
    (see the module's docstring). Only the moved units' rows of the base are read."""
    if (
        not period.is_quarter
        or base.published_at is None
        or not same_basis(base_inputs, inputs)
        or values_sum_of(base.fingerprint) is None  # stored before fingerprints composed
    ):
        return None
    before, now = _counted(version_status(connection, period, base.number)), _counted(status)
    if set(before) != set(now):
        return None
    moved = [code for code in now if now[code] != before[code]]
    figures = _figure_count(connection, period, base.number)
    if not moved:
        return Delta(base.number, [], [], [], figures)
    numbers = _own_numbers(
        connection, [ids for code in moved for ids in (before[code][0], now[code][0]) if ids]
    )

    units = units_frame(connection, period.last_day)
    units = units[units["code"].isin(now.keys())]
    parents = {
        code: None if pd.isna(parent) else parent
        for code, parent in zip(units["code"], units["parent_code"], strict=True)
    }
    kinds = dict(zip(units["code"], units["kind"], strict=True))

    # What each moved unit's own report adds, by indicator: new minus old, blanks as 0.
    catalogue = {indicator.code: indicator.kind for indicator in load_catalogue()}
    added: dict[str, dict[str, float]] = {}
    reporters: dict[str, dict[str, int]] = {}
    counts: dict[str, dict[str, int]] = {}
    for code in moved:
        old = numbers.get(before[code][0], {}) if before[code][0] else {}
        new = numbers.get(now[code][0], {}) if now[code][0] else {}
        if any(indicator not in new for indicator in old):
            return None  # a figure no longer reported: the base cannot say what stays blank
        added[code] = {key: new[key] - old.get(key, 0.0) for key in new}
        reporters[code] = {key: 1 for key in new if key not in old}
        counts[code] = {
            "accepted_units": int(now[code][1] in ACCEPTED) - int(before[code][1] in ACCEPTED),
            "on_time_units": now[code][2] - before[code][2],
        }
    affected = sorted({ancestor for code in moved for ancestor in lineage(code, parents)})

    base_rows = select_frame(
        connection,
        "select_published_values_of_units",
        period=str(period),
        version=base.number,
        unit_codes=affected,
    )
    rates = {rate.code for rate in RATES}
    reported = base_rows[base_rows["number"].notna() & ~base_rows["indicator_code"].isin(rates)]
    wide = reported.pivot(index="unit_code", columns="indicator_code", values="number").reindex(
        affected
    )
    wide = wide.astype(float)

    def add(code: str, column: str, amount: float) -> None:
        if column not in wide.columns:
            wide[column] = float("nan")
        current = wide.at[code, column]
        wide.at[code, column] = (0.0 if pd.isna(current) else current) + amount

    before_sessions = {code: _grassroots(wide, code) for code in affected}
    for code in moved:
        for ancestor in lineage(code, parents):
            for indicator, amount in added[code].items():
                if catalogue.get(indicator) in ("count", "flag"):
                    add(ancestor, indicator, amount)
            for indicator, new_reporter in reporters[code].items():
                if catalogue.get(indicator) == "flag":
                    add(ancestor, f"{indicator}_reporting", new_reporter)
            for column, amount in counts[code].items():
                add(ancestor, column, amount)
    for code in affected:
        if kinds.get(code) not in GRASSROOTS_KINDS:
            continue
        was, became = before_sessions[code], _grassroots(wide, code)
        for ancestor in lineage(code, parents):
            add(ancestor, "grassroots_reporting", became[0] - was[0])
            add(ancestor, "grassroots_online", became[1] - was[1])

    wide = add_rates(wide)
    texts = unit_texts(connection, period, deadline_days)
    texts = texts[texts["ancestor_code"].isin(affected)]
    summed = value_rows(wide, subtree_texts(texts))
    replaced = _as_rows(base_rows)
    return Delta(base.number, affected, summed, replaced, figures - len(replaced) + len(summed))


def _figure_count(connection: Connection, period: Period, number: int) -> int:
    """How many value rows a stored version has."""
    params = {"period": str(period), "version": number}
    return connection.execute(sql_statement("count_published_values", params), params).scalar_one()


def _grassroots(wide: pd.DataFrame, code: str) -> tuple[int, int]:
    """Whether a grassroots organisation's subtree reported sessions, and held one online."""

    def figure(column: str) -> float | None:
        if column not in wide.columns:
            return None
        value = wide.at[code, column]
        return None if pd.isna(value) else float(value)

    reported = figure(_SESSIONS) is not None
    online = sum(figure(column) or 0.0 for column in _ONLINE)
    return int(reported), int(reported and online > 0)


def _as_rows(values: pd.DataFrame) -> list[dict[str, object]]:
    """A stored version's values (unit_code, indicator_code, number, text) as value rows."""
    return [
        {
            "unit_code": unit,
            "indicator_code": code,
            "number": None if number != number or number is None else float(number),
            "text_value": None if not isinstance(words, str) else words,
        }
        # Plain lists: iterating pandas' string arrays item by item costs seconds here.
        for unit, code, number, words in zip(
            values["unit_code"].tolist(),
            values["indicator_code"].tolist(),
            values["number"].tolist(),
            values["text"].tolist(),
            strict=True,
        )
    ]
