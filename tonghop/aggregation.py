"""Aggregation up the hierarchy (SPEC §6): the sums run in the database over the closure table;
this module adds the rates and joins the subtree texts (storing them is `tonghop.versions`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from tonghop.catalogue import RATES, Rate, load_catalogue
from tonghop.consolidation import SECTOR_COLUMNS
from tonghop.periods import Period
from tonghop.registry_store import registry_version_on
from tonghop.storage import select_frame

REPORTING_COLUMNS = (
    "expected_units",
    "accepted_units",
    "on_time_units",
    "grassroots_reporting",
    "grassroots_online",
)


def deadline_end(period: Period, deadline_days: int) -> datetime:
    """The first moment that is late: midnight after the deadline day."""
    return datetime.combine(period.deadline(deadline_days) + timedelta(days=1), time())


def period_parameters(
    connection: Connection, period: Period, deadline_days: int
) -> dict[str, object]:
    """The bind parameters every period query takes: the period, its last day and deadline, and
    the registry version in force on its last day (SPEC §1)."""
    return {
        "period": str(period),
        "last_day": period.last_day,
        "deadline_end": deadline_end(period, deadline_days),
        "registry_version": registry_version_on(connection, period.last_day),
    }


def _side(wide: pd.DataFrame, terms: Sequence[str]) -> pd.Series:
    """A sum of figures with blanks as 0, blank where every figure is blank."""
    total = pd.Series(0.0, index=wide.index)
    seen = pd.Series(False, index=wide.index)
    for term in terms:
        code = term.lstrip("-")
        if code not in wide.columns:
            continue
        column = wide[code].astype(float)
        sign = -1.0 if term.startswith("-") else 1.0
        total = total + sign * column.fillna(0.0)
        seen = seen | column.notna()
    return total.where(seen)


def add_rates(wide: pd.DataFrame, rates: Sequence[Rate] = RATES) -> pd.DataFrame:
    """The frame with one more column per rate, from aggregated numerators and denominators.

    A rate is blank when its denominator is blank or 0; otherwise blank numerator terms count
    as 0 (SPEC §6: 29 sessions all held in person is an online share of 0, not a blank)."""
    result = wide.copy()
    for rate in rates:
        numerator, denominator = _side(wide, rate.numerator), _side(wide, rate.denominator)
        result[rate.code] = (numerator.fillna(0.0) / denominator.where(denominator > 0)).replace(
            [np.inf, -np.inf], np.nan
        )
    return result


def subtree_texts(own_texts: pd.DataFrame) -> pd.DataFrame:
    """Each unit's subtree texts, each prefixed by its author's name, in hierarchy order."""
    if own_texts.empty:
        return pd.DataFrame(columns=["unit_code", "indicator_code", "text"])
    labelled = own_texts.assign(line=own_texts["unit_name"] + ": " + own_texts["text"])
    joined = labelled.groupby(["ancestor_code", "indicator_code"], sort=False)["line"].agg(
        "\n".join
    )
    return joined.reset_index().rename(columns={"ancestor_code": "unit_code", "line": "text"})


def consolidated_values(
    connection: Connection, period: Period, deadline_days: int
) -> list[dict[str, object]]:
    """The period's consolidation: one row (unit_code, indicator_code, number, text_value) per
    unit and figure, numbers and rates first, then the subtree texts."""
    parameters = period_parameters(connection, period, deadline_days)
    totals = select_frame(connection, "select_subtree_totals", **parameters)
    reporting = select_frame(connection, "select_subtree_reporting", **parameters)
    own_texts = unit_texts(connection, period, deadline_days)

    wide = totals.pivot(index="unit_code", columns="indicator_code", values="number")
    flags = [indicator.code for indicator in load_catalogue() if indicator.kind == "flag"]
    flag_reporting = totals[totals["indicator_code"].isin(flags)].pivot(
        index="unit_code", columns="indicator_code", values="reporting_units"
    )
    flag_reporting.columns = [f"{code}_reporting" for code in flag_reporting.columns]
    wide = (
        reporting.set_index("unit_code")[list(REPORTING_COLUMNS)]
        .join(wide, how="left")
        .join(flag_reporting, how="left")
        .astype(float)
    )
    return value_rows(add_rates(wide), subtree_texts(own_texts))


def value_rows(wide: pd.DataFrame, texts: pd.DataFrame) -> list[dict[str, object]]:
    """A consolidation's rows (unit_code, indicator_code, number, text_value) from its figures
    and rates, wide by unit (blanks left out), then its subtree texts (`subtree_texts`)."""
    numbers = wide.rename_axis(index="unit_code", columns="indicator_code").stack().dropna()
    rows: list[dict[str, object]] = [
        {"unit_code": unit, "indicator_code": code, "number": float(value), "text_value": None}
        for (unit, code), value in numbers.items()
    ]
    rows += [
        {
            "unit_code": row.unit_code,
            "indicator_code": row.indicator_code,
            "number": None,
            "text_value": row.text,
        }
        for row in texts.itertuples()
    ]
    return rows


# The columns of `unit_texts`: each text of each active unit's counted submission, once under
# every active ancestor that collects it (the unit itself included), in hierarchy order.
SUBTREE_TEXT_COLUMNS = ("ancestor_code", "unit_code", "unit_name", "indicator_code", "text")


def unit_texts(connection: Connection, period: Period, deadline_days: int) -> pd.DataFrame:
    """The period's texts with the ancestors that collect them (SUBTREE_TEXT_COLUMNS)."""
    texts = select_frame(
        connection, "select_own_texts", **period_parameters(connection, period, deadline_days)
    )
    return texts.reindex(columns=list(SUBTREE_TEXT_COLUMNS))


def sector_totals(connection: Connection, period: Period, version: int) -> pd.DataFrame:
    """Grassroots organisations by sector with their rates, from one published version of the
    period: sector, indicator_code, number."""
    totals = select_frame(
        connection,
        "select_sector_totals",
        period=str(period),
        version=version,
        last_day=period.last_day,
        registry_version=registry_version_on(connection, period.last_day),
    )
    if totals.empty:
        return pd.DataFrame(columns=list(SECTOR_COLUMNS))
    totals["sector"] = totals["sector"].fillna("other")
    wide = totals.pivot_table(
        index="sector", columns="indicator_code", values="number", aggfunc="sum"
    ).astype(float)
    stacked = add_rates(wide).rename_axis(index="sector", columns="indicator_code").stack()
    return stacked.dropna().rename("number").reset_index()
