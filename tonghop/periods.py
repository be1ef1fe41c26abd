"""Reporting periods (SPEC §2): parsing, bounds, deadlines and the quarter that just ended."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from tonghop.errors import TonghopError

_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
# Every period text a run accepts, as one regular expression in the syntax JSON Schema and
# Python share: a quarter (2025Q3), a half year (2025H1), a year (2025) or a span of whole
# quarters (2021Q2-2023Q2). The run form of the Prefect UI refuses anything else before a run
# starts.
PERIOD_PATTERN = r"^(\d{4}(Q[1-4]|H[12])?|\d{4}Q[1-4]-\d{4}Q[1-4])$"
_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


class PeriodError(TonghopError, ValueError):
    """A period text that is not a well-formed quarter; the message is Vietnamese."""


@dataclass(frozen=True, order=True)
class Period:
    """A calendar quarter, written `2025Q1`."""

    year: int
    quarter: int

    @classmethod
    def parse(cls, text: object) -> Period:
        match = _QUARTER.match(str(text).strip().upper()) if text is not None else None
        if not match:
            raise PeriodError(
                f"Kỳ báo cáo «{text}» không đúng dạng: phải viết năm và quý, ví dụ 2025Q1."
            )
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def just_ended(cls, today: date) -> Period:
        """The last quarter that ended strictly before `today`."""
        current = (today.month - 1) // 3 + 1
        return cls(today.year, current).previous()

    def __str__(self) -> str:
        return f"{self.year}Q{self.quarter}"

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.quarter - 2, 1)

    @property
    def last_day(self) -> date:
        return self.next().first_day - timedelta(days=1)

    def deadline(self, days_after: int) -> date:
        """The last day on which a submission counts as on time."""
        return self.last_day + timedelta(days=days_after)

    def previous(self) -> Period:
        if self.quarter == 1:
            return Period(self.year - 1, 4)
        return Period(self.year, self.quarter - 1)

    def next(self) -> Period:
        if self.quarter == 4:
            return Period(self.year + 1, 1)
        return Period(self.year, self.quarter + 1)

    @property
    def label_vi(self) -> str:
        """`Quý I năm 2025`."""
        return f"Quý {_ROMAN[self.quarter]} năm {self.year}"
