"""The narrative report (báo cáo) of a consolidated period for the province or an upper-level unit:
its content composed as Vietnamese sentences in the register of the seed reports, rendered to
Word through an editable docxtpl template and to HTML through a Jinja2 template."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path

from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, select_autoescape

from tonghop.consolidation import Consolidation, ConsolidationView
from tonghop.formatting import LOCALE, format_count, format_date, format_percent
from tonghop.layout import report_paths, write_atomically
from tonghop.registry import GRASSROOTS_KINDS, KIND_LABELS_VI, SECTOR_LABELS_VI, SECTORS

DATA_DIR = Path(__file__).parent / "data"
DOCX_TEMPLATE = DATA_DIR / "bao-cao-mau.docx"
HTML_TEMPLATE = "bao-cao.html.j2"
DEFAULT_PLACE = "………"
MAX_NAMES = 10  # units named in one limitation before "và … đơn vị khác"
MAX_QUOTES = 10  # units' texts quoted in one section; the workbook keeps them all
CHART_WIDTH_MM = 150

CHART_CAPTIONS_VI = {
    "attendance": "Tỷ lệ đảng viên tham gia học tập",
    "reporting": "Tình hình gửi báo cáo của các đơn vị",
    "sessions": "Hội nghị học tập, quán triệt theo hình thức tổ chức",
}

# Characters XML 1.0 forbids; a unit's text carrying one would make the .docx unreadable.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Seed reports write counts under ten with a leading zero ("04 hội nghị", "03 lớp").
_SMALL_COUNT_PATTERN = "00"


# --------------------------------------------------------------------------- wording helpers


def count_vi(value: float | None) -> str:
    """A count as written in a report: `14.103`, `04`, `0`; blank → ``."""
    if value is None:
        return ""
    if not 0 < value < 10 or not float(value).is_integer():
        return format_count(value)
    return format_decimal(int(value), format=_SMALL_COUNT_PATTERN, locale=LOCALE)


def _points_vi(difference: float) -> str:
    """A difference of two rates in percentage points, without sign: `1,2`."""
    return format_decimal(abs(difference) * 100, format="#,##0.0", locale=LOCALE)


def change_vi(current: float | None, before: float | None, *, rate: bool = False) -> str:
    """`tăng 12,5% so với quý trước` / `giảm …` / `bằng quý trước`; `` when either is blank.

    Rates change by percentage points; a count that was 0 has no relative change to state.
    """
    if current is None or before is None:
        return ""
    if current == before:
        return "bằng quý trước"
    direction = "tăng" if current > before else "giảm"
    if rate:
        return f"{direction} {_points_vi(current - before)} điểm phần trăm so với quý trước"
    if before == 0:
        return ""
    return f"{direction} {format_percent(abs(current - before) / before)} so với quý trước"


def _period_vi(label: str) -> str:
    """`Quý III năm 2025` inside a sentence: `quý III năm 2025`."""
    return label[:1].lower() + label[1:]


def _clean_text(text: object) -> str:
    return _XML_ILLEGAL.sub("", str(text)).strip()


def _join_vi(parts: list[str]) -> str:
    """`a, b và c`."""
    parts = [part for part in parts if part]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " và " + parts[-1]


def _names_vi(names: list[str]) -> str:
    """Unit names, capped at MAX_NAMES with `và … đơn vị khác`."""
    if len(names) <= MAX_NAMES:
        return _join_vi(names)
    rest = len(names) - MAX_NAMES
    return ", ".join(names[:MAX_NAMES]) + f" và {count_vi(rest)} đơn vị khác"


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", ":", "…")) else ".")


def _quotes(entries: list[tuple[str, str, str]]) -> list[dict]:
    """Bullets quoting units' texts: one per distinct text, naming every unit that wrote it,
    at most MAX_QUOTES of them, then where to read the rest."""
    by_text: dict[str, list[str]] = {}
    for _, unit, text in entries:
        by_text.setdefault(text, []).append(unit)
    items = [_bullet(text, _names_vi(units)) for text, units in by_text.items()]
    if len(items) > MAX_QUOTES:
        rest = len(items) - MAX_QUOTES
        more = _para(
            f"Còn {count_vi(rest)} ý kiến khác của các đơn vị, xem đầy đủ tại trang "
            "«Ý kiến đơn vị» của bảng tổng hợp."
        )
        items = [*items[:MAX_QUOTES], more]
    return items


def _heading(text: str) -> dict:
    return {"kind": "heading", "text": text}


def _para(text: str) -> dict:
    return {"kind": "text", "text": text}


def _bullet(text: str, unit: str = "") -> dict:
    return {"kind": "bullet", "text": text, "unit": unit}


def _abbreviation(name: str, kind: str) -> str:
    """The issuer's abbreviation in `Số …-BC/…`: TU for the province; for an upper-level unit
    HU, QU, TU (thị ủy, thành ủy) by its name, ĐUK for a bloc committee, else ĐU."""
    if kind == "province":
        return "TU"
    lowered = name.lower()
    for prefix, abbreviation in (
        ("huyện ủy", "HU"),
        ("quận ủy", "QU"),
        ("thị ủy", "TU"),
        ("thành ủy", "TU"),
        ("đảng ủy khối", "ĐUK"),
    ):
        if lowered.startswith(prefix):
            return abbreviation
    return "ĐU"


def _party_body(name: str) -> str:
    """`Tỉnh ủy Thái Nguyên` → `Đảng bộ tỉnh Thái Nguyên`: the line above the issuer."""
    for committee, body in (("Tỉnh ủy ", "Đảng bộ tỉnh "), ("Thành ủy ", "Đảng bộ thành phố ")):
        if name.startswith(committee):
            return body + name.removeprefix(committee)
    return name


def _subject(name: str, kind: str) -> str:
    """How the report names the whole organisation it speaks for, as in the seeds."""
    if kind == "province":
        return "toàn Đảng bộ"
    lowered = name.lower()
    if lowered.startswith("đảng ủy "):
        return "Đảng bộ " + name[len("Đảng ủy ") :]
    for committee in ("Huyện ủy ", "Quận ủy ", "Thị ủy ", "Thành ủy "):
        if name.startswith(committee):
            return "Đảng bộ " + committee.split()[0].lower() + " " + name.removeprefix(committee)
    return name


# --------------------------------------------------------------------------- the content


class _Report:
    """One unit's figures, subtree and statuses, with the sentences built from them."""

    def __init__(
        self,
        view: ConsolidationView,
        unit_code: str,
        previous: ConsolidationView | None,
        threshold: float,
    ) -> None:
        self.view = view
        if unit_code not in self.view.by_code:
            raise ValueError(f"unit not in the consolidation: {unit_code!r}")
        self.code = unit_code
        self.unit = self.view.by_code[unit_code]
        self.previous = previous
        self.threshold = threshold
        children: dict[str | None, list[str]] = {}
        for unit in self.view.units:  # hierarchy order
            children.setdefault(unit["parent_code"], []).append(unit["code"])
        self.children = children
        self.descendants = self._descendants(unit_code)
        self.status = {row["unit_code"]: row for row in self.view.status}

    def _descendants(self, code: str) -> list[str]:
        found: list[str] = []
        stack = list(reversed(self.children.get(code, [])))
        while stack:
            current = stack.pop()
            found.append(current)
            stack.extend(reversed(self.children.get(current, [])))
        return sorted(found, key=self.view.position.__getitem__)

    def figure(self, code: str) -> float | None:
        """The unit's figure `code` this quarter; None when blank."""
        return self.view.number(self.code, code)

    def before(self, code: str) -> float | None:
        """The unit's figure `code` in the previous quarter; None when blank or not published."""
        return self.previous.number(self.code, code) if self.previous is not None else None

    def change(self, code: str, *, rate: bool = False) -> str:
        """How the figure `code` moved since the previous quarter, in words (see `change_vi`)."""
        return change_vi(self.figure(code), self.before(code), rate=rate)

    def as_count(self, code: str) -> str:
        """The figure `code` written as a count in a report: `14.103`, `04`."""
        return count_vi(self.figure(code))

    def as_percent(self, code: str) -> str:
        """The figure `code` (a rate) written as a percent: `97,3%`."""
        return format_percent(self.figure(code))

    @property
    def name(self) -> str:
        return self.unit["name"] or self.code

    @property
    def subject(self) -> str:
        return _subject(self.name, self.unit["kind"])

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
                f"thuộc loại hình {SECTOR_LABELS_VI[sector][:1].lower()}"
                f"{SECTOR_LABELS_VI[sector][1:]}"
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
        if self.figure("members") is not None:
            parts.append(f"{self.as_count('members')} đảng viên")
        if parts:
            items.append(_para(_sentence(f"Hiện nay, {self.subject} có {_join_vi(parts)}")))

        items.append(_heading("2. Công tác lãnh đạo, chỉ đạo và tổ chức thực hiện"))
        items.append(
            _para(
                "Căn cứ hướng dẫn của cấp trên, các cấp ủy trong "
                f"{self.subject.removeprefix('toàn ')} đã xây dựng kế hoạch, tổ chức cho cán bộ, "
                "đảng viên nghiên cứu, học tập, quán triệt và tuyên truyền các nghị quyết, chỉ "
                f"thị, kết luận của Đảng trong {_period_vi(self.view.period.label_vi)}."
            )
        )
        reporting = self._reporting_sentence()
        if reporting:
            items.append(_para(reporting))
        return items

    def _reporting_sentence(self) -> str:
        expected, accepted = self.figure("expected_units"), self.figure("accepted_units")
        if expected is None or accepted is None:
            return ""
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

    # ---- II. results

    def results(self) -> list[dict]:
        groups = [
            ("1. Tổ chức nghiên cứu, học tập, quán triệt", self._study()),
            ("2. Bồi dưỡng nhận thức, lý luận chính trị", self._training()),
            ("3. Công tác tuyên truyền", self._propaganda()),
            ("4. Công tác kiểm tra, giám sát", self._inspection()),
            ("5. Khen thưởng, phê bình", self._commendation()),
        ]
        items: list[dict] = []
        number = 0
        for title, sentences in groups:
            if not sentences:
                continue
            number += 1
            items.append(_heading(f"{number}. {title.split('. ', 1)[1]}"))
            items.extend(_para(s) for s in sentences)
        highlights = self._texts("highlights")
        if highlights:
            number += 1
            items.append(_heading(f"{number}. Một số kết quả nổi bật, mô hình, cách làm hay"))
            items.extend(_quotes(highlights))
        return items

    def _study(self) -> list[str]:
        out = []
        if self.figure("sessions_total") is not None:
            ways = []
            if self.figure("sessions_in_person") is not None:
                ways.append(f"{self.as_count('sessions_in_person')} hội nghị trực tiếp")
            if self.figure("sessions_online") is not None:
                online = f"{self.as_count('sessions_online')} hội nghị trực tuyến"
                if self.figure("connection_points") is not None:
                    online += f" với {self.as_count('connection_points')} điểm cầu"
                ways.append(online)
            if self.figure("sessions_hybrid") is not None:
                ways.append(
                    f"{self.as_count('sessions_hybrid')} hội nghị trực tiếp kết hợp trực tuyến"
                )
            text = (
                f"Trong quý, {self.subject} tổ chức {self.as_count('sessions_total')} hội nghị "
                "nghiên cứu, học tập, quán triệt"
                if self.figure("sessions_total")
                else f"Trong quý, {self.subject} chưa tổ chức hội nghị nghiên cứu, học tập, "
                "quán triệt nào"
            )
            if ways:
                text += ", trong đó " + _join_vi(ways)
            if self.figure("attendance") is not None:
                text += f", thu hút {self.as_count('attendance')} lượt cán bộ, đảng viên tham gia"
            if change := self.change("sessions_total"):
                text += f"; số hội nghị {change}"
            out.append(_sentence(text))
        elif self.figure("attendance") is not None:
            out.append(
                _sentence(
                    f"Có {self.as_count('attendance')} lượt cán bộ, đảng viên tham gia học tập"
                )
            )
        if self.figure("grassroots_online_share") is not None:
            text = (
                f"Có {self.as_percent('grassroots_online_share')} tổ chức cơ sở đảng đã tổ chức "
                "học tập, quán triệt bằng hình thức trực tuyến hoặc trực tiếp kết hợp trực tuyến"
            )
            if self.figure("grassroots_online") is not None and self.figure("grassroots_reporting"):
                online = format_count(self.figure("grassroots_online"))
                reporting = format_count(self.figure("grassroots_reporting"))
                text += f" ({online}/{reporting} tổ chức cơ sở đảng có báo cáo)"
            out.append(_sentence(text))
        if self.figure("members_attended") is not None:
            text = f"Số đảng viên tham gia học tập là {self.as_count('members_attended')} đồng chí"
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
            text = f"Có {self.as_count('members_absent')} đảng viên vắng"
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
                f"Có {self.as_count('secretary_presented')} đơn vị có đồng chí bí thư cấp ủy "
                "trực tiếp quán triệt"
            )
            if self.figure("secretary_presented_share") is not None:
                text += (
                    f", chiếm {self.as_percent('secretary_presented_share')} số đơn vị có báo cáo"
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
        return [_sentence("Trong quý, các cấp ủy đã tổ chức " + "; ".join(classes))]

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

    # ---- III and IV

    def _texts(self, indicator: str) -> list[tuple[str, str, str]]:
        """(unit code, unit name, text) of the unit and its subtree, in hierarchy order."""
        inside = {self.code, *self.descendants}
        return [
            (
                row["unit_code"],
                self.view.name(row["unit_code"]) or row["unit_code"],
                _clean_text(row["text"]),
            )
            for row in self.view.texts
            if row["indicator_code"] == indicator
            and row["unit_code"] in inside
            and _clean_text(row["text"])
        ]

    def limitations(self) -> list[dict]:
        items: list[dict] = []
        by_status: dict[str, list[str]] = {"missing": [], "rejected": [], "late": []}
        for code in self.descendants:
            entry = self.status.get(code)
            if entry is None:
                continue
            if entry["status"] in ("missing", "rejected"):
                by_status[entry["status"]].append(self.view.name(code))
            elif entry.get("on_time") is False:
                by_status["late"].append(self.view.name(code))
        for key, wording in (
            ("missing", "đơn vị chưa gửi báo cáo"),
            ("late", "đơn vị gửi báo cáo chậm so với thời hạn"),
            ("rejected", "đơn vị có báo cáo bị trả lại do chưa đúng quy định, chưa gửi lại"),
        ):
            names = by_status[key]
            if names:
                items.append(
                    _bullet(_sentence(f"Còn {count_vi(len(names))} {wording}: {_names_vi(names)}"))
                )
        low = []
        for code in self.descendants:
            unit = self.view.by_code[code]
            if unit["kind"] not in (*GRASSROOTS_KINDS, "upper"):
                continue
            rate = self.view.number(code, "attendance_rate")
            if rate is not None and rate < self.threshold:
                low.append(f"{unit['name']} ({format_percent(rate)})")
        if low:
            items.append(
                _bullet(
                    _sentence(
                        f"Có {count_vi(len(low))} đơn vị có tỷ lệ đảng viên tham gia học tập dưới "
                        f"{format_percent(self.threshold)}: {_names_vi(low)}"
                    )
                )
            )
        quoted = self._texts("limitations")
        if quoted:
            items.append(_para("Một số hạn chế do các đơn vị nêu:"))
            items.extend(_quotes(quoted))
        if not items:
            items.append(_para("Các đơn vị không nêu hạn chế trong kỳ báo cáo."))
        return items

    def proposals(self) -> list[dict]:
        items = [
            _para(
                "Tiếp tục đổi mới phương thức tổ chức nghiên cứu, học tập, quán triệt các nghị "
                "quyết, chỉ thị, kết luận của Đảng; nâng cao tỷ lệ đảng viên tham gia học tập và "
                "chất lượng bài thu hoạch; thực hiện nghiêm chế độ báo cáo định kỳ đúng thời hạn."
            )
        ]
        quoted = self._texts("proposals")
        if not quoted:
            return items
        items.append(_heading("Kiến nghị, đề xuất của các đơn vị"))
        # grouped by the branch (direct child) each proposing unit belongs to
        branch_of = {self.code: self.code}
        for child in self.children.get(self.code, []):
            branch_of[child] = child
            for code in self._descendants(child):
                branch_of[code] = child
        groups: dict[str, list[tuple[str, str, str]]] = {}
        for code, unit, text in quoted:
            groups.setdefault(branch_of.get(code, self.code), []).append((code, unit, text))
        for branch, entries in groups.items():
            items.append({"kind": "group", "text": self.view.name(branch) or branch})
            items.extend(_quotes(entries))
        return items


def report_context(
    consolidation: Consolidation,
    unit_code: str,
    *,
    previous: Consolidation | None = None,
    attendance_threshold: float = 0.9,
    issued_on: date | None = None,
    place: str = DEFAULT_PLACE,
) -> dict:
    """Everything the report templates need, as Vietnamese text (figures already formatted).

    Sections are lists of items `{"kind": heading | group | text | bullet, "text", "unit"}`.
    """
    previous_view = ConsolidationView(previous) if previous is not None else None
    report = _Report(
        ConsolidationView(consolidation), unit_code, previous_view, attendance_threshold
    )
    return _context(report, issued_on, place)


def _context(report: _Report, issued_on: date | None, place: str) -> dict:
    """`report_context` of a report whose views are already built."""
    consolidation = report.view.source
    unit_code = report.code
    unit = report.unit
    kind = unit["kind"]
    parent = report.view.by_code.get(unit["parent_code"]) if unit["parent_code"] else None
    period = consolidation.period
    if issued_on is not None:
        place_date = (
            f"{place}, ngày {format_decimal(issued_on.day, format='00', locale=LOCALE)} "
            f"tháng {issued_on.month} năm {issued_on.year}"
        )
    else:
        place_date = f"{place}, ngày     tháng     năm {consolidation.generated_at.year}"
    title = (
        "Kết quả nghiên cứu, học tập, quán triệt và tuyên truyền các nghị quyết, chỉ thị, "
        f"kết luận của Đảng {_period_vi(period.label_vi)}"
    )
    if kind == "province":
        recipients = [
            "Ban Tuyên giáo Trung ương (b/c),",
            "Các đảng bộ trực thuộc,",
            "Lưu Văn phòng.",
        ]
    else:
        recipients = [
            "Ban Thường vụ Tỉnh ủy (b/c),",
            "Ban Tuyên giáo Tỉnh ủy (b/c),",
            "Các tổ chức cơ sở đảng trực thuộc,",
            "Lưu Văn phòng.",
        ]
    return {
        "unit_code": unit_code,
        "unit_name": report.name,
        "superior": _party_body(parent["name"]).upper() if parent and parent["name"] else "",
        "issuer": report.name.upper(),
        "number": f"Số      -BC/{_abbreviation(report.name, kind)}",
        "place_date": place_date,
        "period_label": period.label_vi,
        "title": title,
        "intro": (
            f"Thực hiện chế độ báo cáo định kỳ về công tác nghiên cứu, học tập, quán triệt và "
            f"tuyên truyền các nghị quyết, chỉ thị, kết luận của Đảng, {report.name} báo cáo "
            f"kết quả {_period_vi(period.label_vi)} như sau:"
        ),
        "situation": report.situation(),
        "results": report.results(),
        "limitations": report.limitations(),
        "proposals": report.proposals(),
        "recipients": recipients,
        "signer_on_behalf": "T/M BAN THƯỜNG VỤ",
        "signer_title": "BÍ THƯ",
        "signer_name": "(Ký, ghi rõ họ tên, đóng dấu)",
        "generated_note": (
            f"Dự thảo do Tổng hợp lập từ số liệu tổng hợp phiên bản {consolidation.version} "
            f"lúc {format_date(consolidation.generated_at)}; "
            f"ngưỡng tỷ lệ tham gia học tập: {format_percent(report.threshold)}."
        ),
        "charts": [],
    }


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
    attendance_threshold: float = 0.9,
    template: Path | None = None,
    issued_on: date | None = None,
    place: str = DEFAULT_PLACE,
) -> tuple[Path, Path]:
    """Write one unit's report as Word and HTML into `out_dir`; returns both paths (see
    `write_reports`)."""
    written = write_reports(
        consolidation,
        [unit_code],
        out_dir,
        charts={unit_code: charts or {}},
        previous=previous,
        attendance_threshold=attendance_threshold,
        template=template,
        issued_on=issued_on,
        place=place,
    )
    return written[unit_code]


def write_reports(
    consolidation: Consolidation,
    unit_codes: Iterable[str],
    out_dir: Path,
    *,
    charts: Mapping[str, dict[str, Path]] | None = None,
    previous: Consolidation | None = None,
    attendance_threshold: float = 0.9,
    template: Path | None = None,
    issued_on: date | None = None,
    place: str = DEFAULT_PLACE,
) -> dict[str, tuple[Path, Path]]:
    """Write each unit's report as Word and HTML into `out_dir`; returns both paths by unit.

    The consolidation (and the previous quarter) are indexed once for all the units: at
    province scale that indexing costs more than writing a report. Charts (by unit, then by
    chart name) are PNG files: embedded in the Word file and referenced by file name from the
    HTML, so they are copied beside it when they live elsewhere.
    """
    view = ConsolidationView(consolidation)
    previous_view = ConsolidationView(previous) if previous is not None else None
    return {
        code: _write_report(
            _Report(view, code, previous_view, attendance_threshold),
            Path(out_dir),
            (charts or {}).get(code),
            template,
            issued_on,
            place,
        )
        for code in unit_codes
    }


def _write_report(
    report: _Report,
    out_dir: Path,
    charts: dict[str, Path] | None,
    template: Path | None,
    issued_on: date | None,
    place: str,
) -> tuple[Path, Path]:
    from docx.shared import Mm
    from docxtpl import DocxTemplate, InlineImage

    out_dir.mkdir(parents=True, exist_ok=True)
    consolidation = report.view.source
    docx_path, html_path = report_paths(
        out_dir, consolidation.period, report.code, consolidation.version
    )
    context = _context(report, issued_on, place)
    ordered = _charts_in_order(charts)

    def write_docx(path: Path) -> None:
        document = DocxTemplate(str(template or DOCX_TEMPLATE))
        word_context = dict(context)
        word_context["charts"] = [
            {
                "caption": CHART_CAPTIONS_VI.get(key, key),
                "image": InlineImage(document, str(png), width=Mm(CHART_WIDTH_MM)),
            }
            for key, png in ordered
        ]
        # autoescape: units' texts are data; `<&>` must not break or inject XML
        document.render(word_context, autoescape=True)
        document.save(str(path))

    html_charts = []
    for key, png in ordered:
        if png.resolve().is_relative_to(out_dir.resolve()):
            relative = png.resolve().relative_to(out_dir.resolve()).as_posix()
        else:  # the page must stay readable when the folder is copied: bring the chart along
            relative = png.name
            write_atomically(
                out_dir / relative, lambda p, source=png: p.write_bytes(source.read_bytes())
            )
        html_charts.append({"caption": CHART_CAPTIONS_VI.get(key, key), "file": relative})

    def write_html(path: Path) -> None:
        environment = Environment(
            loader=FileSystemLoader(str(DATA_DIR)),
            autoescape=select_autoescape(default=True, default_for_string=True),
        )
        html = environment.get_template(HTML_TEMPLATE).render({**context, "charts": html_charts})
        path.write_text(html, encoding="utf-8")

    write_atomically(docx_path, write_docx)
    write_atomically(html_path, write_html)
    return docx_path, html_path


def section_texts(items: Iterable[dict]) -> list[str]:
    """The lines a section's items read as, for tests and plain-text previews."""
    lines = []
    for item in items:
        prefix = "- " if item["kind"] == "bullet" else ""
        unit = f"{item['unit']}: " if item.get("unit") else ""
        lines.append(f"{prefix}{unit}{item['text']}")
    return lines
