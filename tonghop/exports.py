"""The CSVs of a consolidation (SPEC §7): every unit's figures, and every expected unit's status.

Each is written twice: plain UTF-8 with `\n` lines for machines (the contract), and a copy for
people (`…-excel.csv`) in UTF-8 with a byte order mark and `\r\n` lines, which Excel opens with
its Vietnamese letters intact on a double click (without the mark it reads the bytes as the
Windows code page: «Tá»‰nh á»§y»). A longer period's status names the quarters each unit
reported."""

from __future__ import annotations

import csv
from pathlib import Path

from tonghop.catalogue import RATES
from tonghop.consolidation import ConsolidationView
from tonghop.longer_periods import QUARTERS_COLUMN, quarters_vi

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


def consolidated_rows(view: ConsolidationView) -> list[tuple[str, ...]]:
    """The consolidated CSV's rows: one per unit and numeric indicator or rate, in hierarchy and
    catalogue order. Made once for both copies: at a province's scale (900,000 rows) making
    them costs far more than writing them."""
    codes = [(indicator.code, False) for indicator in view.numeric]
    codes += [(rate.code, True) for rate in RATES]
    numbers = view.numbers
    return [
        (unit["code"], unit["name"] or "", unit["kind"], code, _csv_number(found, rate=rate))
        for unit in view.units
        for code, rate in codes
        for found in (numbers.get((unit["code"], code)),)
    ]


def write_consolidated_csv(
    view: ConsolidationView,
    path: Path,
    *,
    excel: bool = False,
    rows: list[tuple[str, ...]] | None = None,
) -> None:
    """One row per unit and numeric indicator or rate (`consolidated_rows`, made here unless
    given), in hierarchy and catalogue order."""
    handle, writer = _open(path, excel)
    with handle:
        writer.writerow(["unit_code", "unit_name", "kind", "indicator_code", "value"])
        writer.writerows(consolidated_rows(view) if rows is None else rows)


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
