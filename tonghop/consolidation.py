"""The consolidation model: everything published for one period (`Consolidation`), the columns of
each of its frames, and the read-only index of it (`ConsolidationView`) that the workbook, the
CSVs, the feedback workbooks, the narrative reports and the charts all read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING

import pandas as pd

from tonghop import catalogue
from tonghop.catalogue import Indicator
from tonghop.formatting import is_blank
from tonghop.periods import Period
from tonghop.registry import GRASSROOTS_KINDS

if TYPE_CHECKING:
    # Only named in an annotation: versions stores what this module declares.
    from tonghop.versions import Changes

# The columns each frame of a consolidation has. A frame may carry more (the status of a stored
# version also names the submission counted); these are the ones the outputs read, so a frame
# missing one is refused when it is indexed, not half-way through writing a file.

# level: 0 for the province; position: the unit's place in hierarchy order.
UNIT_COLUMNS = ("code", "name", "kind", "sector", "parent_code", "level", "position")
# number: float, NaN when blank; text: the value of a text indicator, else None.
VALUE_COLUMNS = ("unit_code", "indicator_code", "number", "text")
# The grassroots organisations of each sector; a row whose sector is blank, if any, is the total.
SECTOR_COLUMNS = ("sector", "indicator_code", "number")
# status: one of STATUS_LABELS_VI; on_time: True, False, or None when nothing was accepted.
STATUS_COLUMNS = (
    "unit_code",
    "status",
    "on_time",
    "received_at",
    "file_name",
    "errors",
    "warnings",
)
# The problems of each unit's latest received file (which may be newer than the one counted);
# submission_number: that file is the unit's nth of the period.
PROBLEM_COLUMNS = (
    "unit_code",
    "submission_number",
    "file_name",
    "received_at",
    "rule",
    "severity",
    "indicator_code",
    "row_number",
    "message",
)
# indicator_code: one of TEXT_CODES.
TEXT_COLUMNS = ("unit_code", "indicator_code", "text")

# The units' own texts, in the order every output lists them.
TEXT_CODES = ("highlights", "limitations", "proposals")
# The statuses whose report counts.
ACCEPTED = ("accepted", "accepted_with_warnings")
STATUS_LABELS_VI = {
    "accepted": "Đã tiếp nhận",
    "accepted_with_warnings": "Đã tiếp nhận, có cảnh báo",
    "rejected": "Bị trả lại",
    "missing": "Chưa nộp",
    # a longer period's unit that reported some of its quarters only (tonghop/longer_periods.py)
    "partial": "Chưa đủ các quý",
}


@dataclass
class Consolidation:
    """Everything published for one period, as plain DataFrames (columns: the `*_COLUMNS`
    constants of this module)."""

    period: Period
    generated_at: datetime  # naive local time (Asia/Ho_Chi_Minh)
    deadline: date
    units: pd.DataFrame  # UNIT_COLUMNS
    values: pd.DataFrame  # VALUE_COLUMNS
    sectors: pd.DataFrame  # SECTOR_COLUMNS
    status: pd.DataFrame  # STATUS_COLUMNS
    problems: pd.DataFrame  # PROBLEM_COLUMNS
    texts: pd.DataFrame  # TEXT_COLUMNS
    # which published version this is, and what it changed against the one before
    version: int = 1
    changes: Changes | None = None

    @cached_property
    def view(self) -> ConsolidationView:
        """The consolidation indexed for lookups, built on first use and shared by every output
        written from it (at a province's scale the indexing costs half a second)."""
        return ConsolidationView(self)

    def __setattr__(self, name: str, value: object) -> None:
        # A frame replaced after the index was built would be shown stale: build it again.
        super().__setattr__(name, value)
        self.__dict__.pop("view", None)

    def __getstate__(self) -> dict[str, object]:
        # A process writing outputs is sent the frames only: it indexes them again faster than
        # the index (800,000 keyed figures) pickles.
        state = dict(self.__dict__)
        state.pop("view", None)
        return state


def check_columns(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> pd.DataFrame:
    """`frame` itself, when it has every one of `columns`; else ValueError naming the missing."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"the consolidation's {name} lack the columns {missing}")
    return frame


_NO_FIGURES: Mapping[str, float] = MappingProxyType({})


class ConsolidationView:
    """A consolidation indexed for lookups, read-only: units in hierarchy order, figures by unit
    and indicator, statuses, problems and texts in the order every output lists them.

    Units and figures are indexed at once, since every output reads them; the other frames on
    first use, since the charts never do."""

    def __init__(self, consolidation: Consolidation) -> None:
        self.source = consolidation
        self.period = consolidation.period
        units = check_columns(consolidation.units, UNIT_COLUMNS, "units")
        units = units.sort_values("position", kind="stable")
        self.units: list[dict] = [
            {key: plain_value(value) for key, value in row.items()}
            for row in units.to_dict("records")
        ]
        self.by_code = {unit["code"]: unit for unit in self.units}
        self.position = {unit["code"]: index for index, unit in enumerate(self.units)}

        # Counts and flag counts in catalogue order: the rows of every numeric table.
        self.numeric: list[Indicator] = [
            indicator
            for indicator in catalogue.load_catalogue()
            if indicator.kind in ("count", "flag")
        ]

        values = check_columns(consolidation.values, VALUE_COLUMNS, "values")
        values = values[values["number"].notna()]
        # By unit, then indicator: half the memory of one dict keyed by pairs (a province has
        # 800,000 figures), and a unit's figures are found once for all its rows.
        self.figures: dict[str, dict[str, float]] = {}
        for unit_code, code, number in zip(
            values["unit_code"].tolist(),
            values["indicator_code"].tolist(),
            values["number"].astype(float).tolist(),
            strict=True,
        ):
            figures = self.figures.get(unit_code)
            if figures is None:
                figures = self.figures[unit_code] = {}
            figures[code] = number
        self.figure_codes = {code for figures in self.figures.values() for code in figures}

    def number(self, unit_code: str, code: str) -> float | None:
        """The unit's figure `code`, or None when it is blank or absent."""
        return self.figures.get(unit_code, _NO_FIGURES).get(code)

    def figures_of(self, unit_code: str) -> Mapping[str, float]:
        """Every figure of the unit by indicator code (none for a unit absent)."""
        return self.figures.get(unit_code, _NO_FIGURES)

    def name(self, code: str | None) -> str:
        """The unit's name, "" for a unit absent or without one."""
        unit = self.by_code.get(code) if code else None
        return (unit["name"] or "") if unit else ""

    @cached_property
    def display_names(self) -> dict[str, str]:
        """Each unit's name as a document names it, never the same for two units: a unit below
        a grassroots organisation carries that organisation ("Chi bộ Văn phòng (Đảng bộ Sở Y
        tế)"); a name still shared takes the next organisation up, then the unit's code."""
        qualifiers: dict[str, list[str]] = {}
        for unit in self.units:
            chain = []
            if unit["kind"] in ("cell", "partial_committee"):
                for ancestor in self.ancestors(unit["code"]):
                    chain.append(ancestor)
                    if self.by_code[ancestor]["kind"] in GRASSROOTS_KINDS:
                        break
                chain = chain[-1:]  # the organisation itself; the rest only when needed
            qualifiers[unit["code"]] = chain
        for _ in range(3):
            shown = {code: self._shown_name(code, chain) for code, chain in qualifiers.items()}
            shared = _shared(shown)
            if not shared:
                return shown
            for code in shared:
                more = [a for a in self.ancestors(code) if a not in qualifiers[code]]
                if more:  # the nearest organisation not named yet, kept in hierarchy order
                    qualifiers[code] = sorted(
                        [*qualifiers[code], more[0]], key=lambda a: -self.position[a]
                    )
        shown = {code: self._shown_name(code, chain) for code, chain in qualifiers.items()}
        for code in _shared(shown):
            shown[code] = f"{shown[code]} [{code}]"
        return shown

    def _shown_name(self, code: str, qualifiers: list[str]) -> str:
        name = self.name(code) or code
        if not qualifiers:
            return name
        return f"{name} ({', '.join(self.name(q) or q for q in qualifiers)})"

    def ancestors(self, code: str) -> list[str]:
        """The unit's ancestors present in the consolidation, nearest first."""
        found: list[str] = []
        parent = self.by_code.get(code, {}).get("parent_code")
        while parent in self.by_code and parent not in found:
            found.append(parent)
            parent = self.by_code[parent]["parent_code"]
        return found

    def display_name(self, code: str | None) -> str:
        """`display_names` of one unit, "" for none."""
        return self.display_names.get(code, code or "") if code else ""

    def hierarchy_rank(self, code: str) -> tuple[int, str]:
        """What sorts units in hierarchy order; units absent from the hierarchy (should not
        happen) go last, by code."""
        return (self.position.get(code, len(self.position)), str(code))

    @cached_property
    def sector_numbers(self) -> dict[tuple[str | None, str], float]:
        """Figures by (sector, indicator); the sector None is the given total."""
        sectors = check_columns(self.source.sectors, SECTOR_COLUMNS, "sectors")
        return {
            (plain_value(sector), code): float(number)
            for sector, code, number in zip(
                sectors["sector"], sectors["indicator_code"], sectors["number"], strict=True
            )
            if not is_blank(number)
        }

    @cached_property
    def status(self) -> list[dict]:
        """Every expected unit's status, in hierarchy order."""
        return self._in_hierarchy_order(check_columns(self.source.status, STATUS_COLUMNS, "status"))

    @cached_property
    def problems(self) -> list[dict]:
        """Problems by unit in hierarchy order, then by row, errors before warnings, by rule."""
        rows = self._in_hierarchy_order(
            check_columns(self.source.problems, PROBLEM_COLUMNS, "problems")
        )
        severity_rank = {"error": 0, "warning": 1}

        def key(row: dict) -> tuple:
            number = row.get("row_number")
            return (
                self.hierarchy_rank(row["unit_code"]),
                -1 if number is None else int(number),
                severity_rank.get(row.get("severity"), 2),
                str(row.get("rule") or ""),
            )

        return sorted(rows, key=key)

    @cached_property
    def texts(self) -> list[dict]:
        """The units' non-empty texts by unit in hierarchy order, then in TEXT_CODES order."""
        order = {code: index for index, code in enumerate(TEXT_CODES)}
        frame = check_columns(self.source.texts, TEXT_COLUMNS, "texts")
        rows = [row for row in self._in_hierarchy_order(frame) if row.get("text")]
        return sorted(
            rows,
            key=lambda row: (
                self.hierarchy_rank(row["unit_code"]),
                order.get(row["indicator_code"], 99),
            ),
        )

    def _in_hierarchy_order(self, frame: pd.DataFrame) -> list[dict]:
        rows = [{k: plain_value(v) for k, v in row.items()} for row in frame.to_dict("records")]
        return sorted(rows, key=lambda row: self.hierarchy_rank(row["unit_code"]))


def _shared(shown: dict[str, str]) -> list[str]:
    """The units whose shown name another unit also has."""
    counts: dict[str, int] = {}
    for name in shown.values():
        counts[name] = counts.get(name, 0) + 1
    return [code for code, name in shown.items() if counts[name] > 1]


def plain_value(value: object) -> object:
    """pandas' missing markers (NaN, NA, NaT) → None; Timestamps → datetimes, shown as stored:
    every time the product stores is naive, in the operators' time zone (TONGHOP_TIMEZONE)."""
    if value is None or (not isinstance(value, str) and is_blank(value)):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime) and value.tzinfo is not None:
        # Converting it here would need a time zone the settings alone decide: a defect.
        raise ValueError(f"a time with a time zone reached an output: {value!r}")
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars → Python
        value = value.item()
    return value
