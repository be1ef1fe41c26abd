"""Longer periods (SPEC §2): a half-year, a year or any span of whole quarters consolidated from
the stored quarters, never asked of the units again, under the hierarchy in force on the
period's last day (SPEC §1).

Each quarter's own figures of each unit (its counted submission) are first carried into that
hierarchy — a unit still there keeps them, an ended unit's go to its successors by their shares
or, with none, to its nearest ancestor still there — then combined across the quarters as each
indicator's `across_periods` says (`sum`, `last` for stocks such as members, `average`, `max` for
flags, `concat` for texts), then rolled up the hierarchy as a quarter is (SPEC §6), rates
recomputed from the combined numerators and denominators. Completeness is counted per quarter:
the reporting figures add up the units expected and accepted in each quarter, and each unit's
status says which quarters it reported.

The same carrying serves comparisons across periods: the previous quarter or the same period
last year, consolidated under today's hierarchy, compares a merged unit with the sum of its
predecessors and a split unit with its share of its predecessor."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from tonghop.aggregation import REPORTING_COLUMNS, add_rates, subtree_texts
from tonghop.catalogue import by_code, load_catalogue
from tonghop.consolidation import ACCEPTED
from tonghop.periods import Period
from tonghop.registry_store import (
    RegistryVersion,
    load_successors,
    registry_versions,
    version_in_force,
)
from tonghop.restructuring import Destinations, Successor
from tonghop.storage import select_frame
from tonghop.submission_store import period_status
from tonghop.versions import STORED_STATUS_COLUMNS

GRASSROOTS = ("grassroots_committee", "grassroots_cell")
# A longer period's status of a unit that reported some of its quarters but not all.
PARTIAL = "partial"
# The status column a longer period adds: each quarter with what the unit's reports came to,
# `2025Q1:accepted,2025Q2:missing`.
QUARTERS_COLUMN = "quarters"


@dataclass(frozen=True)
class Hierarchy:
    """The units active on a day in the registry version then in force, and their closure."""

    day: date
    version: int | None
    units: pd.DataFrame  # REGISTRY_COLUMNS, active units only, hierarchy order
    closure: pd.DataFrame  # ancestor, descendant

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(self.units["code"])


@dataclass(frozen=True)
class Carried:
    """A stretch of quarters consolidated under one hierarchy."""

    period: Period
    hierarchy: Hierarchy
    values: list[dict[str, object]]  # unit_code, indicator_code, number, text_value
    status: pd.DataFrame  # STORED_STATUS_COLUMNS, QUARTERS_COLUMN filled in
    own_texts: pd.DataFrame  # unit_code, indicator_code, text (combined over the quarters)


def hierarchy_on(
    connection: Connection, day: date, versions: Sequence[RegistryVersion]
) -> Hierarchy:
    """The hierarchy of the units active on `day`."""
    version = version_in_force(versions, day)
    units = select_frame(connection, "select_units", registry_version=version)
    valid_from = pd.to_datetime(units["valid_from"])
    valid_to = pd.to_datetime(units["valid_to"])
    moment = pd.Timestamp(day)
    active = (valid_from.isna() | (valid_from <= moment)) & (valid_to.isna() | (valid_to >= moment))
    closure = select_frame(
        connection, "select_active_closure", last_day=day, registry_version=version
    )
    return Hierarchy(day, version, units[active.fillna(False)].reset_index(drop=True), closure)


def _registry_of(
    connection: Connection, version: int | None
) -> tuple[dict[str, str | None], dict[str, str]]:
    """Each unit's parent and name in one registry version."""
    units = select_frame(connection, "select_units", registry_version=version)
    parents = {
        code: (None if pd.isna(parent) else parent)
        for code, parent in zip(units["code"], units["parent_code"], strict=True)
    }
    return parents, dict(zip(units["code"], units["name"], strict=True))


def carry(
    connection: Connection,
    period: Period,
    deadline_days: int,
    target: Hierarchy | None = None,
) -> Carried:
    """Consolidate the quarters of `period` under `target` (by default the hierarchy in force on
    the period's last day)."""
    versions = registry_versions(connection)
    target = target or hierarchy_on(connection, period.last_day, versions)
    successors = load_successors(connection)
    quarters = period.quarters()
    destinations = _destinations(connection, quarters, versions, successors, target)

    own = select_frame(
        connection,
        "select_own_values",
        first_quarter=str(quarters[0]),
        last_quarter=str(quarters[-1]),
    )
    mapped = _carried_values(own, destinations)
    combined = _combined(mapped, quarters)
    wide = _rolled_up(combined, target)
    statuses = {
        str(quarter): period_status(connection, quarter, deadline_days) for quarter in quarters
    }
    wide = wide.join(_reporting(statuses, destinations, target, wide), how="outer")
    wide = add_rates(wide.reindex(target.units["code"]).astype(float))
    own_texts = _own_texts(combined)
    return Carried(
        period=period,
        hierarchy=target,
        values=_rows(wide, own_texts, target),
        status=_status(statuses, destinations, target),
        own_texts=own_texts,
    )


def _destinations(
    connection: Connection,
    quarters: Sequence[Period],
    versions: Sequence[RegistryVersion],
    successors: Sequence[Successor],
    target: Hierarchy,
) -> dict[str, Destinations]:
    """For each quarter, where its units' figures go in the target hierarchy (an ended unit
    with no successor to its nearest ancestor in that quarter's own hierarchy)."""
    registries: dict[int | None, tuple[dict[str, str | None], dict[str, str]]] = {}
    found = {}
    for quarter in quarters:
        version = version_in_force(versions, quarter.last_day)
        if version not in registries:
            registries[version] = _registry_of(connection, version)
        parents, names = registries[version]
        found[str(quarter)] = Destinations(
            successors, target.codes, target.day, parents, names=names
        )
    return found


def _mapping(pairs: pd.DataFrame, destinations: dict[str, Destinations]) -> pd.DataFrame:
    """unit_code, period → target, share, main (the target that takes its texts and status)."""
    rows = []
    for unit_code, period in pairs.itertuples(index=False):
        shares = destinations[period].of(unit_code)
        main = destinations[period].main(unit_code)
        rows.extend(
            (unit_code, period, target, share, target == main) for target, share in shares.items()
        )
    return pd.DataFrame(rows, columns=["unit_code", "period", "target", "share", "main"])


def _carried_values(own: pd.DataFrame, destinations: dict[str, Destinations]) -> pd.DataFrame:
    """Own values moved onto the target hierarchy, one row per target, quarter and indicator:
    counts by share, flags whole (a unit that presented still presented), texts to the main
    target."""
    if own.empty:
        return pd.DataFrame(columns=["target", "period", "indicator_code", "number", "text"])
    mapping = _mapping(own[["unit_code", "period"]].drop_duplicates(), destinations)
    moved = own.merge(mapping, on=["unit_code", "period"])
    kinds = {indicator.code: indicator.kind for indicator in load_catalogue()}
    kind = moved["indicator_code"].map(kinds)
    number = pd.to_numeric(moved["number"], errors="coerce").astype(float)
    moved["number"] = np.where(kind == "count", number * moved["share"], number)
    moved.loc[~moved["main"], "text"] = None
    # A text carried from another unit (a predecessor merged, moved or dissolved into the
    # target) names whose it is: the target did not write it, and a merged unit would show two
    # texts of the same quarter as if it had written both.
    carried = moved["text"].notna() & (moved["unit_code"] != moved["target"])
    if carried.any():
        authors = [
            destinations[period].names.get(code, code)
            for code, period in zip(
                moved.loc[carried, "unit_code"], moved.loc[carried, "period"], strict=True
            )
        ]
        moved.loc[carried, "text"] = [
            f"({author}) {text}"
            for author, text in zip(authors, moved.loc[carried, "text"], strict=True)
        ]
    numbers = moved[moved["number"].notna()]
    flag = numbers["indicator_code"].map(kinds) == "flag"
    summed = numbers[~flag].groupby(["target", "period", "indicator_code"])["number"].sum()
    flagged = numbers[flag].groupby(["target", "period", "indicator_code"])["number"].max()
    written = moved[moved["text"].notna()]
    # The target's own text first, then those carried to it.
    written = written.iloc[
        np.argsort((written["unit_code"] != written["target"]).to_numpy(), kind="stable")
    ]
    texts = written.groupby(["target", "period", "indicator_code"], sort=False)["text"].agg(
        "\n".join
    )
    return pd.concat(
        [
            pd.concat([summed, flagged]).rename("number").reset_index(),
            texts.reset_index(),
        ],
        ignore_index=True,
    )


def _combined(mapped: pd.DataFrame, quarters: Sequence[Period]) -> pd.DataFrame:
    """One value per target unit and indicator over the quarters, as `across_periods` says:
    unit_code, indicator_code, number, text."""
    if mapped.empty:
        return pd.DataFrame(columns=["unit_code", "indicator_code", "number", "text"])
    how = {indicator.code: indicator.across_periods for indicator in load_catalogue()}
    mapped = mapped.sort_values("period", kind="stable")
    mapped["how"] = mapped["indicator_code"].map(how).fillna("sum")
    numbers = mapped[mapped["number"].notna()]
    keys = ["target", "indicator_code"]
    parts = [
        numbers[numbers["how"] == "sum"].groupby(keys)["number"].sum(),
        numbers[numbers["how"] == "last"].groupby(keys)["number"].last(),
        numbers[numbers["how"] == "average"].groupby(keys)["number"].mean(),
        numbers[numbers["how"] == "max"].groupby(keys)["number"].max(),
    ]
    combined = pd.concat(parts).rename("number").reset_index()
    texts = mapped[mapped["text"].notna()].copy()
    if len(quarters) > 1 and not texts.empty:
        # Each quarter's text under the quarter it was written in.
        labels = {str(quarter): quarter.short_label_vi for quarter in quarters}
        texts["text"] = texts["period"].map(labels) + ": " + texts["text"]
    joined = texts.groupby(keys, sort=False)["text"].agg("\n".join).reset_index()
    result = pd.concat([combined, joined], ignore_index=True)
    return result.rename(columns={"target": "unit_code"})


def _rolled_up(combined: pd.DataFrame, target: Hierarchy) -> pd.DataFrame:
    """Every active unit's subtree totals of the combined counts and flags (SPEC §6), wide:
    a column per indicator, and `<flag>_reporting` for each flag's reporting units."""
    numbers = combined[combined["number"].notna()][["unit_code", "indicator_code", "number"]]
    joined = target.closure.merge(numbers, left_on="descendant", right_on="unit_code")
    grouped = joined.groupby(["ancestor", "indicator_code"])["number"]
    totals = grouped.sum().unstack()
    reporting = grouped.count().unstack()
    flags = [code for code, indicator in by_code().items() if indicator.kind == "flag"]
    flag_reporting = reporting.reindex(columns=[c for c in flags if c in reporting.columns])
    flag_reporting.columns = [f"{code}_reporting" for code in flag_reporting.columns]
    wide = totals.join(flag_reporting, how="left")
    wide.index.name = "unit_code"
    return wide.reindex(target.units["code"])


def _reporting(
    statuses: dict[str, pd.DataFrame],
    destinations: dict[str, Destinations],
    target: Hierarchy,
    wide: pd.DataFrame,
) -> pd.DataFrame:
    """The figures behind completeness, timeliness and the grassroots online share: units
    expected, accepted and on time counted per quarter and added up (each unit where it is
    counted now), and the grassroots organisations whose subtree reported sessions and held
    any online or hybrid session over the period."""
    counted = []
    for period, status in statuses.items():
        main = status["unit_code"].map(destinations[period].main)
        counted.append(
            pd.DataFrame(
                {
                    "unit_code": main,
                    "expected_units": 1.0,
                    "accepted_units": status["status"].isin(ACCEPTED).astype(float),
                    "on_time_units": (status["on_time"] == 1).astype(float),
                }
            )
        )
    per_unit = (
        pd.concat(counted, ignore_index=True)
        .dropna(subset=["unit_code"])
        .groupby("unit_code")
        .sum()
    )
    units = target.units.set_index("code")
    grassroots = units.index[units["kind"].isin(GRASSROOTS)]
    sessions = wide.reindex(grassroots)
    reported = sessions.get("sessions_total", pd.Series(np.nan, index=grassroots)).notna()
    online_sessions = sum(
        sessions.get(code, pd.Series(np.nan, index=grassroots)).fillna(0.0)
        for code in ("sessions_online", "sessions_hybrid")
    )
    per_unit = per_unit.join(
        pd.DataFrame(
            {
                "grassroots_reporting": reported.astype(float),
                "grassroots_online": (reported & (online_sessions > 0)).astype(float),
            }
        ),
        how="outer",
    ).fillna(0.0)
    joined = target.closure.merge(per_unit, left_on="descendant", right_index=True)
    rolled = joined.groupby("ancestor")[list(REPORTING_COLUMNS)].sum()
    rolled.index.name = "unit_code"
    return rolled


def _own_texts(combined: pd.DataFrame) -> pd.DataFrame:
    texts = combined[combined["text"].notna()]
    return texts[["unit_code", "indicator_code", "text"]].reset_index(drop=True)


def _rows(wide: pd.DataFrame, own_texts: pd.DataFrame, target: Hierarchy) -> list[dict]:
    """The consolidation's rows as a quarter's are stored: numbers, then the subtree texts."""
    numbers = wide.rename_axis(index="unit_code", columns="indicator_code").stack().dropna()
    rows: list[dict[str, object]] = [
        {"unit_code": unit, "indicator_code": code, "number": float(value), "text_value": None}
        for (unit, code), value in numbers.items()
    ]
    units = target.units.set_index("code")
    authored = target.closure.merge(own_texts, left_on="descendant", right_on="unit_code")
    authored = authored.assign(
        ancestor_code=authored["ancestor"],
        unit_name=authored["unit_code"].map(units["name"]),
        position=authored["unit_code"].map(units["position"]),
    ).sort_values(["ancestor_code", "indicator_code", "position"], kind="stable")
    rows += [
        {
            "unit_code": row.unit_code,
            "indicator_code": row.indicator_code,
            "number": None,
            "text_value": row.text,
        }
        for row in subtree_texts(authored).itertuples()
    ]
    return rows


def _status(
    statuses: dict[str, pd.DataFrame],
    destinations: dict[str, Destinations],
    target: Hierarchy,
) -> pd.DataFrame:
    """Each unit's status over the period: accepted (with warnings) when every quarter it was
    expected in was, `partial` when only some were, rejected or missing when none was; on time
    when every accepted quarter was; and each quarter's own outcome (QUARTERS_COLUMN)."""
    frames = []
    for period, status in statuses.items():
        frame = status[["unit_code", "status", "on_time", "errors", "warnings"]].copy()
        frame["target"] = frame["unit_code"].map(destinations[period].main)
        frame["period"] = period
        frames.append(frame)
    every = pd.concat(frames, ignore_index=True).dropna(subset=["target"])
    rows = []
    for code, group in every.groupby("target", sort=False):
        per_quarter = {
            period: _quarter_status(part["status"].tolist())
            for period, part in group.groupby("period", sort=True)
        }
        overall = _quarter_status(list(per_quarter.values()))
        on_time_values = group.loc[group["status"].isin(ACCEPTED), "on_time"]
        rows.append(
            {
                "unit_code": code,
                "status": overall,
                "on_time": None if on_time_values.empty else bool((on_time_values == 1).all()),
                "received_at": None,
                "file_name": None,
                "errors": int(group["errors"].fillna(0).sum()),
                "warnings": int(group["warnings"].fillna(0).sum()),
                "submission_id": None,
                QUARTERS_COLUMN: ",".join(f"{p}:{o}" for p, o in per_quarter.items()),
            }
        )
    result = pd.DataFrame(rows, columns=list(STORED_STATUS_COLUMNS))
    order = {code: index for index, code in enumerate(target.units["code"])}
    result = result[result["unit_code"].isin(order)]
    return result.sort_values("unit_code", key=lambda codes: codes.map(order)).reset_index(
        drop=True
    )


def _quarter_status(outcomes: list[str]) -> str:
    """What outcomes come to together: a quarter's for a unit now, from its own and its
    predecessors' outcomes; a unit's over the period, from its quarters'."""
    accepted = [outcome for outcome in outcomes if outcome in ACCEPTED]
    if len(accepted) == len(outcomes):
        return "accepted_with_warnings" if "accepted_with_warnings" in outcomes else "accepted"
    if accepted or PARTIAL in outcomes:
        return PARTIAL
    return "rejected" if "rejected" in outcomes else "missing"


def quarters_of(status_text: object) -> list[tuple[str, str]]:
    """The QUARTERS_COLUMN text back as (quarter, outcome) pairs."""
    if not isinstance(status_text, str) or not status_text:
        return []
    return [tuple(part.split(":", 1)) for part in status_text.split(",")]  # type: ignore[misc]


# How a quarter's outcome that counts nothing is said beside the quarter.
QUARTER_OUTCOMES_VI = {
    "missing": "chưa nộp",
    "rejected": "bị trả lại",
    PARTIAL: "thiếu báo cáo của đơn vị đã hợp nhất",
}


def quarters_vi(status_text: object) -> tuple[str, str]:
    """The QUARTERS_COLUMN text in words: (the quarters reported, the quarters not, each with
    why), `("Quý I/2025, Quý II/2025", "Quý III/2025 (chưa nộp)")`; "" for none."""
    reported, missing = [], []
    for quarter, outcome in quarters_of(status_text):
        label = Period.parse(quarter).short_label_vi
        if outcome in ACCEPTED:
            reported.append(label)
        else:
            missing.append(f"{label} ({QUARTER_OUTCOMES_VI.get(outcome, outcome)})")
    return ", ".join(reported), ", ".join(missing)
