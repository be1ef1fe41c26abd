"""Reporting periods (SPEC §2): units report quarters (`2025Q1`); half-years (`2025H1`), years
(`2025`) and spans of whole quarters (`2021Q2-2023Q2`, a mid-term review) are derived from the
stored quarters. Parsing, bounds, deadlines, the quarters inside, and the quarter that just
ended."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from tonghop.errors import TonghopError

_QUARTER = r"(\d{4})Q([1-4])"
_FORMS = {
    "quarter": re.compile(rf"^{_QUARTER}$"),
    "half": re.compile(r"^(\d{4})H([1-2])$"),
    "year": re.compile(r"^(\d{4})$"),
    "span": re.compile(rf"^{_QUARTER}-{_QUARTER}$"),
}
# Every period text a run accepts, as one regular expression in the syntax JSON Schema and
# Python share: a quarter (2025Q3), a half year (2025H1), a year (2025) or a span of whole
# quarters (2021Q2-2023Q2). The run form of the Prefect UI refuses anything else before a run
# starts.
PERIOD_PATTERN = r"^(\d{4}(Q[1-4]|H[12])?|\d{4}Q[1-4]-\d{4}Q[1-4])$"
_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
FORMS_VI = "2025Q3 (quý), 2025H1 (sáu tháng), 2025 (năm) hoặc 2021Q2-2023Q2 (giai đoạn)"


class PeriodError(TonghopError, ValueError):
    """A period text that is not a well-formed period; the message is Vietnamese."""


def _index(year: int, quarter: int) -> int:
    """Quarters counted from year 0: consecutive quarters have consecutive indexes."""
    return 4 * year + quarter - 1


@dataclass(frozen=True, order=True)
class Period:
    """A run of `length` whole quarters ending with `quarter` of `year`: a quarter (length 1,
    written `2025Q1`), a half-year (`2025H1`), a year (`2025`) or any other span
    (`2021Q2-2023Q2`). Equal spans are equal whatever their writing: `2025Q1-2025Q2` is
    `2025H1`."""

    year: int
    quarter: int
    length: int = 1

    @classmethod
    def parse(cls, text: object) -> Period:
        written = str(text).strip().upper() if text is not None else ""
        for kind, pattern in _FORMS.items():
            match = pattern.match(written)
            if match:
                return cls._from_match(kind, match, text)
        raise PeriodError(
            f"Kỳ báo cáo «{text}» không đúng dạng: phải viết {FORMS_VI}."
            + (" Nửa năm chỉ có H1 và H2." if re.match(r"^\d{4}H\d$", written) else "")
        )

    @classmethod
    def _from_match(cls, kind: str, match: re.Match[str], text: object) -> Period:
        numbers = [int(group) for group in match.groups()]
        if kind == "quarter":
            return cls(numbers[0], numbers[1])
        if kind == "half":
            return cls(numbers[0], 2 * numbers[1], 2)
        if kind == "year":
            return cls(numbers[0], 4, 4)
        first, last = _index(numbers[0], numbers[1]), _index(numbers[2], numbers[3])
        if last < first:
            raise PeriodError(
                f"Kỳ báo cáo «{text}» không đúng: quý đầu phải trước quý cuối, ví dụ 2021Q2-2023Q2."
            )
        return cls(numbers[2], numbers[3], last - first + 1)

    @classmethod
    def just_ended(cls, today: date) -> Period:
        """The last quarter that ended strictly before `today`."""
        current = (today.month - 1) // 3 + 1
        return cls(today.year, current).previous()

    @classmethod
    def ended_before(cls, today: date, length: int) -> Period:
        """The last half-year (`length` 2) or year (4) that ended strictly before `today`."""
        quarter = cls.just_ended(today)
        while quarter.quarter % length:
            quarter = quarter.previous()
        return cls(quarter.year, quarter.quarter, length)

    @classmethod
    def of_quarters(cls, first: Period, last: Period) -> Period:
        """The span from the first quarter of `first` to the last quarter of `last`."""
        length = _index(last.year, last.quarter) - first.first_quarter_index + 1
        return cls(last.year, last.quarter, length)

    @property
    def first_quarter_index(self) -> int:
        return _index(self.year, self.quarter) - self.length + 1

    @property
    def first_quarter(self) -> Period:
        index = self.first_quarter_index
        return Period(index // 4, index % 4 + 1)

    @property
    def kind(self) -> str:
        """`quarter`, `half`, `year` or `span`."""
        if self.length == 1:
            return "quarter"
        if self.length == 2 and self.quarter in (2, 4):
            return "half"
        if self.length == 4 and self.quarter == 4:
            return "year"
        return "span"

    @property
    def is_quarter(self) -> bool:
        return self.length == 1

    def __str__(self) -> str:
        kind = self.kind
        if kind == "quarter":
            return f"{self.year}Q{self.quarter}"
        if kind == "half":
            return f"{self.year}H{self.quarter // 2}"
        if kind == "year":
            return str(self.year)
        first = self.first_quarter
        return f"{first}-{self.year}Q{self.quarter}"

    def quarters(self) -> tuple[Period, ...]:
        """The quarters of the period, oldest first."""
        start = self.first_quarter_index
        return tuple(
            Period(index // 4, index % 4 + 1) for index in range(start, start + self.length)
        )

    def contains(self, other: Period) -> bool:
        """Whether every quarter of `other` lies inside this period."""
        return self.first_quarter_index <= other.first_quarter_index and _index(
            other.year, other.quarter
        ) <= _index(self.year, self.quarter)

    @property
    def first_day(self) -> date:
        first = self.first_quarter
        return date(first.year, 3 * first.quarter - 2, 1)

    @property
    def last_day(self) -> date:
        return Period(self.year, self.quarter).next().first_day - timedelta(days=1)

    def deadline(self, days_after: int) -> date:
        """The last day on which a submission counts as on time (of the last quarter)."""
        return self.last_day + timedelta(days=days_after)

    def _shifted(self, quarters: int) -> Period:
        index = _index(self.year, self.quarter) + quarters
        return Period(index // 4, index % 4 + 1, self.length)

    def previous(self) -> Period:
        """The period of the same length just before (the previous quarter of a quarter)."""
        return self._shifted(-self.length)

    def next(self) -> Period:
        return self._shifted(self.length)

    def same_period_last_year(self) -> Period:
        """ "Cùng kỳ năm trước": the same quarters a year earlier."""
        return self._shifted(-4)

    @property
    def label_vi(self) -> str:
        """`Quý I năm 2025`, `6 tháng đầu năm 2025`, `năm 2025`, `giai đoạn Quý II/2021 – Quý
        II/2023`: how a report's title and sentences name the period."""
        kind = self.kind
        if kind == "quarter":
            return f"Quý {_ROMAN[self.quarter]} năm {self.year}"
        if kind == "half":
            return f"sáu tháng {'đầu' if self.quarter == 2 else 'cuối'} năm {self.year}"
        if kind == "year":
            return f"năm {self.year}"
        first = self.first_quarter
        return (
            f"giai đoạn Quý {_ROMAN[first.quarter]}/{first.year} – "
            f"Quý {_ROMAN[self.quarter]}/{self.year}"
        )

    @property
    def short_label_vi(self) -> str:
        """`Quý I/2025`: a quarter in a table's heading."""
        if self.is_quarter:
            return f"Quý {_ROMAN[self.quarter]}/{self.year}"
        return self.label_vi
