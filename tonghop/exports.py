"""The CSVs of a consolidation (SPEC §7): every unit's figures, and every expected unit's status.

Each is written twice: plain UTF-8 with `\n` lines for machines (the contract), and a copy for
people (`…-excel.csv`) in UTF-8 with a byte order mark and `\r\n` lines, which Excel opens with
its Vietnamese letters intact on a double click (without the mark it reads the bytes as the
Windows code page: «Tá»‰nh á»§y»). A longer period's status names the quarters each unit
reported."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import ExitStack
from itertools import islice
from pathlib import Path

from tonghop.catalogue import RATES
from tonghop.consolidation import ConsolidationView
from tonghop.longer_periods import QUARTERS_COLUMN, quarters_vi

CONSOLIDATED_HEADER = ("unit_code", "unit_name", "kind", "indicator_code", "value")
# Rows made and written at a time: few enough to hold, many enough for csv's C loop.
_ROWS_AT_ONCE = 10_000
# The copy for people of a longer period's status: the quarters in words.
QUARTERS_HEADERS_VI = ("Các quý đã báo cáo", "Các quý chưa báo cáo")


def _csv_number(value: float | None, *, rate: bool) -> str:
    """Whole numbers without `.0`, rates to 6 decimals without trailing zeros, blank as ``."""
    if value is None or value != value:  # NaN
        return ""
    if not rate and float(value).is_integer():
        return str(int(value))
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _open(path: Path, excel: bool):
    """The file to write, and the writer: plain for machines, Excel's dialect for people."""
    handle = path.open("w", encoding="utf-8-sig" if excel else "utf-8", newline="")
    return handle, csv.writer(handle, lineterminator="\r\n" if excel else "\n")


def consolidated_rows(view: ConsolidationView) -> Iterator[tuple[str, ...]]:
    """The consolidated CSV's rows: one per unit and numeric indicator or rate, in hierarchy and
    catalogue order, made one at a time (a province has 900,000)."""
    codes = [(indicator.code, False) for indicator in view.numeric]
    codes += [(rate.code, True) for rate in RATES]
    for unit in view.units:
        code_of_unit, name, kind = unit["code"], unit["name"] or "", unit["kind"]
        figures = view.figures_of(code_of_unit)
        for code, rate in codes:
            yield (code_of_unit, name, kind, code, _csv_number(figures.get(code), rate=rate))


def write_consolidated_csv(
    view: ConsolidationView, path: Path, *, excel: bool = False, also: Path | None = None
) -> None:
    """One row per unit and numeric indicator or rate (`consolidated_rows`), in hierarchy and
    catalogue order; with `also`, the copy for people is written there in the same pass (the
    rows cost far more to make than to write, and are never all held)."""
    copies = [_open(path, excel)]
    if also is not None:
        copies.append(_open(also, True))
    with ExitStack() as stack:
        writers = []
        for handle, writer in copies:
            stack.enter_context(handle)
            writers.append(writer)
        rows = consolidated_rows(view)
        for writer in writers:
            writer.writerow(CONSOLIDATED_HEADER)
        while chunk := list(islice(rows, _ROWS_AT_ONCE)):
            for writer in writers:
                writer.writerows(chunk)


def write_status_csv(view: ConsolidationView, path: Path, *, excel: bool = False) -> None:
    """One row per expected unit, in hierarchy order. A longer period adds the quarters each
    unit's status rests on: `quarters` for machines (`2025Q1:accepted,2025Q2:missing`) and, in
    the copy for people, the same in words under Vietnamese headers."""
    longer = not view.period.is_quarter
    handle, writer = _open(path, excel)
    with handle:
        header = ["unit_code", "status", "on_time", "errors", "warnings"]
        if longer:
            header.append(QUARTERS_COLUMN)
            if excel:
                header += list(QUARTERS_HEADERS_VI)
        writer.writerow(header)
        for entry in view.status:
            on_time = entry.get("on_time")
            row = [
                entry["unit_code"],
                entry["status"],
                "true" if on_time is True else "false" if on_time is False else "",
                int(entry.get("errors") or 0),
                int(entry.get("warnings") or 0),
            ]
            if longer:
                row.append(entry.get(QUARTERS_COLUMN) or "")
                if excel:
                    row += list(quarters_vi(entry.get(QUARTERS_COLUMN)))
            writer.writerow(row)
