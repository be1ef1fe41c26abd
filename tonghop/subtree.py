"""A consolidation cut down to one unit's subtree — what an upper-level unit's own workbook shows,
in the same layout as the province's: its units, their figures, statuses, problems and texts,
its grassroots organisations by sector, and what a version changed among them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import pandas as pd

from tonghop.aggregation import add_rates
from tonghop.catalogue import RATES
from tonghop.consolidation import SECTOR_COLUMNS, Consolidation
from tonghop.registry import GRASSROOTS_KINDS


def subtree_codes(units: pd.DataFrame, code: str) -> set[str]:
    """The unit and every unit below it."""
    children: dict[str, list[str]] = {}
    for child, parent in zip(units["code"], units["parent_code"], strict=True):
        if isinstance(parent, str):
            children.setdefault(parent, []).append(child)
    found, stack = {code}, [code]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def sector_figures(values: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    """Grassroots organisations by sector (SECTOR_COLUMNS): each sector's sum of its
    organisations' figures and how many organisations it has, with the rates recomputed."""
    organisations = units[units["kind"].isin(GRASSROOTS_KINDS)][["code", "sector"]]
    if organisations.empty:
        return pd.DataFrame(columns=list(SECTOR_COLUMNS))
    sector_of = dict(
        zip(organisations["code"], organisations["sector"].fillna("other"), strict=True)
    )
    rate_codes = {rate.code for rate in RATES}
    counted = values[
        values["unit_code"].isin(sector_of)
        & ~values["indicator_code"].isin(rate_codes)
        & values["number"].notna()
    ]
    wide = (
        counted.assign(sector=counted["unit_code"].map(sector_of))
        .pivot_table(index="sector", columns="indicator_code", values="number", aggfunc="sum")
        .astype(float)
    )
    wide = wide.reindex(sorted(set(sector_of.values())))
    wide["grassroots_units"] = pd.Series(sector_of).value_counts().astype(float)
    stacked = add_rates(wide).rename_axis(index="sector", columns="indicator_code").stack()
    return stacked.dropna().rename("number").reset_index()


def subtree_consolidation(consolidation: Consolidation, code: str) -> Consolidation:
    """The consolidation as seen from the unit `code`: only its subtree, levels counted from it."""
    units = consolidation.units
    inside = subtree_codes(units, code)
    kept = units[units["code"].isin(inside)].copy()
    kept["level"] = kept["level"] - int(kept.loc[kept["code"] == code, "level"].iloc[0])
    kept.loc[kept["code"] == code, "parent_code"] = None
    trimmed = _rows_of(consolidation, inside)
    return replace(
        trimmed,
        units=kept.reset_index(drop=True),
        sectors=sector_figures(trimmed.values, kept),
    )


def subtrees_only(consolidation: Consolidation, codes: Iterable[str]) -> Consolidation:
    """The consolidation with every unit still, but the figures, statuses, problems, texts and
    changes of the subtrees of `codes` only: what those units' reports and charts read (a
    pool's process drafting them is sent a fraction of a province)."""
    inside: set[str] = set()
    for code in codes:
        inside |= subtree_codes(consolidation.units, code)
    return _rows_of(consolidation, inside)


def _rows_of(consolidation: Consolidation, inside: set[str]) -> Consolidation:
    """The consolidation with the figures, statuses, problems, texts and changes of the units
    `inside` only."""

    def only(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[frame["unit_code"].isin(inside)].reset_index(drop=True)

    changes = consolidation.changes
    if changes is not None:
        changes = replace(changes, values=only(changes.values), units=only(changes.units))
    return replace(
        consolidation,
        values=only(consolidation.values),
        status=only(consolidation.status),
        problems=only(consolidation.problems),
        texts=only(consolidation.texts),
        changes=changes,
    )
