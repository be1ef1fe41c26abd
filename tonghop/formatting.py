"""Vietnamese formatting of counts, percentages, dates and times (14.103; 97,3%; 05/10/2025),
shared by the published workbook and the narrative report."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
from babel.numbers import format_decimal
from babel.numbers import format_percent as _babel_percent

LOCALE = "vi"
PERCENT_PATTERN = "#,##0.0%"


def is_blank(value: object) -> bool:
    """True for None, NaN, NA, NaT and empty or whitespace-only text."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # list-likes are never a scalar blank
        return False


def format_count(value: object) -> str:
    """`14103` → `14.103`; blank → ``."""
    if is_blank(value):
        return ""
    number = float(value)  # type: ignore[arg-type]
    if number.is_integer():
        # Babel's pattern machinery costs ~20 µs a number, paid on every line of a province's
        # tables; Vietnamese groups thousands with "." — the same text, made directly.
        return f"{int(number):,}".replace(",", ".")
    # Counts are whole; a stray fraction is shown rather than silently rounded away.
    return format_decimal(number, locale=LOCALE)


def format_percent(value: object) -> str:
    """A fraction `0.973` → `97,3%`; blank → ``."""
    if is_blank(value):
        return ""
    return _babel_percent(float(value), PERCENT_PATTERN, locale=LOCALE)  # type: ignore[arg-type]


def format_date(value: date | datetime | None) -> str:
    """`date(2025, 10, 5)` → `05/10/2025`; blank → ``."""
    if is_blank(value):
        return ""
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    # dd/MM/yyyy made directly: Babel's pattern parsing costs more than the letters it writes.
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


def format_datetime(value: datetime | None) -> str:
    """`datetime(2025, 10, 5, 8, 3)` → `05/10/2025 08:03`, wall-clock as given; blank → ``."""
    if is_blank(value):
        return ""
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    # dd/MM/yyyy HH:mm made directly, wall-clock as recorded (Babel would convert an aware
    # time to UTC, and costs more than the letters it writes).
    return f"{format_date(value)} {value.hour:02d}:{value.minute:02d}"


def format_bytes(size: float) -> str:
    """`1_572_864` → `1,5 MB`: sizes on disk as an operator reads them (1 KB = 1,024 bytes)."""
    for unit in ("byte", "KB", "MB", "GB"):
        if abs(size) < 1024 or unit == "GB":
            break
        size /= 1024
    if unit == "byte":
        return f"{format_decimal(int(size), locale=LOCALE)} byte"
    return f"{format_decimal(round(size, 1), locale=LOCALE)} {unit}"
