"""The machine-readable CSVs of a consolidation (SPEC §7): every unit's figures, and every
expected unit's status."""

from __future__ import annotations

import csv
import math
from pathlib import Path

from tonghop.catalogue import RATES
from tonghop.consolidation import ConsolidationView


def _csv_number(value: float | None, *, rate: bool) -> str:
    """Whole numbers without `.0`, rates to 6 decimals without trailing zeros, blank as ``."""
    if value is None or math.isnan(value):
        return ""
    if not rate and float(value).is_integer():
        return str(int(value))
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def write_consolidated_csv(view: ConsolidationView, path: Path) -> None:
    """One row per unit and numeric indicator or rate, in hierarchy and catalogue order."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["unit_code", "unit_name", "kind", "indicator_code", "value"])
        for unit in view.units:
            code = unit["code"]
            identity = [code, unit["name"] or "", unit["kind"]]
            for indicator in view.numeric:
                value = _csv_number(view.number(code, indicator.code), rate=False)
                writer.writerow([*identity, indicator.code, value])
            for rate in RATES:
                value = _csv_number(view.number(code, rate.code), rate=True)
                writer.writerow([*identity, rate.code, value])


def write_status_csv(view: ConsolidationView, path: Path) -> None:
    """One row per expected unit, in hierarchy order."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["unit_code", "status", "on_time", "errors", "warnings"])
        for entry in view.status:
            on_time = entry.get("on_time")
            writer.writerow(
                [
                    entry["unit_code"],
                    entry["status"],
                    "true" if on_time is True else "false" if on_time is False else "",
                    int(entry.get("errors") or 0),
                    int(entry.get("warnings") or 0),
                ]
            )
