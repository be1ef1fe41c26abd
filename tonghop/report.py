"""The narrative report (báo cáo) of a consolidated period for the province or an upper-level unit,
drafted for its committee to sign: its content composed as Vietnamese sentences in the register
of the seed reports and in the issuer's own voice, rendered to Word through an editable docxtpl
template (heading styles, page numbers, the draft's note as a Word comment) and to a
self-contained HTML page.

What the report says of its issuer (place, heading, symbol, recipients, signer) comes from the
unit's settings file (`tonghop.issuers`); what units wrote is read through `tonghop.opinions`:
split into points, near-identical points counted once, and only proposals addressed above the
issuer relayed. Units are named by their display names (never two alike), and lists of them go
to the appendix (Phụ lục), the body giving counts."""

from __future__ import annotations

import base64
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path

from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, TemplateError, select_autoescape

from tonghop.catalogue import by_code
from tonghop.consolidation import Consolidation, ConsolidationView
from tonghop.formatting import LOCALE, format_count, format_date, format_percent
from tonghop.issuers import DEFAULT_TEMPLATE, Issuer, issuer_settings, registry_defaults
from tonghop.layout import report_paths, write_atomically
from tonghop.longer_periods import ACCEPTED, PARTIAL, QUARTER_OUTCOMES_VI, quarters_of
from tonghop.opinions import (
    Group,
    Tree,
    addressed_points,
    group_points,
    normalised,
    same_point,
    split_points,
)
from tonghop.periods import Period
from tonghop.quarter_figures import QuarterFigures
from tonghop.registry import GRASSROOTS_KINDS, KIND_LABELS_VI, SECTOR_LABELS_VI, SECTORS

DATA_DIR = Path(__file__).parent / "data"
DOCX_TEMPLATE = DATA_DIR / "bao-cao-mau.docx"
HTML_TEMPLATE = "bao-cao.html.j2"
MAX_POINTS = 10  # units' points in one part of the body; the appendix lists every one
MAX_NAMED = 3  # units named beside a highlight in the body; more are counted
CHART_WIDTH_MM = 150
TASKS_STYLE = "List Number"  # the template's numbered tasks (section IV) are in this style

CHART_CAPTIONS_VI = {
    # a longer period's quarters side by side, first: what its readers compare
    "quarters": "Một số chỉ tiêu chủ yếu qua các quý",
    "attendance": "Tỷ lệ đảng viên tham gia học tập",
    "reporting": "Tình hình gửi báo cáo của các đơn vị",
    "sessions": "Hội nghị học tập, quán triệt theo hình thức tổ chức",
}

# Characters XML 1.0 forbids; a unit's text carrying one would make the .docx unreadable.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Seed reports write counts under ten with a leading zero ("04 hội nghị", "03 lớp").
_SMALL_COUNT_PATTERN = "00"
_PROPOSING = re.compile(r"^(đề nghị|kiến nghị|đề xuất)\b", re.IGNORECASE)
# How a longer period's text marks each quarter's part (tonghop/longer_periods.py).
_QUARTER_LABEL = re.compile(r"^(Quý [IV]+/\d{4}): ", re.MULTILINE)


# --------------------------------------------------------------------------- wording helpers


def count_vi(value: float | None) -> str:
    """A count as written in a report: `14.103`, `04`, `0`; blank → ``."""
    if value is None:
        return ""
    if not 0 < value < 10 or not float(value).is_integer():
        return format_count(value)
    return format_decimal(int(value), format=_SMALL_COUNT_PATTERN, locale=LOCALE)


_MONTH_WORDS = {3: "ba", 6: "sáu", 9: "chín"}
_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


@dataclass(frozen=True)
class PeriodWords:
    """How a report words its period — the one place it does.

    `text` names it in a sentence (`quý III năm 2025`, `sáu tháng đầu năm 2025`, `năm 2025`,
    `giai đoạn từ quý II/2021 đến quý II/2023`); `within` follows "Trong" (`quý`, `sáu tháng
    đầu năm`, `năm`, `giai đoạn này`); `in_title` ends the title (`giai đoạn 2021–2023` for a
    review); `compared` is what figures are compared with (`quý trước`, `cùng kỳ năm trước`),
    None for a span longer than a year, which would overlap the same span a year earlier;
    `review`: a span longer than a year is a mid-term review (sơ kết, seed 001)."""

    text: str
    within: str
    in_title: str
    compared: str | None
    review: bool = False


def period_words(period: Period) -> PeriodWords:
    """The words of `period` (see `PeriodWords`)."""
    kind = period.kind
    if kind == "quarter":
        text = _lower_first(period.label_vi)
        return PeriodWords(text, "quý", text, "quý trước")
    if kind in ("half", "year"):
        text = period.label_vi
        within = text.removesuffix(f" {period.year}")
        return PeriodWords(text, within, text, "cùng kỳ năm trước")
    first, last = period.first_quarter, Period(period.year, period.quarter)
    from_to = f"từ {_lower_first(first.short_label_vi)} đến {_lower_first(last.short_label_vi)}"
    if period.length > 4:
        return PeriodWords(
            f"giai đoạn {from_to}",
            "giai đoạn này",
            f"giai đoạn {first.year}–{last.year}",
            None,
            review=True,
        )
    if first.year == last.year and first.quarter == 1:
        within = f"{_MONTH_WORDS[3 * period.length]} tháng đầu năm"
        text = f"{within} {period.year}"
        return PeriodWords(text, within, text, "cùng kỳ năm trước")
    if first.year == last.year:
        text = f"từ quý {_ROMAN[first.quarter]} đến quý {_ROMAN[last.quarter]} năm {period.year}"
    else:
        text = from_to
    return PeriodWords(text, "giai đoạn này", text, "cùng kỳ năm trước")


def compares_with_previous(period: Period) -> bool:
    """Whether the report of `period` compares its figures with an earlier period's: a quarter
    with the quarter before, a half-year, a year or a span of up to a year with the same period
    a year earlier; a longer span (a review) with none, since it would overlap it."""
    return period_words(period).compared is not None


def duration_vi(period: Period) -> str:
    """How long a period lasts, as a review says it: `02 năm 03 tháng`, `09 tháng`."""
    years, months = divmod(3 * period.length, 12)
    parts = ([f"{count_vi(years)} năm"] if years else []) + (
        [f"{count_vi(months)} tháng"] if months else []
    )
    return " ".join(parts)


def _points_vi(difference: float) -> str:
    """A difference of two rates in percentage points, without sign: `1,2`."""
    return format_decimal(abs(difference) * 100, format="#,##0.0", locale=LOCALE)


def change_vi(
    current: float | None,
    before: float | None,
    *,
    rate: bool = False,
    compared: str = "quý trước",
) -> str:
    """`tăng 12,5% so với quý trước` / `giảm …` / `bằng quý trước` (`compared` says with what:
    `cùng kỳ năm trước` for a longer period); `` when either is blank.

    Rates change by percentage points; a count that was 0 has no relative change to state.
    """
    if current is None or before is None:
        return ""
    if current == before:
        return f"bằng {compared}"
    direction = "tăng" if current > before else "giảm"
    if rate:
        return f"{direction} {_points_vi(current - before)} điểm phần trăm so với {compared}"
    if before == 0:
        return ""
    return f"{direction} {format_percent(abs(current - before) / before)} so với {compared}"


def date_vi(day: date) -> str:
    """`ngày 06 tháng 12 năm 2026`; days under 10 and months under 3 with a leading zero, as
    Party documents write them."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


def _clean_text(text: object) -> str:
    return _XML_ILLEGAL.sub("", str(text)).strip()


def _join_vi(parts: list[str]) -> str:
    """`a, b và c`."""
    parts = [part for part in parts if part]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " và " + parts[-1]


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", ":", "…")) else ".")


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _with_aside(text: str, aside: str) -> str:
    """`Text.` + aside → `Text (aside).`"""
    body = text.rstrip(".")
    return f"{body} ({aside})."


def _heading(text: str) -> dict:
    return {"kind": "heading", "text": text}


def _para(text: str) -> dict:
    return {"kind": "text", "text": text}


def _bullet(text: str) -> dict:
    return {"kind": "bullet", "text": text}


def _subject(name: str, kind: str) -> str:
    """How the report names the whole organisation it speaks for, as in the seeds."""
    if kind == "province":
        return "toàn Đảng bộ"
    if name.lower().startswith("đảng ủy "):
        return "Đảng bộ " + name[len("Đảng ủy ") :]
    for committee in ("Huyện ủy ", "Quận ủy ", "Thị ủy ", "Thành ủy "):
        if name.startswith(committee):
            return "Đảng bộ " + committee.split()[0].lower() + " " + name.removeprefix(committee)
    return name


# --------------------------------------------------------------------------- the content


class _Report:
    """One unit's figures, subtree, statuses and texts, with the sentences built from them."""

    def __init__(
        self,
        view: ConsolidationView,
        unit_code: str,
        previous: ConsolidationView | None,
        threshold: float,
        issuer: Issuer,
        quarters: QuarterFigures | None = None,
    ) -> None:
        self.view = view
        if unit_code not in self.view.by_code:
            raise ValueError(f"unit not in the consolidation: {unit_code!r}")
        self.code = unit_code
        self.unit = self.view.by_code[unit_code]
        self.period = view.period
        self.words = period_words(view.period)
        self.period_text = self.words.text
        # A half-year, a year or a span: combined from the stored quarters.
        self.longer = not view.period.is_quarter
        # A review's span would overlap the same span a year earlier: it compares with none;
        # nor is a period in which nothing of the unit's subtree was accepted anything to
        # compare with.
        self.previous = (
            previous
            if self.words.compared
            and previous is not None
            and previous.number(unit_code, "accepted_units")
            else None
        )
        self.quarters = (
            quarters if quarters is not None and quarters.period == self.period else None
        )
        self.threshold = threshold
        self.issuer = issuer
        children: dict[str | None, list[str]] = {}
        for unit in self.view.units:  # hierarchy order
            children.setdefault(unit["parent_code"], []).append(unit["code"])
        self.children = children
        self.descendants = self._descendants(unit_code)
        self.status = {row["unit_code"]: row for row in self.view.status}
        # which of the issuer's direct children each unit of the subtree belongs to
        self.branch_of = {}
        for child in self.children.get(unit_code, []):
            self.branch_of[child] = child
            for code in self._descendants(child):
                self.branch_of[code] = child
        self.tree = Tree(
            names={u["code"]: u["name"] or u["code"] for u in self.view.units},
            parents={u["code"]: u["parent_code"] for u in self.view.units},
        )
        self.not_relayed = 0  # units' proposal points addressed to the issuer or below
        self.opinions = {
            indicator: self._opinions(indicator)
            for indicator in ("highlights", "limitations", "causes")
        }
        self.proposal_groups = self._proposals()

    def _descendants(self, code: str) -> list[str]:
        found: list[str] = []
        stack = list(reversed(self.children.get(code, [])))
        while stack:
            current = stack.pop()
            found.append(current)
            stack.extend(reversed(self.children.get(current, [])))
        return sorted(found, key=self.view.position.__getitem__)

    def figure(self, code: str) -> float | None:
        """The unit's figure `code` this period; None when blank."""
        return self.view.number(self.code, code)

    def before(self, code: str) -> float | None:
        """The unit's figure `code` in the previous period; None when blank or not published."""
        return self.previous.number(self.code, code) if self.previous is not None else None

    def change(self, code: str, *, rate: bool = False) -> str:
        """How the figure `code` moved since the period compared with, in words (see
        `change_vi`)."""
        if self.words.compared is None:
            return ""
        return change_vi(
            self.figure(code), self.before(code), rate=rate, compared=self.words.compared
        )

    def averaged(self, code: str) -> bool:
        """Whether the figure `code` of this period is a quarter's average (members who
        attended, over a longer period)."""
        indicator = by_code().get(code)
        return self.longer and indicator is not None and indicator.across_periods == "average"

    def as_count(self, code: str) -> str:
        """The figure `code` written as a count in a report: `14.103`, `04`; a quarter's average
        to the whole person."""
        value = self.figure(code)
        if value is not None and self.averaged(code):
            value = float(round(value))
        return count_vi(value)

    def as_percent(self, code: str) -> str:
        """The figure `code` (a rate) written as a percent: `97,3%`."""
        return format_percent(self.figure(code))

    @property
    def name(self) -> str:
        """The issuer as its sentences name it."""
        return self.issuer.settings.ten_trong_cau or self.unit["name"] or self.code

    @property
    def subject(self) -> str:
        return _subject(self.unit["name"] or self.code, self.unit["kind"])

    def display(self, code: str) -> str:
        return self.view.display_name(code)

    @property
    def basis(self) -> str:
        """`theo báo cáo của 1.207/1.253 đơn vị`: what the sums of reported figures rest on;
        over a longer period, the units with at least one quarter's report counted (`theo báo
        cáo các quý của 1.250/1.254 đơn vị`)."""
        if self.longer:
            return self._longer_basis()
        expected, accepted = self.figure("expected_units"), self.figure("accepted_units")
        if expected is None or accepted is None:
            return ""
        if accepted == expected:
            return f"theo báo cáo của toàn bộ {format_count(expected)} đơn vị"
        return f"theo báo cáo của {format_count(accepted)}/{format_count(expected)} đơn vị"

    def _longer_basis(self) -> str:
        entries = [self.status[code] for code in self.subtree if code in self.status]
        if not entries:
            return ""
        reported = sum(entry["status"] in (*ACCEPTED, PARTIAL) for entry in entries)
        if reported == len(entries):
            return f"theo báo cáo các quý của toàn bộ {format_count(reported)} đơn vị"
        return (
            f"theo báo cáo các quý của {format_count(reported)}/{format_count(len(entries))} đơn vị"
        )

    @property
    def subtree(self) -> list[str]:
        """The unit itself and every unit below it, in hierarchy order."""
        return [self.code, *self.descendants]

    # ---- I. situation

    def situation(self) -> list[dict]:
        items = [_heading("1. Tình hình tổ chức đảng và đảng viên")]
        units = [self.view.by_code[code] for code in self.descendants]
        kinds = {kind: sum(u["kind"] == kind for u in units) for kind in KIND_LABELS_VI}
        grassroots = [u for u in units if u["kind"] in GRASSROOTS_KINDS]
        parts = []
        if grassroots:
            shape = (
                f"{count_vi(len(grassroots))} tổ chức cơ sở đảng, trong đó: "
                f"{count_vi(kinds['grassroots_committee'])} đảng bộ cơ sở, "
                f"{count_vi(kinds['grassroots_cell'])} chi bộ cơ sở"
            )
            by_sector = [
                f"{count_vi(sum(u['sector'] == sector for u in grassroots))} tổ chức cơ sở đảng "
                f"thuộc loại hình {_lower_first(SECTOR_LABELS_VI[sector])}"
                for sector in SECTORS
                if any(u["sector"] == sector for u in grassroots)
            ]
            if by_sector:
                shape += " (" + "; ".join(by_sector) + ")"
            parts.append(shape)
        if kinds["upper"]:
            parts.insert(0, f"{count_vi(kinds['upper'])} đảng bộ cấp trên cơ sở trực thuộc")
        if kinds["cell"]:
            parts.append(f"{count_vi(kinds['cell'])} chi bộ trực thuộc")
        if kinds["partial_committee"]:
            parts.append(f"{count_vi(kinds['partial_committee'])} đảng bộ bộ phận")
        if parts:
            items.append(_para(_sentence(f"Hiện nay, {self.subject} có {_join_vi(parts)}")))
        if self.figure("members") is not None:
            members = f"tổng số đảng viên là {self.as_count('members')} đồng chí"
            if self.longer:
                # a stock: the last quarter's of each unit (across_periods "last")
                members = (
                    f"tổng số đảng viên (theo báo cáo quý gần nhất của mỗi đơn vị) là "
                    f"{self.as_count('members')} đồng chí"
                )
            items.append(_para(_sentence(f"{self.basis}, {members}" if self.basis else members)))

        items.append(_heading("2. Công tác lãnh đạo, chỉ đạo và tổ chức thực hiện"))
        items.append(
            _para(
                "Căn cứ hướng dẫn của cấp trên, các cấp ủy trong "
                f"{self.subject.removeprefix('toàn ')} đã xây dựng kế hoạch, tổ chức cho cán bộ, "
                "đảng viên nghiên cứu, học tập, quán triệt và tuyên truyền các nghị quyết, chỉ "
                f"thị, kết luận của Đảng trong {self.period_text}."
            )
        )
        reporting = self._reporting_sentence()
        if reporting:
            items.append(_para(reporting))
        if self.longer:
            items += self._quarters_reporting()
        return items

    def _reporting_sentence(self) -> str:
        expected, accepted = self.figure("expected_units"), self.figure("accepted_units")
        if expected is None or accepted is None:
            return ""
        if self.longer:
            # Counted per quarter (SPEC §2): a unit expected in four quarters sends four reports.
            text = (
                f"Trong {count_vi(self.period.length)} quý của kỳ báo cáo, các đơn vị đã gửi "
                f"{format_count(accepted)}/{format_count(expected)} báo cáo quý được tiếp nhận"
            )
            if self.figure("reporting_completeness") is not None:
                text += f" (đạt {self.as_percent('reporting_completeness')})"
            if self.figure("on_time_units") is not None:
                text += f", trong đó {self.as_count('on_time_units')} báo cáo đúng hạn"
            return _sentence(text)
        text = (
            f"Tính đến ngày {format_date(self.view.source.generated_at)}, có "
            f"{format_count(accepted)}/{format_count(expected)} đơn vị đã gửi báo cáo "
            "được tiếp nhận"
        )
        if self.figure("reporting_completeness") is not None:
            text += f" (đạt {self.as_percent('reporting_completeness')})"
        if self.figure("on_time_units") is not None:
            text += (
                f", trong đó {self.as_count('on_time_units')} đơn vị báo cáo đúng hạn "
                f"(hạn ngày {format_date(self.view.source.deadline)})"
            )
        return _sentence(text)

    def quarter_counts(self, quarter: Period) -> tuple[float, float, float | None] | None:
        """(units expected, units accepted, units on time) in one quarter of a longer period:
        the quarter's own figures where they were loaded (as its report gave them), else counted
        from the period's status among today's units (on time then unknown); None when the
        quarter has neither."""
        if self.quarters is not None and self.quarters.has(quarter):
            expected = self.quarters.number(quarter, self.code, "expected_units")
            accepted = self.quarters.number(quarter, self.code, "accepted_units")
            if expected is not None and accepted is not None:
                on_time = self.quarters.number(quarter, self.code, "on_time_units")
                return expected, accepted, on_time
        outcomes = [
            outcome
            for code in self.subtree
            for written, outcome in quarters_of(self.status.get(code, {}).get("quarters"))
            if written == str(quarter)
        ]
        if not outcomes:
            return None
        return float(len(outcomes)), float(sum(o in ACCEPTED for o in outcomes)), None

    def missing_quarters(self, code: str, *, why: bool = False) -> list[str]:
        """The quarters of the period in which the unit was expected and has no report counted
        (`Quý III/2025`; with `why`, a rejected one `Quý III/2025 (bị trả lại)`), oldest
        first."""
        return [
            Period.parse(quarter).short_label_vi
            + (f" ({QUARTER_OUTCOMES_VI['rejected']})" if why and outcome == "rejected" else "")
            for quarter, outcome in quarters_of(self.status.get(code, {}).get("quarters"))
            if outcome not in ACCEPTED
        ]

    def missing_note(self, code: str, *, why: bool = False) -> str:
        """`thiếu Quý III/2025 và Quý IV/2025` (see `missing_quarters`)."""
        return f"thiếu {_join_vi(self.missing_quarters(code, why=why))}"

    def _quarters_reporting(self) -> list[dict]:
        """Who reported each quarter of a longer period, and who did not report every one,
        named with the quarters missing (or where the list is): never silently."""
        items = [_heading("3. Tình hình gửi báo cáo qua các quý")]
        quarters = self.period.quarters()
        lines = []
        for quarter in quarters:
            counts = self.quarter_counts(quarter)
            if counts is None:
                lines.append(f"{quarter.short_label_vi}: chưa có số liệu")
                continue
            expected, accepted, on_time = counts
            text = (
                f"{quarter.short_label_vi}: {format_count(accepted)}/{format_count(expected)} "
                "đơn vị đã gửi báo cáo được tiếp nhận"
            )
            if expected:
                text += f" (đạt {format_percent(accepted / expected)})"
            if on_time is not None:
                text += f", {format_count(on_time)} đơn vị báo cáo đúng hạn"
            lines.append(text)
        items += [
            _bullet(line + ("." if index == len(lines) - 1 else ";"))
            for index, line in enumerate(lines)
        ]
        shortfalls = self.shortfalls
        listed = self.appendix_number("reporting")
        partial = shortfalls["partial"]
        none = shortfalls["missing"] + shortfalls["rejected"]
        if not partial and not none:
            expected = sum(code in self.status for code in self.subtree)
            items.append(
                _para(
                    _sentence(f"Tất cả {count_vi(expected)} đơn vị đều đã gửi đủ báo cáo các quý")
                )
            )
            return items
        for codes, wording in (
            (partial, "đơn vị chưa gửi đủ báo cáo các quý"),
            (none, "đơn vị không có báo cáo quý nào được tiếp nhận"),
        ):
            if not codes:
                continue
            text = f"Có {count_vi(len(codes))} {wording}"
            if len(codes) <= MAX_NAMED:
                named = [f"{self.display(code)} ({self.missing_note(code)})" for code in codes]
                text += ": " + "; ".join(named)
            else:
                text += f", danh sách và các quý còn thiếu tại Phụ lục {listed}"
            items.append(_para(_sentence(text)))
        return items

    # ---- II. results

    def results(self) -> list[dict]:
        groups = [
            ("Tổ chức nghiên cứu, học tập, quán triệt", self._study()),
            ("Bồi dưỡng nhận thức, lý luận chính trị", self._training()),
            ("Công tác tuyên truyền", self._propaganda()),
            ("Công tác kiểm tra, giám sát", self._inspection()),
            ("Khen thưởng, phê bình", self._commendation()),
        ]
        items: list[dict] = []
        if self.basis and any(sentences for _, sentences in groups):
            items.append(_para(_sentence(f"{self.basis}, kết quả cụ thể như sau:")))
        number = 0
        for title, sentences in groups:
            if not sentences:
                continue
            number += 1
            items.append(_heading(f"{number}. {title}"))
            items.extend(_para(s) for s in sentences)
        own, groups_ = self.opinions["highlights"]
        if own or groups_:
            number += 1
            items.append(_heading(f"{number}. Một số kết quả nổi bật, mô hình, cách làm hay"))
            items.extend(_para(point) for point in own)
            items.extend(self._listed(groups_, self._highlight_text))
        return items

    def _study(self) -> list[str]:
        out = []
        if self.figure("sessions_total") is not None:
            ways = []
            if self.figure("sessions_in_person") is not None:
                ways.append(f"{self.as_count('sessions_in_person')} hội nghị trực tiếp")
            if self.figure("sessions_online") is not None:
                ways.append(f"{self.as_count('sessions_online')} hội nghị trực tuyến")
            if self.figure("sessions_hybrid") is not None:
                ways.append(
                    f"{self.as_count('sessions_hybrid')} hội nghị trực tiếp kết hợp trực tuyến"
                )
            within = f"Trong {self.words.within}, {self.subject}"
            text = (
                f"{within} tổ chức {self.as_count('sessions_total')} hội nghị nghiên cứu, học tập, "
                "quán triệt"
                if self.figure("sessions_total")
                else f"{within} chưa tổ chức hội nghị nghiên cứu, học tập, quán triệt nào"
            )
            if ways:
                text += ", trong đó " + _join_vi(ways)
            if self.figure("connection_points"):
                # the points of every online and hybrid session, not of the online ones alone
                text += (
                    f" (các hội nghị trực tuyến, trực tiếp kết hợp trực tuyến có "
                    f"{self.as_count('connection_points')} điểm cầu)"
                )
            if self.figure("attendance") is not None:
                text += (
                    f", thu hút {self.as_count('attendance')} lượt cán bộ, đảng viên, người lao "
                    "động tham gia"
                )
            if change := self.change("sessions_total"):
                text += f"; số hội nghị {change}"
            out.append(_sentence(text))
        elif self.figure("attendance") is not None:
            out.append(
                _sentence(
                    f"Có {self.as_count('attendance')} lượt cán bộ, đảng viên, người lao động "
                    "tham gia học tập"
                )
            )
        if self.figure("grassroots_online_share") is not None:
            if self.figure("grassroots_online") is not None and self.figure("grassroots_reporting"):
                online = format_count(self.figure("grassroots_online"))
                reporting = format_count(self.figure("grassroots_reporting"))
                text = (
                    f"{online}/{reporting} tổ chức cơ sở đảng có báo cáo "
                    f"({self.as_percent('grassroots_online_share')}) đã tổ chức"
                )
            else:
                text = (
                    f"{self.as_percent('grassroots_online_share')} số tổ chức cơ sở đảng có báo "
                    "cáo đã tổ chức"
                )
            out.append(
                _sentence(
                    f"{text} học tập, quán triệt bằng hình thức trực tuyến hoặc trực tiếp kết hợp "
                    "trực tuyến"
                )
            )
        if self.figure("members_attended") is not None:
            text = f"Số đảng viên tham gia học tập là {self.as_count('members_attended')} đồng chí"
            if self.averaged("members_attended"):
                text = (
                    f"Bình quân mỗi quý có {self.as_count('members_attended')} đảng viên tham "
                    "gia học tập"
                )
            if self.figure("attendance_rate") is not None:
                text += (
                    f", đạt {self.as_percent('attendance_rate')} số đảng viên phải tham gia học tập"
                )
                if change := self.change("attendance_rate", rate=True):
                    text += f" ({change})"
            out.append(_sentence(text))
        elif self.figure("attendance_rate") is not None:
            text = f"Tỷ lệ đảng viên tham gia học tập đạt {self.as_percent('attendance_rate')}"
            if change := self.change("attendance_rate", rate=True):
                text += f" ({change})"
            out.append(_sentence(text))
        if self.figure("members_absent") is not None:
            text = f"Số đảng viên vắng là {self.as_count('members_absent')} đồng chí"
            if self.averaged("members_absent"):
                text = f"Bình quân mỗi quý có {self.as_count('members_absent')} đảng viên vắng"
            if self.figure("members_makeup") is not None:
                text += f", trong đó {self.as_count('members_makeup')} đồng chí đã học tập bổ sung"
                if self.figure("makeup_rate") is not None:
                    text += f" (đạt {self.as_percent('makeup_rate')})"
            out.append(_sentence(text))
        if self.figure("essays") is not None:
            text = f"Cán bộ, đảng viên viết {self.as_count('essays')} bài thu hoạch"
            if self.figure("essays_excellent") is not None:
                text += f", trong đó {self.as_count('essays_excellent')} bài xếp loại xuất sắc"
                if self.figure("excellent_essay_rate") is not None:
                    text += f", chiếm {self.as_percent('excellent_essay_rate')}"
            out.append(_sentence(text))
        if self.figure("action_programs") is not None:
            text = (
                f"Các cấp ủy đã ban hành {self.as_count('action_programs')} chương trình hành "
                "động, kế hoạch thực hiện"
            )
            if change := self.change("action_programs"):
                text += f", {change}"
            out.append(_sentence(text))
        if self.figure("secretary_presented") is not None:
            text = (
                "Đồng chí bí thư cấp ủy trực tiếp quán triệt tại "
                f"{self.as_count('secretary_presented')} đơn vị"
            )
            if self.figure("secretary_presented_share") is not None:
                text += (
                    f", chiếm {self.as_percent('secretary_presented_share')} số đơn vị có báo "
                    "cáo nội dung này"
                )
            out.append(_sentence(text))
        return out

    def _training(self) -> list[str]:
        classes = []
        for classes_code, trainees_code, what, who in (
            (
                "awareness_classes",
                "awareness_trainees",
                "bồi dưỡng nhận thức về Đảng",
                "quần chúng ưu tú",
            ),
            (
                "newmember_classes",
                "newmember_trainees",
                "bồi dưỡng lý luận chính trị",
                "đảng viên mới",
            ),
            ("skills_classes", "skills_trainees", "bồi dưỡng nghiệp vụ công tác Đảng", "học viên"),
        ):
            if self.figure(classes_code) is None and self.figure(trainees_code) is None:
                continue
            if self.figure(classes_code) is not None:
                text = f"{self.as_count(classes_code)} lớp {what}"
                if self.figure(trainees_code) is not None:
                    text += f" cho {self.as_count(trainees_code)} {who}"
            else:
                text = f"{what} cho {self.as_count(trainees_code)} {who}"
            classes.append(text)
        if not classes:
            return []
        return [
            _sentence(f"Trong {self.words.within}, các cấp ủy đã tổ chức " + "; ".join(classes))
        ]

    def _propaganda(self) -> list[str]:
        parts = []
        if self.figure("news_items") is not None:
            text = f"đăng tải {self.as_count('news_items')} tin, bài tuyên truyền"
            if change := self.change("news_items"):
                text += f" ({change})"
            parts.append(text)
        if self.figure("briefings") is not None:
            text = (
                f"tổ chức {self.as_count('briefings')} hội nghị thông tin thời sự, cập nhật "
                "kiến thức mới"
            )
            if self.figure("briefing_attendance") is not None:
                text += f" cho {self.as_count('briefing_attendance')} lượt người tham dự"
            parts.append(text)
        if self.figure("contests") is not None:
            text = f"tổ chức {self.as_count('contests')} cuộc thi, hội thi tìm hiểu"
            if self.figure("contest_entries") is not None:
                text += f" với {self.as_count('contest_entries')} lượt người dự thi"
            parts.append(text)
        if not parts:
            return []
        return [_sentence("Các cấp ủy đã " + "; ".join(parts))]

    def _inspection(self) -> list[str]:
        parts = []
        if self.figure("orgs_inspected") is not None:
            parts.append(
                "kiểm tra việc học tập, quán triệt tại "
                f"{self.as_count('orgs_inspected')} tổ chức đảng"
            )
        supervised = []
        if self.figure("orgs_supervised") is not None:
            supervised.append(f"{self.as_count('orgs_supervised')} tổ chức đảng")
        if self.figure("members_supervised") is not None:
            supervised.append(f"{self.as_count('members_supervised')} đảng viên")
        if supervised:
            parts.append("giám sát " + _join_vi(supervised))
        if not parts:
            return []
        return [_sentence("Cấp ủy các cấp đã " + "; ".join(parts))]

    def _commendation(self) -> list[str]:
        out = []
        commended = []
        if self.figure("collectives_commended") is not None:
            commended.append(f"{self.as_count('collectives_commended')} tập thể")
        if self.figure("individuals_commended") is not None:
            commended.append(f"{self.as_count('individuals_commended')} cá nhân")
        if commended:
            out.append(
                _sentence(f"Có {_join_vi(commended)} được biểu dương, khen thưởng trong học tập")
            )
        if self.figure("members_reprimanded") is not None:
            out.append(
                _sentence(
                    f"Có {self.as_count('members_reprimanded')} đảng viên bị phê bình, nhắc nhở vì "
                    "không nghiêm túc học tập"
                )
            )
        return out

    # ---- what units wrote

    def _texts(self, indicator: str) -> list[tuple[str, str]]:
        """(unit code, text) of the unit and its subtree, in hierarchy order."""
        inside = {self.code, *self.descendants}
        found = []
        for row in self.view.texts:
            text = _clean_text(row["text"] or "")
            if row["indicator_code"] == indicator and row["unit_code"] in inside and text:
                found.append((row["unit_code"], text))
        return found

    def _opinions(self, indicator: str) -> tuple[list[str], list[Group]]:
        """The issuer's own points, stated as its own, and the units' points grouped, without
        those the issuer's own points already make. Over a longer period a unit's point made in
        several quarters counts once."""
        own: list[tuple[list[str | None], str]] = []  # (quarters that made it, point)
        written: list[tuple[str, str]] = []
        for code, text in self._texts(indicator):
            for quarter, point in self._points(text):
                if code != self.code:
                    written.append((code, point))
                    continue
                made = next((q for q, seen in own if same_point(seen, point)), None)
                if made is None:
                    own.append(([quarter], point))
                else:
                    made.append(quarter)
        groups = [
            group
            for group in group_points(written)
            if not any(same_point(group.text, point) for _, point in own)
        ]
        # A point of one quarter only is said under its quarter; one several made, once.
        stated = [
            point if len(set(quarters)) > 1 or quarters[0] is None else f"{quarters[0]}: {point}"
            for quarters, point in own
        ]
        return stated, _by_weight(groups)

    def _points(self, text: str) -> list[tuple[str | None, str]]:
        """(quarter, point) of a text: over a longer period, a text gathers each quarter's under
        its quarter (`Quý I/2025: …`, tonghop/longer_periods.py); a quarter's points have
        none."""
        if not self.longer:
            return [(None, point) for point in split_points(text)]
        found: list[tuple[str | None, str]] = []
        quarter = None
        for line in text.splitlines():
            if match := _QUARTER_LABEL.match(line):
                quarter, line = match.group(1), line[match.end() :]
            found += [(quarter, point) for point in split_points(line)]
        return found

    def _proposals(self) -> tuple[list[str], list[Group]]:
        """The issuer's own proposals and the units' that are addressed above the issuer (to
        its parent, further up or to the Centre); the others stay with the issuer."""
        own: list[str] = []
        written: dict[str, list[tuple[str, str]]] = {}
        kept: set[tuple[str, str]] = set()  # a unit's point made again in another quarter
        for code, text in self._texts("proposals"):
            if self.longer:
                text = _QUARTER_LABEL.sub("", text)
            for point, addressee in addressed_points(text, code, self.tree):
                if (code, normalised(point)) in kept:
                    continue
                kept.add((code, normalised(point)))
                above = addressee is not None and self.tree.is_above(addressee, self.code)
                if code == self.code:
                    if above and not any(same_point(point, made) for made in own):
                        own.append(point)
                elif above:
                    written.setdefault(addressee, []).append((code, point))
                else:
                    self.not_relayed += 1
        groups = [
            group
            for entries in written.values()
            for group in group_points(entries)
            if not any(same_point(group.text, point) for point in own)
        ]
        return own, _by_weight(groups)

    def _listed(self, groups: list[Group], wording) -> list[dict]:
        """The first MAX_POINTS groups as bullets; where the others are."""
        items = [_bullet(wording(group)) for group in groups[:MAX_POINTS]]
        if len(groups) > MAX_POINTS:
            items.append(
                _para(
                    f"Các ý kiến khác của đơn vị ({count_vi(len(groups) - MAX_POINTS)} ý kiến) "
                    f"được tổng hợp tại Phụ lục {self.appendix_number('opinions')}."
                )
            )
        return items

    def _highlight_text(self, group: Group) -> str:
        units = group.units
        if len(units) <= MAX_NAMED:
            return _with_aside(group.text, _join_vi([self.display(code) for code in units]))
        return _with_aside(group.text, f"{count_vi(len(units))} đơn vị")

    @staticmethod
    def _counted_text(group: Group) -> str:
        return _with_aside(group.text, f"{count_vi(len(group.units))} đơn vị nêu")

    @staticmethod
    def _proposal_text(group: Group) -> str:
        many = count_vi(len(group.units))
        if _PROPOSING.match(group.text):
            return f"Có {many} đơn vị {_lower_first(group.text)}"
        return _with_aside(group.text, f"{many} đơn vị đề nghị")

    # ---- III. limitations and causes

    @cached_property
    def shortfalls(self) -> dict[str, list[str]]:
        """The subtree's units missing, rejected (and not sent again), with some quarters only
        (`partial`, over a longer period), late, and below the attendance threshold, in
        hierarchy order."""
        found: dict[str, list[str]] = {
            "missing": [],
            "rejected": [],
            "partial": [],
            "late": [],
            "low": [],
        }
        for code in self.descendants:
            entry = self.status.get(code)
            if entry is not None:
                if entry["status"] in ("missing", "rejected", PARTIAL):
                    found[entry["status"]].append(code)
                # a unit that sent some quarters only may have sent one of them late, too
                if entry["status"] not in ("missing", "rejected") and entry.get("on_time") is False:
                    found["late"].append(code)
            unit = self.view.by_code[code]
            rate = self.view.number(code, "attendance_rate")
            if (
                unit["kind"] in (*GRASSROOTS_KINDS, "upper")
                and rate is not None
                and rate < self.threshold
            ):
                found["low"].append(code)
        return found

    def _spread(self, codes: list[str]) -> str:
        """Where the units are, by the issuer's upper-level children (`Đảng ủy Khối A: 20; …`)
        or, under an issuer of grassroots organisations, how many organisations and which has
        the most; "" when the units are the issuer's children themselves."""
        branches = Counter(self.branch_of.get(code, code) for code in codes)
        if all(self.branch_of.get(code) == code for code in codes):
            return ""
        uppers = [b for b in branches if self.view.by_code[b]["kind"] == "upper"]
        if uppers:
            parts = [f"{self.display(b)}: {count_vi(branches[b])}" for b in uppers]
            direct = sum(n for b, n in branches.items() if b not in uppers)
            if direct:
                parts.append(f"trực thuộc {self.name}: {count_vi(direct)}")
            return "; ".join(parts)
        if len(branches) <= 1:
            return f"thuộc {self.display(next(iter(branches)))}"
        text = f"thuộc {count_vi(len(branches))} tổ chức cơ sở đảng"
        most, count = branches.most_common(1)[0]
        if count > 1 and list(branches.values()).count(count) == 1:
            text += f", nhiều nhất là {self.display(most)} với {count_vi(count)} đơn vị"
        return text

    def _shortfall_wordings(self) -> tuple[tuple[str, str], ...]:
        """How section III names each kind of reporting shortfall, by `shortfalls` key."""
        if not self.longer:
            return (
                ("missing", "đơn vị chưa gửi báo cáo"),
                ("late", "đơn vị gửi báo cáo chậm so với thời hạn"),
                ("rejected", "đơn vị bị trả lại báo cáo do chưa đúng quy định mà chưa gửi lại"),
            )
        return (
            ("partial", "đơn vị chưa gửi đủ báo cáo các quý"),
            ("missing", "đơn vị không gửi báo cáo quý nào"),
            ("late", "đơn vị có báo cáo quý gửi chậm so với thời hạn"),
            (
                "rejected",
                "đơn vị có báo cáo bị trả lại do chưa đúng quy định, không có quý nào được "
                "tiếp nhận",
            ),
        )

    def limitations(self) -> list[dict]:
        items: list[dict] = [_heading("1. Hạn chế")]
        shortfalls = self.shortfalls
        listed = self.appendix_number("reporting")
        for key, wording in self._shortfall_wordings():
            codes = shortfalls[key]
            if codes:
                spread = self._spread(codes)
                aside = f" ({spread})" if spread else ""
                items.append(
                    _bullet(
                        _sentence(
                            f"Có {count_vi(len(codes))} {wording}{aside}, danh sách tại Phụ lục "
                            f"{listed}"
                        )
                    )
                )
        if shortfalls["low"]:
            codes = shortfalls["low"]
            spread = self._spread(codes)
            aside = f" ({spread})" if spread else ""
            items.append(
                _bullet(
                    _sentence(
                        f"Có {count_vi(len(codes))} tổ chức đảng có tỷ lệ đảng viên tham gia học "
                        f"tập dưới {format_percent(self.threshold)}{aside}, danh sách tại Phụ "
                        f"lục {self.appendix_number('attendance')}"
                    )
                )
            )
        own, groups = self.opinions["limitations"]
        items.extend(_bullet(point) for point in own)
        items.extend(self._listed(groups, self._counted_text))
        if len(items) == 1:
            items.append(_para(f"Trong {self.words.within}, các đơn vị không nêu hạn chế."))
        items.append(_heading("2. Nguyên nhân"))
        own, groups = self.opinions["causes"]
        causes = [_bullet(point) for point in own] + self._listed(groups, self._counted_text)
        items.extend(
            causes
            or [
                _para(
                    "Các đơn vị chưa nêu nguyên nhân của hạn chế; Ban Thường vụ bổ sung khi hoàn "
                    "thiện báo cáo."
                )
            ]
        )
        return items

    # ---- V. proposals

    def proposals(self) -> list[dict]:
        own, groups = self.proposal_groups
        items = [_para(point) for point in own]
        items.extend(self._listed(groups, self._proposal_text))
        if not items:
            items.append(_para("Không có kiến nghị, đề xuất với cấp trên."))
        return items

    # ---- Phụ lục

    def appendix_parts(self) -> list[str]:
        """Which appendix tables the report has, in order."""
        shortfalls = self.shortfalls
        parts = []
        if any(shortfalls[key] for key in ("missing", "rejected", "partial", "late")):
            parts.append("reporting")
        if shortfalls["low"]:
            parts.append("attendance")
        if any(groups for _, groups in self.opinions.values()) or self.proposal_groups[1]:
            parts.append("opinions")
        return parts

    def appendix_number(self, part: str) -> int:
        parts = self.appendix_parts()
        return parts.index(part) + 1 if part in parts else 0

    def appendix(self) -> list[dict]:
        tables = []
        shortfalls = self.shortfalls
        for part in self.appendix_parts():
            if part == "reporting":
                tables.append(self._reporting_table(shortfalls))
            elif part == "attendance":
                rows = [
                    _row(
                        number,
                        self.display(code),
                        format_percent(self.view.number(code, "attendance_rate")),
                    )
                    for number, code in enumerate(shortfalls["low"], start=1)
                ]
                tables.append(
                    {
                        "title": "Tổ chức đảng có tỷ lệ đảng viên tham gia học tập dưới "
                        f"{format_percent(self.threshold)}",
                        "headers": ["STT", "Tổ chức đảng", "Tỷ lệ tham gia học tập"],
                        "rows": rows,
                    }
                )
            else:
                tables.append(self._opinions_table())
        return tables

    def _reporting_table(self, shortfalls: dict[str, list[str]]) -> dict:
        if self.longer:
            return self._longer_reporting_table(shortfalls)
        rows = []
        for key, title in (
            ("missing", "Đơn vị chưa gửi báo cáo"),
            ("rejected", "Đơn vị có báo cáo bị trả lại, chưa gửi lại"),
            ("late", "Đơn vị gửi báo cáo chậm so với thời hạn"),
        ):
            codes = shortfalls[key]
            if not codes:
                continue
            rows.append(_group_row(f"{title} ({count_vi(len(codes))} đơn vị)"))
            for number, code in enumerate(codes, start=1):
                entry = self.status.get(code, {})
                note = ""
                if key == "late" and entry.get("received_at"):
                    note = f"Nhận ngày {format_date(entry['received_at'])}"
                elif key == "rejected" and entry.get("errors"):
                    note = f"{count_vi(entry['errors'])} lỗi"
                rows.append(_row(number, self.display(code), note))
        return {
            "title": "Đơn vị chưa gửi báo cáo, bị trả lại hoặc gửi chậm",
            "headers": ["STT", "Đơn vị", "Ghi chú"],
            "rows": rows,
        }

    def _longer_reporting_table(self, shortfalls: dict[str, list[str]]) -> dict:
        """Over a longer period, each unit that missed a quarter with the quarters it missed."""
        rows = []
        for key, title in (
            ("partial", "Đơn vị chưa gửi đủ báo cáo các quý"),
            ("missing", "Đơn vị không gửi báo cáo quý nào"),
            ("rejected", "Đơn vị có báo cáo bị trả lại, không có quý nào được tiếp nhận"),
            ("late", "Đơn vị có báo cáo quý gửi chậm so với thời hạn"),
        ):
            codes = shortfalls[key]
            if not codes:
                continue
            rows.append(_group_row(f"{title} ({count_vi(len(codes))} đơn vị)"))
            for number, code in enumerate(codes, start=1):
                note = _sentence(self.missing_note(code, why=True)) if key != "late" else ""
                rows.append(_row(number, self.display(code), note))
        return {
            "title": "Đơn vị chưa gửi đủ báo cáo các quý, bị trả lại hoặc gửi chậm",
            "headers": ["STT", "Đơn vị", "Ghi chú"],
            "rows": rows,
        }

    def _opinions_table(self) -> dict:
        rows = []
        sections = [
            ("Kết quả nổi bật, mô hình, cách làm hay", self.opinions["highlights"][1]),
            ("Hạn chế", self.opinions["limitations"][1]),
            ("Nguyên nhân của hạn chế", self.opinions["causes"][1]),
            ("Kiến nghị, đề xuất với cấp trên", self.proposal_groups[1]),
        ]
        for title, groups in sections:
            if not groups:
                continue
            rows.append(_group_row(title))
            for number, group in enumerate(groups, start=1):
                names = "; ".join(self.display(code) for code in group.units)
                rows.append(_row(number, group.text, f"{count_vi(len(group.units))}: {names}"))
        return {
            "title": "Ý kiến của các đơn vị đã tổng hợp trong báo cáo",
            "headers": ["STT", "Nội dung", "Số đơn vị nêu và tên đơn vị"],
            "rows": rows,
        }


def _by_weight(groups: list[Group]) -> list[Group]:
    """Points most units made first; among equals, the order they came in."""
    return sorted(groups, key=lambda group: -len(group.units))


def _row(number: int, text: str, value: str) -> dict:
    return {"number": str(number), "text": text, "value": value, "group": False}


def _group_row(text: str) -> dict:
    return {"number": "", "text": text, "value": "", "group": True}


def report_context(
    consolidation: Consolidation,
    unit_code: str,
    *,
    previous: Consolidation | None = None,
    quarters: QuarterFigures | None = None,
    attendance_threshold: float = 0.9,
    issued_on: date | None = None,
    settings_folder: Path | None = None,
) -> dict:
    """Everything the report templates need, as Vietnamese text (figures already formatted).
    `previous` is the period compared with (the quarter before, or the same period last year);
    `quarters`, each quarter's figures of a longer period.

    Sections are lists of items `{"kind": heading | text | bullet, "text"}`; the appendix a list
    of tables `{"title", "headers", "rows": [{"number", "text", "value", "group"}]}`.
    """
    view = consolidation.view
    previous_view = previous.view if previous is not None else None
    issuer = issuer_settings(settings_folder, unit_code, registry_defaults(view.by_code, unit_code))
    report = _Report(view, unit_code, previous_view, attendance_threshold, issuer, quarters)
    return _context(report, issued_on)


def _context(report: _Report, issued_on: date | None) -> dict:
    """`report_context` of a report whose views are already built."""
    consolidation = report.view.source
    settings = report.issuer.settings
    day = issued_on or consolidation.generated_at.date()
    words = report.words
    subject = (
        "nghiên cứu, học tập, quán triệt và tuyên truyền các nghị quyết, chỉ thị, kết luận của Đảng"
    )
    # A span longer than a year is a mid-term review (sơ kết), as seed 001 titles one.
    title = (
        f"Sơ kết công tác {subject} {words.in_title}"
        if words.review
        else f"Kết quả {subject} {words.in_title}"
    )
    recipients = list(settings.noi_nhan)
    recipients = [
        recipient.rstrip(",.;") + ("." if i == len(recipients) - 1 else ",")
        for i, recipient in enumerate(recipients)
    ]
    note = [
        f"Dự thảo do Tổng hợp lập ngày {format_date(day)} từ số liệu tổng hợp phiên bản "
        f"{consolidation.version} ({report.basis or 'chưa có đơn vị nào báo cáo'}).",
        "Trước khi trình ký: ghi số văn bản, rà soát và bổ sung nội dung (nhất là mục IV), "
        "kiểm tra người ký.",
        f"Ngưỡng tỷ lệ tham gia học tập dùng để nêu đơn vị ở mục III: "
        f"{format_percent(report.threshold)}.",
    ]
    if report.longer:
        note.append(_longer_note(report))
    if report.not_relayed:
        note.append(
            f"{count_vi(report.not_relayed)} kiến nghị của các đơn vị gửi {report.name} hoặc "
            "cấp dưới không đưa vào báo cáo (báo cáo chỉ chuyển lên các kiến nghị gửi cấp "
            "trên); xem đầy đủ ở trang «Ý kiến đơn vị» của bảng tổng hợp."
        )
    if report.issuer.source is not None:
        note.append(
            f"Nơi nhận, người ký, địa danh và số, ký hiệu lấy từ tệp «{report.issuer.source}»."
        )
    if report.issuer.problem:
        note.append(report.issuer.problem)
    if not settings.nguoi_ky:
        note.append("Chưa có họ tên người ký: ghi vào «nguoi_ky» của tệp thiết lập.")
    return {
        "unit_code": report.code,
        "unit_name": report.name,
        "superior": settings.co_quan_cap_tren,
        "issuer": settings.co_quan_ban_hanh,
        "number": settings.number_line,
        "place_date": f"{settings.dia_danh}, {date_vi(day)}",
        "period_label": consolidation.period.label_vi,
        "title": title,
        "intro": _intro(report, subject),
        "situation": report.situation(),
        "results": report.results(),
        "limitations": report.limitations(),
        "proposals": report.proposals(),
        "closing": (
            f"Trên đây là báo cáo {_lower_first(title)}, {report.name} báo cáo "
            f"{settings.bao_cao_len}."
        ),
        "recipients": recipients,
        "signer_on_behalf": settings.thay_mat,
        "signer_title": settings.chuc_vu,
        "signer_name": settings.nguoi_ky,
        "draft_note": note,
        "appendix": report.appendix(),
        "charts": [],
        "template": report.issuer.template,
    }


def _quarters_named(period: Period) -> str:
    """The quarters a longer period is combined from, as its intro names them: `các quý I, II
    năm 2025`, `các quý từ quý IV/2024 đến quý I/2025`."""
    quarters = period.quarters()
    if len({quarter.year for quarter in quarters}) == 1:
        return (
            "các quý "
            + _join_vi([_ROMAN[quarter.quarter] for quarter in quarters])
            + f" năm {period.year}"
        )
    first, last = quarters[0], quarters[-1]
    return (
        f"các quý từ {_lower_first(first.short_label_vi)} đến {_lower_first(last.short_label_vi)}"
    )


def _intro(report: _Report, subject: str) -> str:
    """The opening sentence: on what the report rests, and what it reports."""
    basis = f"Thực hiện chế độ báo cáo định kỳ về công tác {subject}"
    if not report.longer:
        return f"{basis}, {report.name} báo cáo kết quả {report.period_text} như sau:"
    if report.words.review:
        # as seed 001: "qua hơn 02 năm triển khai thực hiện, … báo cáo kết quả thực hiện"
        return (
            f"{basis}; qua {duration_vi(report.period)} triển khai thực hiện "
            f"({report.period_text}), trên cơ sở tổng hợp báo cáo hằng quý của các đơn vị, "
            f"{report.name} sơ kết kết quả như sau:"
        )
    combined = f"trên cơ sở tổng hợp báo cáo {_quarters_named(report.period)} của các đơn vị"
    return f"{basis}, {combined}, {report.name} báo cáo kết quả {report.period_text} như sau:"


def _longer_note(report: _Report) -> str:
    """The draft's note on where a longer period's figures come from and what they compare
    with."""
    period = report.period
    text = (
        f"Số liệu {report.period_text} cộng dồn từ báo cáo {_quarters_named(period)} đã tiếp "
        "nhận (các đơn vị không gửi báo cáo riêng cho kỳ này): số đảng viên lấy theo quý gần "
        "nhất, số đảng viên tham gia học tập là bình quân các quý."
    )
    if report.words.compared is None:
        return text + " Báo cáo sơ kết không so sánh với cùng kỳ năm trước."
    earlier = period.same_period_last_year()
    if report.previous is None:
        return text + f" Chưa có số liệu {earlier.label_vi} để so sánh với cùng kỳ năm trước."
    return text + f" So sánh với cùng kỳ năm trước: {earlier.label_vi}."


# --------------------------------------------------------------------------- rendering


def _charts_in_order(charts: dict[str, Path] | None) -> list[tuple[str, Path]]:
    if not charts:
        return []
    known = [key for key in CHART_CAPTIONS_VI if key in charts]
    return [(key, Path(charts[key])) for key in [*known, *sorted(set(charts) - set(known))]]


def write_report(
    consolidation: Consolidation,
    unit_code: str,
    out_dir: Path,
    *,
    charts: dict[str, Path] | None = None,
    previous: Consolidation | None = None,
    quarters: QuarterFigures | None = None,
    attendance_threshold: float = 0.9,
    template: Path | None = None,
    issued_on: date | None = None,
    settings_folder: Path | None = None,
) -> tuple[Path, Path]:
    """Write one unit's report as Word and HTML into `out_dir`; returns both paths (see
    `write_reports`)."""
    written = write_reports(
        consolidation,
        [unit_code],
        out_dir,
        charts={unit_code: charts or {}},
        previous=previous,
        quarters=quarters,
        attendance_threshold=attendance_threshold,
        template=template,
        issued_on=issued_on,
        settings_folder=settings_folder,
    )
    return written[unit_code]


def write_reports(
    consolidation: Consolidation,
    unit_codes: Iterable[str],
    out_dir: Path,
    *,
    charts: Mapping[str, dict[str, Path]] | None = None,
    previous: Consolidation | None = None,
    quarters: QuarterFigures | None = None,
    attendance_threshold: float = 0.9,
    template: Path | None = None,
    issued_on: date | None = None,
    settings_folder: Path | None = None,
) -> dict[str, tuple[Path, Path]]:
    """Write each unit's report as Word and HTML into `out_dir`; returns both paths by unit.

    The consolidation (and the previous period) are indexed once for all the units: at
    province scale that indexing costs more than writing a report. Each unit's settings and
    template come from `settings_folder` (`tonghop.issuers`; without one, the defaults), unless
    `template` names one for all. Charts (by unit, then by chart name) are PNG files, embedded
    in the Word file and inline in the HTML page, which is then one self-contained file.
    """
    view = consolidation.view
    previous_view = previous.view if previous is not None else None
    written = {}
    for code in unit_codes:
        issuer = issuer_settings(settings_folder, code, registry_defaults(view.by_code, code))
        report = _Report(view, code, previous_view, attendance_threshold, issuer, quarters)
        written[code] = _write_report(
            report, Path(out_dir), (charts or {}).get(code), template, issued_on
        )
    return written


def _write_report(
    report: _Report,
    out_dir: Path,
    charts: dict[str, Path] | None,
    template: Path | None,
    issued_on: date | None,
) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    consolidation = report.view.source
    docx_path, html_path = report_paths(
        out_dir, consolidation.period, report.code, consolidation.version
    )
    context = _context(report, issued_on)
    template = Path(template or context["template"])
    ordered = _charts_in_order(charts)
    write_atomically(docx_path, lambda path: _write_docx(path, template, context, ordered))
    write_atomically(html_path, lambda path: _write_html(path, template, context, ordered))
    return docx_path, html_path


def _write_docx(path: Path, template: Path, context: dict, charts: list[tuple[str, Path]]) -> None:
    from docx.shared import Mm
    from docxtpl import DocxTemplate, InlineImage, RichText

    document = DocxTemplate(str(template))
    word_context = dict(context)
    word_context["charts"] = [
        {
            "caption": CHART_CAPTIONS_VI.get(key, key),
            "image": InlineImage(document, str(png), width=Mm(CHART_WIDTH_MM)),
        }
        for key, png in charts
    ]
    word_context["appendix"] = [
        {
            **table,
            "rows": [
                {**row, "text": RichText(row["text"], bold=row["group"], size=24)}
                for row in table["rows"]
            ],
        }
        for table in context["appendix"]
    ]
    note = list(context["draft_note"])
    try:
        # autoescape: units' texts are data; `<&>` must not break or inject XML
        document.render(word_context, autoescape=True)
    except TemplateError as error:
        if template == DEFAULT_TEMPLATE:
            raise
        # An operator's edit broke a placeholder: the draft still comes, from the default.
        note.append(
            f"Mẫu Word «{template}» có chỗ giữ chỗ ({{{{ … }}}}, {{% … %}}) bị lỗi ({error}); "
            "dự thảo này dùng mẫu mặc định."
        )
        _write_docx(path, DEFAULT_TEMPLATE, {**context, "draft_note": note}, charts)
        return
    _add_draft_note(document.docx, note)
    document.save(str(path))


def _add_draft_note(document, lines: list[str]) -> None:
    """The draft's note as a Word comment on the title, out of the text that is signed."""
    title = next(
        (p for p in document.paragraphs if p.text.strip() == "BÁO CÁO" and p.runs),
        next((p for p in document.paragraphs if p.runs), None),
    )
    if title is None:
        return
    comment = document.add_comment(title.runs, text=lines[0], author="Tổng hợp", initials="TH")
    for line in lines[1:]:
        comment.add_paragraph(line)


def template_tasks(template: Path) -> list[str]:
    """The numbered tasks (section IV) the Word template holds, as the HTML page shows them."""
    from docx import Document

    return [
        paragraph.text
        for paragraph in Document(str(template)).paragraphs
        if paragraph.style is not None
        and paragraph.style.name == TASKS_STYLE
        and paragraph.text.strip()
    ]


def _write_html(path: Path, template: Path, context: dict, charts: list[tuple[str, Path]]) -> None:
    environment = Environment(
        loader=FileSystemLoader(str(DATA_DIR)),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    inline = [
        {
            "caption": CHART_CAPTIONS_VI.get(key, key),
            "data": "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode("ascii"),
        }
        for key, png in charts
    ]
    tasks = [_rendered_task(task, context) for task in template_tasks(template)]
    html = environment.get_template(HTML_TEMPLATE).render(
        {**context, "charts": inline, "tasks": tasks}
    )
    path.write_text(html, encoding="utf-8")


def _rendered_task(task: str, context: dict) -> str:
    """A task of the template as the Word file shows it: its placeholders filled (plain text
    here; the page escapes it once)."""
    try:
        return Environment(autoescape=False).from_string(task).render(context)
    except TemplateError:
        return task


def section_texts(items: Iterable[dict]) -> list[str]:
    """The lines a section's items read as, for tests and plain-text previews."""
    return [f"{'- ' if item['kind'] == 'bullet' else ''}{item['text']}" for item in items]
