"""Each quarter's figures of a longer period, under the hierarchy of the period's last day: what a
half-year's or a year's report sets side by side (its chart of the quarters) and counts quarter
by quarter (how many units had to report and did).

A quarter consolidated under that same hierarchy is read from its published version, as its own
report gave it; a quarter from before a restructuring, or never published, is consolidated from
its stored submissions under the period's hierarchy, as the comparisons are
(`tonghop.consolidating.previous_quarter`), so that a merged unit's quarter is the sum of its
predecessors'. One load per quarter, whatever the number of units asked for."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection

from tonghop.consolidating import same_hierarchy
from tonghop.longer_periods import carry, hierarchy_on
from tonghop.periods import Period
from tonghop.registry_store import registry_versions
from tonghop.versions import latest_version, version_values


@dataclass(frozen=True)
class QuarterFigures:
    """The figures of some units in each quarter of a period: `numbers[quarter][(unit code,
    indicator code)]`; a quarter absent from `numbers` has nothing consolidated."""

    period: Period
    numbers: Mapping[Period, Mapping[tuple[str, str], float]]

    @property
    def quarters(self) -> tuple[Period, ...]:
        return self.period.quarters()

    def number(self, quarter: Period, unit_code: str, code: str) -> float | None:
        """The unit's figure `code` in `quarter`; None when blank or not consolidated."""
        return self.numbers.get(quarter, {}).get((unit_code, code))

    def has(self, quarter: Period) -> bool:
        """Whether the quarter was consolidated at all."""
        return quarter in self.numbers


def _numbers(values: pd.DataFrame, unit_codes: frozenset[str]) -> dict[tuple[str, str], float]:
    """The numeric figures of the units asked for, from a values frame (unit_code,
    indicator_code, number)."""
    wanted = values[values["unit_code"].isin(unit_codes) & values["number"].notna()]
    return {
        (unit, code): float(number)
        for unit, code, number in zip(
            wanted["unit_code"], wanted["indicator_code"], wanted["number"], strict=True
        )
    }


def load_quarter_figures(
    connection: Connection, period: Period, deadline_days: int, unit_codes: Iterable[str]
) -> QuarterFigures:
    """The figures of `unit_codes` in each quarter of `period`, under the period's hierarchy."""
    wanted = frozenset(unit_codes)
    target = None
    found: dict[Period, dict[tuple[str, str], float]] = {}
    for quarter in period.quarters():
        latest = latest_version(connection, quarter)
        if (
            latest is not None
            and latest.published_at is not None
            and same_hierarchy(connection, quarter, period)
        ):
            found[quarter] = _numbers(version_values(connection, quarter, latest.number), wanted)
            continue
        if target is None:
            target = hierarchy_on(connection, period.last_day, registry_versions(connection))
        carried = carry(connection, quarter, deadline_days, target)
        values = pd.DataFrame(
            carried.values, columns=["unit_code", "indicator_code", "number", "text_value"]
        )
        values["number"] = pd.to_numeric(values["number"], errors="coerce")
        found[quarter] = _numbers(values, wanted)
    return QuarterFigures(period, found)
