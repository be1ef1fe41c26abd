"""Great Expectations' Data Docs as the operators read them, on a closed network: GX's page views
with the project's templates put before GX's own (tonghop/data/data_docs: scripts, styles and
fonts from the site's own `static/vendor/` instead of CDNs, the frame in Vietnamese), and the
words GX's renderers write — headings, statistics, column titles of the index, run names, UTC
times — put into Vietnamese on the rendered page. GX names these classes in the site's
configuration (`tonghop.data_docs.site_config`) and makes them itself."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView
from jinja2 import ChoiceLoader, FileSystemLoader

from tonghop.catalogue import label_vi
from tonghop.data_docs import SUITE_TITLES_VI

TEMPLATES = Path(__file__).parent / "data" / "data_docs"

# A run's name as the collector gives it (`run_name`): ASCII, since GX makes a folder of it.
_RUN_NAME = re.compile(r"(?P<period>\d{4}[0-9QH-]*?)-thu-thap-(?P<date>\d{8})-(?P<time>\d{6})")

# Whole texts GX's templates and renderers write, and what the page says instead.
TEXTS_VI = {
    "Overview": "Tổng quan",
    "Table-Level Expectations": "Quy tắc trên toàn bảng",
    "Expectation Suite:": "Bộ quy tắc:",
    "Expectation Suite": "Bộ quy tắc",
    "Expectation Suite Name": "Tên bộ quy tắc",
    "Expectation Suites": "Các bộ quy tắc",
    "Expectation Validation Result": "Kết quả kiểm tra",
    "Validation Results": "Kết quả các lần kiểm tra",
    "Status:": "Kết quả:",
    "Status": "Kết quả",
    "Failed": "Không đạt",
    "Succeeded": "Đạt",
    "Statistics": "Thống kê",
    "Evaluated Expectations": "Số quy tắc đã kiểm tra",
    "Successful Expectations": "Số quy tắc đạt",
    "Unsuccessful Expectations": "Số quy tắc không đạt",
    "Success Percent": "Tỷ lệ đạt",
    "Show more info...": "Xem thêm thông tin…",
    "Info": "Thông tin",
    "Great Expectations Version": "Phiên bản Great Expectations",
    "Run Name": "Lần chạy",
    "Run Time": "Thời điểm chạy",
    "Batch Markers": "Dấu của lô dữ liệu",
    "Batch Spec": "Mô tả lô dữ liệu",
    "Expectation": "Quy tắc",
    "Observed Value": "Kết quả quan sát",
    "Unexpected Value": "Giá trị không đạt",
    "Count": "Số lần",
    "Table of Contents": "Mục lục",
    "Notes": "Ghi chú",
    "Home": "Trang đầu",
    "Clear Filters": "Bỏ lọc",
    "Data Docs": "Kết quả kiểm tra dữ liệu",
    "| local_site": "",
    "unit_code": "Mã đơn vị",
    "indicator_code": "Mã chỉ tiêu",
    "value": "Giá trị",
    "period": "Kỳ báo cáo",
    **SUITE_TITLES_VI,
}
# The index's table of runs is drawn by script from data: its column titles and filter texts.
COLUMN_TITLES_VI = {
    "Status": "Kết quả",
    "Run Time": "Thời điểm chạy",
    "Run Name": "Lần chạy",
    "Asset Name": "Kỳ",
    "Batch ID": "Lô dữ liệu",
    "Expectation Suite": "Bộ quy tắc",
    "Expectation Suite Name": "Bộ quy tắc",
}


# A column the rules compute for themselves (tonghop/validation.py: `<rule key>__<what>`).
_RULE_COLUMN = re.compile(r"(?P<rule>[A-Z]\d+w?)_\d+__(?P<what>\w+)")
RULE_COLUMN_WORDS_VI = {
    "change": "mức thay đổi so với kỳ trước",
    "left": "vế trái",
    "right": "vế phải",
    "number": "số liệu",
    "threshold": "ngưỡng",
}
PERCENT_WORDS_VI = {"unexpected": "không đạt", "null": "để trống", "not null": "có giá trị"}


def _decimal(number: str) -> str:
    """`0.01186` → `0,01186`; `8429` → `8.429` (Vietnamese marks)."""
    whole, _, fraction = number.partition(".")
    grouped = f"{int(whole):,}".replace(",", ".")
    return f"{grouped},{fraction}" if fraction else grouped


def _percent(match: re.Match[str], words: str) -> str:
    return f"{match['about']}{_decimal(match['number'])}% {words}"


class Translator:
    """Puts a rendered Data Docs page into Vietnamese, times into the operators' time zone."""

    _FOUND = re.compile(
        r"(?P<count>\d+) unexpected values? found\. (?P<about>≈?)(?P<number>[\d.]+)% of "
        r"(?P<rows>\d+) total rows\."
    )
    _PERCENT = re.compile(r"(?P<about>≈?)(?P<number>[\d.]+)% (?P<what>unexpected|null|not null)")
    _SUITE_SIZE = re.compile(
        r"This Expectation suite currently contains (\d+) total Expectations across (\d+) "
        r"columns\."
    )
    _ISO_TIME = re.compile(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.\d+)?(?:Z| UTC)")
    _APPROX = re.compile(r"≈(\d+)\.(\d+)%")
    _TEXT = re.compile(r">([^<]+)<")
    _SCRIPT = re.compile(r"(<script\b.*?</script>|<style\b.*?</style>)", re.DOTALL)

    def __init__(self, timezone: str) -> None:
        self.zone = ZoneInfo(timezone)

    def local_time(self, match: re.Match[str]) -> str:
        """A UTC time GX writes, as the operators' clock showed it."""
        moment = datetime(*(int(part) for part in match.groups()), tzinfo=ZoneInfo("UTC"))
        return moment.astimezone(self.zone).strftime("%d/%m/%Y %H:%M:%S")

    def text(self, text: str) -> str:
        """One text of the page (between two tags)."""
        core = " ".join(text.split())
        if not core:
            return text
        column = _RULE_COLUMN.fullmatch(core)
        if core in TEXTS_VI:
            translated = TEXTS_VI[core]
        elif column:
            what = column["what"]
            translated = (
                f"Quy tắc {column['rule']}: {RULE_COLUMN_WORDS_VI.get(what) or label_vi(what)}"
            )
        else:
            translated = self._FOUND.sub(
                lambda m: (
                    f"{m['count']} giá trị không đạt, {m['about']}{_decimal(m['number'])}% của "
                    f"{_decimal(m['rows'])} dòng."
                ),
                core,
            )
            translated = self._PERCENT.sub(
                lambda m: _percent(m, PERCENT_WORDS_VI[m["what"]]), translated
            )
            translated = self._SUITE_SIZE.sub(
                r"Bộ quy tắc này có \1 quy tắc trên \2 cột.", translated
            )
            translated = self.words(translated)
            if translated.startswith("Data asset: "):
                translated = "Kỳ: " + translated.removeprefix("Data asset: ")
            for english, vietnamese in (
                ("Validations / ", "Kết quả kiểm tra / "),
                ("Expectations / ", "Bộ quy tắc / "),
            ):
                if translated.startswith(english):
                    translated = vietnamese + translated.removeprefix(english)
            if translated == core:
                return text
        leading = text[: len(text) - len(text.lstrip())]
        trailing = text[len(text.rstrip()) :]
        return f"{leading}{translated}{trailing}"

    def words(self, text: str) -> str:
        """Run names, suite names, UTC times and decimal points inside a longer text."""
        text = _RUN_NAME.sub(run_label, text)
        text = self._ISO_TIME.sub(self.local_time, text)
        text = self._APPROX.sub(r"≈\1,\2%", text)
        for name, title in SUITE_TITLES_VI.items():
            text = re.sub(rf"(?<![\w/.]){name}(?![\w/.])", title, text)
        return text

    def script(self, script: str) -> str:
        """The index's table data: column titles, run names and times, suite link texts."""
        for english, vietnamese in COLUMN_TITLES_VI.items():
            script = script.replace(f"'title': '{english}'", f"'title': '{vietnamese}'")
        script = re.sub(
            r"'_validation_success_text': '(Failed|Succeeded)'",
            lambda m: f"'_validation_success_text': '{TEXTS_VI[m[1]]}'",
            script,
        )
        script = re.sub(
            r"'run_name': '([^']*)'",
            lambda m: f"'run_name': '{_RUN_NAME.sub(run_label, m[1])}'",
            script,
        )
        script = re.sub(
            r"'run_time': '([^']*)'",
            lambda m: f"'run_time': '{self._ISO_TIME.sub(self.local_time, m[1])}'",
            script,
        )
        for name, title in SUITE_TITLES_VI.items():
            # The cells are HTML inside string literals: their line breaks are written `\n`.
            script = re.sub(
                rf"(>(?:\s|\\n)*){name}((?:\s|\\n)*</a>)", rf"\g<1>{title}\g<2>", script
            )
        return script

    def page(self, html: str) -> str:
        """The whole page: texts outside scripts and styles, and the scripts' table data."""
        parts = self._SCRIPT.split(html)
        for index, part in enumerate(parts):
            if index % 2:
                parts[index] = self.script(part) if part.startswith("<script") else part
            else:
                parts[index] = self._TEXT.sub(lambda m: f">{self.text(m[1])}<", part)
        return "".join(parts)


def run_label(match: re.Match[str]) -> str:
    """`2026Q3-thu-thap-20261130-060000` → `2026Q3 · thu thập 30/11/2026 06:00`."""
    day = datetime.strptime(match["date"] + match["time"], "%Y%m%d%H%M%S")
    return f"{match['period']} · thu thập {day:%d/%m/%Y %H:%M}"


class _Vietnamese:
    """GX's view with the project's templates first and each page put into Vietnamese; the time
    zone comes from the site's configuration."""

    def __init__(self, timezone: str = "Asia/Ho_Chi_Minh", **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.env.loader = ChoiceLoader([FileSystemLoader(str(TEMPLATES)), self.env.loader])
        self.translator = Translator(timezone)

    def render(self, document, template=None, **kwargs):
        return self.translator.page(super().render(document, template, **kwargs))


class VietnamesePageView(_Vietnamese, DefaultJinjaPageView):
    """A suite's or a validation result's page."""


class VietnameseIndexPageView(_Vietnamese, DefaultJinjaIndexPageView):
    """The site's index of runs and suites."""
