"""The CSVs of a consolidation (SPEC §7): every unit's figures, and every expected unit's status.

Each is written twice: plain UTF-8 with `\n` lines for machines (the contract), and a copy for
people (`…-excel.csv`) in UTF-8 with a byte order mark and `\r\n` lines, which Excel opens with
its Vietnamese letters intact on a double click (without the mark it reads the bytes as the
Windows code page: «Tá»‰nh á»§y»). A longer period's status names the quarters each unit
reported."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from contextlib import ExitStack
from itertools import islice
from pathlib import Path

from tonghop.catalogue import RATES
from tonghop.consolidation import ConsolidationView
from tonghop.longer_periods import QUARTERS_COLUMN, quarters_vi

CONSOLIDATED_HEADER = ("unit_code", "unit_name", "kind", "indicator_code", "value")
# Units whose rows are made and written at a time: about 10,000 rows, few enough to hold.
_UNITS_AT_ONCE = 250
# What a CSV field holds unquoted in both dialects.
_PLAIN = re.compile(r"[A-Za-z0-9_.-]+")
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


def write_consolidated_csv(
    view: ConsolidationView, path: Path, *, excel: bool = False, also: Path | None = None
) -> None:
    """One row per unit and numeric indicator or rate, in hierarchy and catalogue order; with
    `also`, the copy for people is written there in the same pass. A unit's rows are made as
    text at once around its name quoted by the csv module (a province has 900,000 rows: a row
    at a time through csv's writer cost seconds); the indicator codes and the figures never
    need quoting."""
    codes = [(indicator.code, False) for indicator in view.numeric]
    codes += [(rate.code, True) for rate in RATES]
    unsafe = [code for code, _ in codes if not _PLAIN.fullmatch(code)]
    if unsafe:
        raise ValueError(f"indicator codes that a CSV would have to quote: {unsafe}")
    copies = [_Copy(path, excel)]
    if also is not None:
        copies.append(_Copy(also, True))
    with ExitStack() as stack:
        for copy in copies:
            stack.enter_context(copy.handle)
            copy.handle.write(copy.line(CONSOLIDATED_HEADER))
        middles = [f",{code}," for code, _ in codes]
        units_left = iter(view.units)
        while units := list(islice(units_left, _UNITS_AT_ONCE)):
            made = []
            for unit in units:
                figures = view.figures_of(unit["code"])
                texts = [_csv_number(figures.get(code), rate=rate) for code, rate in codes]
                made.append((unit, texts))
            for copy in copies:
                end = copy.end
                lines = []
                for unit, texts in made:
                    prefix = copy.quoted((unit["code"], unit["name"] or "", unit["kind"]))
                    lines += [
                        f"{prefix}{middle}{text}{end}"
                        for middle, text in zip(middles, texts, strict=True)
                    ]
                copy.handle.write("".join(lines))


class _Copy:
    """One copy of a CSV being written: its file, its line end, and fields quoted as the csv
    module quotes them for Excel's dialect — a line break of either kind inside a name quoted
    in both copies (the module's plain dialect leaves a lone `\r` bare, which a reader takes for
    the end of the row)."""

    def __init__(self, path: Path, excel: bool) -> None:
        self.handle, _ = _open(path, excel)
        self.end = "\r\n" if excel else "\n"
        self._buffer = io.StringIO()
        self._quoting = csv.writer(self._buffer, lineterminator="\r\n")

    def quoted(self, fields: Sequence[str]) -> str:
        """The fields joined into one row, without its line end."""
        self._buffer.seek(0)
        self._buffer.truncate()
        self._quoting.writerow(fields)
        return self._buffer.getvalue().removesuffix("\r\n")

    def line(self, fields: Sequence[str]) -> str:
        """A whole row, with its line end."""
        return self.quoted(fields) + self.end


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
