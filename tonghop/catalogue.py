"""The indicator catalogue (SPEC §3) and the derived rates (SPEC §6), loaded once from data."""

from __future__ import annotations

import csv
import hashlib
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
    """A ratio recomputed at every level from aggregated numerator and denominator (SPEC §6).

    Each side is a sum of figures; a term written "-code" is subtracted. A side whose figures
    are all blank is blank, and so is the rate; a denominator of 0 gives a blank rate too.
    """

    code: str
    label_vi: str
    numerator: tuple[str, ...]
    denominator: tuple[str, ...]


# Figures the consolidation adds beside the catalogue's: the counts behind the reporting rates,
# the grassroots online share and the flags' shares.
REPORTING_FIGURES: dict[str, str] = {
    "expected_units": "Số đơn vị phải báo cáo",
    "accepted_units": "Số đơn vị đã báo cáo được tiếp nhận",
    "on_time_units": "Số đơn vị báo cáo đúng hạn",
    "grassroots_units": "Số tổ chức cơ sở đảng",
    "grassroots_reporting": "Số tổ chức cơ sở đảng có báo cáo hội nghị học tập",
    "grassroots_online": "Số tổ chức cơ sở đảng tổ chức học tập trực tuyến",
    "secretary_presented_reporting": "Số đơn vị báo cáo việc bí thư trực tiếp quán triệt",
}

RATES: tuple[Rate, ...] = (
    Rate(
        "attendance_rate",
        "Tỷ lệ đảng viên tham gia học tập",
        ("members_attended",),
        ("members", "-members_exempt"),
    ),
    Rate(
        "makeup_rate",
        "Tỷ lệ đảng viên vắng đã học tập bổ sung",
        ("members_makeup",),
        ("members_absent",),
    ),
    Rate(
        "excellent_essay_rate",
        "Tỷ lệ bài thu hoạch xếp loại xuất sắc",
        ("essays_excellent",),
        ("essays",),
    ),
    Rate(
        "online_session_share",
        "Tỷ lệ hội nghị tổ chức trực tuyến, kết hợp",
        ("sessions_online", "sessions_hybrid"),
        ("sessions_total",),
    ),
    Rate(
        "grassroots_online_share",
        "Tỷ lệ tổ chức cơ sở đảng tổ chức học tập trực tuyến",
        ("grassroots_online",),
        ("grassroots_reporting",),
    ),
    Rate(
        "secretary_presented_share",
        "Tỷ lệ đơn vị có bí thư cấp ủy trực tiếp quán triệt",
        ("secretary_presented",),
        ("secretary_presented_reporting",),
    ),
    Rate(
        "reporting_completeness",
        "Tỷ lệ đơn vị đã báo cáo",
        ("accepted_units",),
        ("expected_units",),
    ),
    Rate(
        "reporting_timeliness",
        "Tỷ lệ đơn vị báo cáo đúng hạn",
        ("on_time_units",),
        ("expected_units",),
    ),
)


@cache
def load_catalogue(path: Path = CATALOGUE_PATH) -> tuple[Indicator, ...]:
    """Read the catalogue in file order."""
    with path.open(encoding="utf-8", newline="") as handle:
        return tuple(Indicator(**row) for row in csv.DictReader(handle))


@cache
def catalogue_version(path: Path = CATALOGUE_PATH) -> str:
    """A short fingerprint of the catalogue: the form changes when it does."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def by_code() -> dict[str, Indicator]:
    """The catalogue keyed by indicator code."""
    return {indicator.code: indicator for indicator in load_catalogue()}


def label_vi(code: str) -> str:
    """Vietnamese label of an indicator or a rate, or the code itself when unknown."""
    indicator = by_code().get(code)
    if indicator is not None:
        return indicator.label_vi
    rate = next((rate for rate in RATES if rate.code == code), None)
    if rate is not None:
        return rate.label_vi
    return REPORTING_FIGURES.get(code, code)
