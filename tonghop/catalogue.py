"""The indicator catalogue (SPEC §3) and the derived rates (SPEC §6), loaded once from data."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CATALOGUE_PATH = Path(__file__).parent / "data" / "indicators.csv"

SECTION_TITLES_VI = {
    "A": "Tình hình tổ chức đảng và đảng viên",
    "B": "Học tập, quán triệt nghị quyết",
    "C": "Bồi dưỡng nhận thức, lý luận chính trị",
    "D": "Tuyên truyền",
    "E": "Kiểm tra, giám sát",
    "F": "Khen thưởng, phê bình",
    "G": "Đánh giá chung",
}


@dataclass(frozen=True)
class Indicator:
    """One row of `indicators.csv`."""

    code: str
    section: str
    label_vi: str
    label_en: str
    unit_vi: str
    kind: str  # count | flag | text
    reported_by: str  # leaf | any
    across_units: str
    across_periods: str

    @property
    def is_leaf_only(self) -> bool:
        return self.reported_by == "leaf"


@dataclass(frozen=True)
class Rate:
    """A ratio recomputed at every level from aggregated numerator and denominator."""

    code: str
    label_vi: str


# Rates whose numerator and denominator are plain indicator sums; the SQL in
# sql/select_rates.sql computes them, this list names and labels them.
RATES: tuple[Rate, ...] = (
    Rate("attendance_rate", "Tỷ lệ đảng viên tham gia học tập"),
    Rate("makeup_rate", "Tỷ lệ đảng viên vắng đã học bổ sung"),
    Rate("excellent_essay_rate", "Tỷ lệ bài thu hoạch xuất sắc"),
    Rate("online_session_share", "Tỷ lệ hội nghị trực tuyến, kết hợp"),
    Rate("grassroots_online_share", "Tỷ lệ TCCS đảng tổ chức học tập trực tuyến"),
    Rate("secretary_presented_share", "Tỷ lệ đơn vị có bí thư trực tiếp quán triệt"),
    Rate("reporting_completeness", "Tỷ lệ đơn vị đã báo cáo"),
    Rate("reporting_timeliness", "Tỷ lệ đơn vị báo cáo đúng hạn"),
)


@cache
def load_catalogue(path: Path = CATALOGUE_PATH) -> tuple[Indicator, ...]:
    """Read the catalogue in file order."""
    with path.open(encoding="utf-8", newline="") as handle:
        return tuple(Indicator(**row) for row in csv.DictReader(handle))


def by_code() -> dict[str, Indicator]:
    """The catalogue keyed by indicator code."""
    return {indicator.code: indicator for indicator in load_catalogue()}


def label_vi(code: str) -> str:
    """Vietnamese label of an indicator or a rate, or the code itself when unknown."""
    indicator = by_code().get(code)
    if indicator is not None:
        return indicator.label_vi
    rate = next((rate for rate in RATES if rate.code == code), None)
    return rate.label_vi if rate else code
