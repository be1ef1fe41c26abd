"""The unit hierarchy (SPEC §1): reading and validating the registry CSV, activity in a period,
leaves, hierarchy order and the closure table used by every roll-up."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tonghop.text import visible

KINDS = (
    "province",
    "upper",
    "grassroots_committee",
    "grassroots_cell",
    "partial_committee",
    "cell",
)
GRASSROOTS_KINDS = ("grassroots_committee", "grassroots_cell")
SECTORS = ("agency", "soe_full", "soe_majority", "soe_minority", "private", "commune", "other")

KIND_LABELS_VI = {
    "province": "Đảng bộ tỉnh",
    "upper": "Đảng bộ cấp trên cơ sở",
    "grassroots_committee": "Đảng bộ cơ sở",
    "grassroots_cell": "Chi bộ cơ sở",
    "partial_committee": "Đảng bộ bộ phận",
    "cell": "Chi bộ trực thuộc",
}
SECTOR_LABELS_VI = {
    "agency": "Cơ quan hành chính, đơn vị sự nghiệp, hội",
    "soe_full": "Doanh nghiệp 100% vốn Nhà nước",
    "soe_majority": "Doanh nghiệp trên 50% vốn Nhà nước",
    "soe_minority": "Doanh nghiệp dưới 50% vốn Nhà nước",
    "private": "Doanh nghiệp ngoài Nhà nước",
    "commune": "Xã, phường, thị trấn",
    "other": "Loại hình khác",
}
# Which parent kinds each kind may sit under (SPEC §1).
ALLOWED_PARENTS = {
    "province": (),
    "upper": ("province", "upper"),
    "grassroots_committee": ("province", "upper"),
    "grassroots_cell": ("province", "upper"),
    "partial_committee": ("grassroots_committee",),
    "cell": ("grassroots_committee", "partial_committee"),
}
HEADER = ("code", "name", "parent_code", "kind", "sector", "valid_from", "valid_to", "email")


@dataclass(frozen=True)
class Unit:
    """One registry row; `line` is its line number in the CSV (the header is line 1)."""

    code: str
    name: str
    parent_code: str | None
    kind: str
    sector: str | None
    valid_from: date | None
    valid_to: date | None
    email: str | None
    line: int = 0

    def active_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )

    @property
    def is_grassroots(self) -> bool:
        return self.kind in GRASSROOTS_KINDS


@dataclass(frozen=True)
class RegistryProblem:
    """Why a registry is refused; `line` points at the CSV line (0 for the file as a whole)."""

    line: int
    message: str


# Codes become inbox folder names, so they must be safe on every file system: ASCII only (an
# accented letter can be stored composed or decomposed, and the two would be different folders),
# no separators, no leading or trailing dot, and no name Windows reserves for devices.
_CODE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
_WINDOWS_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL"]
    + [f"COM{i}" for i in range(1, 10)]
    + [f"LPT{i}" for i in range(1, 10)]
)
_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>.]+(?:\.[^@\s,;<>.]+)+$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_COLUMNS = ("valid_from", "valid_to")
# Exactly Unicode category Cc: the C0 controls (NUL, tab, line feed, carriage return …), DEL
# and the C1 controls. PostgreSQL text cannot hold NUL at all and SQLite cuts a value at it, so
# one import would store different names on the two databases; the others corrupt e-mail
# headers, CSV lines and terminal output. A tab or line break inside a name counts too: a
# unit's name is one line everywhere it is shown, so it is refused like any other control
# character, never silently rewritten (the CSVs must carry the registry's names exactly).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_NAMES_VI = {"\t": "dấu tab", "\n": "dấu xuống dòng", "\r": "dấu xuống dòng"}
# A cell starting with one of these is a formula to a spreadsheet that opens a published CSV
# (`=cmd|' /C calc'!A0` runs a program in old Excel); tab and carriage return are on OWASP's
# list, and some spreadsheets read the full-width forms as the ASCII ones.
_FORMULA_STARTS = frozenset("=+-@\t\r＝＋－＠")
# Column names as an operator reads them in a message about the cell.
_COLUMN_LABELS_VI = {
    "code": "mã đơn vị",
    "name": "tên đơn vị",
    "parent_code": "mã đơn vị cấp trên",
    "kind": "loại đơn vị",
    "sector": "loại hình",
    "valid_from": "ngày bắt đầu hiệu lực",
    "valid_to": "ngày kết thúc hiệu lực",
    "email": "địa chỉ thư điện tử",
}
# A cell with a control character may be binary garbage; its message shows the start only.
_CELL_SHOWN = 80
# A cycle of thousands of units would make an unreadable message; show its start only.
_CYCLE_SHOWN = 8


def _control_problem(line: int, column: str, cell: str) -> RegistryProblem | None:
    """The problem of a raw cell holding control characters, None when it holds none."""
    found = list(dict.fromkeys(_CONTROL.findall(cell)))  # each character once, in order
    if not found:
        return None
    described = ", ".join(
        f"U+{ord(char):04X}"
        + (f" – {_CONTROL_NAMES_VI[char]}" if char in _CONTROL_NAMES_VI else "")
        for char in found
    )
    shown = visible(cell)
    if len(shown) > _CELL_SHOWN:
        shown = shown[: _CELL_SHOWN - 1] + "…"
    these = "ký tự này" if len(found) == 1 else "các ký tự này"
    return RegistryProblem(
        line,
        f"Dòng {line}: {_COLUMN_LABELS_VI[column]} «{shown}» có ký tự điều khiển không in được "
        f"({described}) ở cột {column}; hãy xoá {these} rồi lưu lại tệp.",
    )


def _formula_start(name: str) -> str | None:
    """The character that makes a spreadsheet read the name as a formula, or None."""
    # A spreadsheet skips leading spaces before it looks for `=`; tab and carriage return are
    # whitespace to `strip` but formula starts themselves, so the raw first character counts.
    if name[:1] in _FORMULA_STARTS:
        return name[0]
    first = name.lstrip()[:1]
    return first if first in _FORMULA_STARTS else None


def _readable(problems: list[RegistryProblem]) -> list[RegistryProblem]:
    """The problems with any control character of the quoted registry text written out."""
    # Codes, names, header cells and e-mails are quoted in many messages; writing out their
    # control characters here, once, means none of them ever reaches a terminal raw.
    return [RegistryProblem(problem.line, visible(problem.message)) for problem in problems]


def _kind_vi(kind: str) -> str:
    return KIND_LABELS_VI.get(kind, kind)


def span_vi(unit: Unit) -> str:
    """The validity period of a unit in words, e.g. `từ 2020-01-01 đến 2023-12-31`."""
    start, end = unit.valid_from, unit.valid_to
    if start is None and end is None:
        return "không giới hạn thời gian"
    if end is None:
        return f"từ {start:%Y-%m-%d}, không có ngày kết thúc"
    if start is None:
        return f"không có ngày bắt đầu, đến {end:%Y-%m-%d}"
    return f"từ {start:%Y-%m-%d} đến {end:%Y-%m-%d}"


def _span_inside(child: Unit, parent: Unit, effective: date | None = None) -> bool:
    """Whether the child is active only while its parent is, from `effective` on (a registry in
    force from a date says nothing of where a unit was before it: an older unit may move under
    a newer parent)."""
    child_start = child.valid_from
    if effective is not None and (child_start is None or child_start < effective):
        child_start = effective
    starts_ok = parent.valid_from is None or (
        child_start is not None and child_start >= parent.valid_from
    )
    ends_ok = parent.valid_to is None or (
        child.valid_to is not None and child.valid_to <= parent.valid_to
    )
    return starts_ok and ends_ok


def _span_inverted(unit: Unit) -> bool:
    return (
        unit.valid_from is not None
        and unit.valid_to is not None
        and unit.valid_from > unit.valid_to
    )


def _code_problem(code: str) -> str | None:
    """Why a code cannot serve as a folder name, or None when it can."""
    if not _CODE.match(code) or ".." in code:
        return (
            "chỉ được gồm chữ cái không dấu, chữ số và các dấu «.», «_», «-», bắt đầu và kết thúc "
            "bằng chữ cái hoặc chữ số, không có khoảng trắng, không có hai dấu chấm liền nhau "
            "(mã được dùng làm tên thư mục nhận báo cáo)"
        )
    if code.split(".")[0].upper() in _WINDOWS_RESERVED:
        return "đây là tên dành riêng của hệ điều hành, không dùng làm tên thư mục được"
    return None


def _cycles(units: Sequence[Unit], by_code: dict[str, Unit]) -> dict[str, tuple[list[str], int]]:
    """Each unit on a cycle of parent links, with the cycle and its place on it; linear time."""
    # Every unit has at most one parent, so walking up from each unit not yet seen and stopping
    # at the first unit already seen visits every link once.
    done: set[str] = set()
    on_cycle: dict[str, tuple[list[str], int]] = {}
    for unit in units:
        if unit.code in done or by_code.get(unit.code) is not unit:
            continue
        path: list[str] = []
        index: dict[str, int] = {}
        current: str | None = unit.code
        while current is not None and current in by_code and current not in done:
            if current in index:
                cycle = path[index[current] :]
                for place, code in enumerate(cycle):
                    on_cycle[code] = (cycle, place)
                break
            index[current] = len(path)
            path.append(current)
            current = by_code[current].parent_code
        done.update(path)
    return on_cycle


def _cycle_vi(cycle: list[str], place: int) -> str:
    """`A → B → C → A` from the unit at `place`, shortened when the cycle is long."""
    # Only the shown codes are built, so that every unit of a huge cycle costs constant time.
    size = len(cycle)
    shown = [cycle[(place + step) % size] for step in range(min(size, _CYCLE_SHOWN))]
    text = " → ".join(f"«{code}»" for code in shown)
    if size > _CYCLE_SHOWN:
        text += f" → … ({size} đơn vị)"
    return f"{text} → «{cycle[place]}»"


def validate_registry(
    units: Sequence[Unit], effective: date | None = None
) -> list[RegistryProblem]:
    """Every problem of a registry in force from `effective` (None: for every period), sorted by
    line; an empty list means the registry is sound."""
    return _readable(_validate(units, frozenset(), effective))


def _validate(
    units: Sequence[Unit], unreliable_spans: frozenset[int], effective: date | None = None
) -> list[RegistryProblem]:
    """`validate_registry`, skipping the period checks of lines whose dates could not be read."""
    problems: list[RegistryProblem] = []

    def report(unit: Unit, message: str) -> None:
        problems.append(RegistryProblem(unit.line, f"Dòng {unit.line}: {message}"))

    if not units:
        return [RegistryProblem(0, "Danh sách đơn vị không có đơn vị nào.")]

    by_code: dict[str, Unit] = {}
    by_folder: dict[str, Unit] = {}
    for unit in units:
        code = unit.code
        if not code:
            report(unit, "thiếu mã đơn vị (cột code).")
        else:
            reason = _code_problem(code)
            if reason:
                report(unit, f"mã đơn vị «{code}» không hợp lệ: {reason}.")
            first = by_code.get(code)
            same_folder = by_folder.get(code.casefold())
            if first is not None:
                report(unit, f"mã đơn vị «{code}» trùng với dòng {first.line}.")
            elif same_folder is not None:
                report(
                    unit,
                    f"mã đơn vị «{code}» trùng với mã «{same_folder.code}» ở dòng "
                    f"{same_folder.line} (hai mã chỉ khác nhau chữ hoa, chữ thường nhưng dùng "
                    "chung một thư mục nhận báo cáo).",
                )
            else:
                by_code[code] = unit
                by_folder[code.casefold()] = unit
        label = f"đơn vị «{code}»" if code else "đơn vị không có mã"
        if not unit.name:
            report(unit, f"{label} thiếu tên đơn vị (cột name).")
        elif formula_start := _formula_start(unit.name):
            # Refused rather than neutralised in each CSV: the published CSVs are a
            # machine-readable contract whose names must stay exactly the registry's.
            report(
                unit,
                f"tên «{unit.name}» của {label} bắt đầu bằng «{formula_start}», Excel sẽ "
                "hiểu là công thức khi mở các bảng tổng hợp; hãy bỏ ký tự này ở đầu tên rồi lưu "
                "lại tệp.",
            )
        if not unit.kind:
            report(unit, f"{label} thiếu loại đơn vị (cột kind).")
        elif unit.kind not in KINDS:
            report(
                unit,
                f"loại đơn vị «{unit.kind}» của {label} không hợp lệ; cột kind chỉ nhận: "
                f"{', '.join(KINDS)}.",
            )
        if unit.kind in GRASSROOTS_KINDS:
            if not unit.sector:
                report(
                    unit,
                    f"{label} là «{_kind_vi(unit.kind)}» nên phải ghi loại hình (cột sector), "
                    f"một trong: {', '.join(SECTORS)}.",
                )
            elif unit.sector not in SECTORS:
                report(
                    unit,
                    f"loại hình «{unit.sector}» của {label} không hợp lệ; cột sector chỉ nhận: "
                    f"{', '.join(SECTORS)}.",
                )
        elif unit.kind in KINDS and unit.sector:
            report(
                unit,
                f"{label} là «{_kind_vi(unit.kind)}», không phải tổ chức cơ sở đảng, nên cột "
                f"sector phải để trống (đang ghi «{unit.sector}»).",
            )
        if _span_inverted(unit):
            report(
                unit,
                f"ngày bắt đầu hiệu lực {unit.valid_from:%Y-%m-%d} của {label} sau ngày kết thúc "
                f"{unit.valid_to:%Y-%m-%d}.",
            )
        if unit.email and not _EMAIL.match(unit.email):
            report(unit, f"địa chỉ thư điện tử «{unit.email}» của {label} không hợp lệ.")

    _check_tree(units, by_code, unreliable_spans, report, problems, effective)
    problems.sort(key=lambda problem: problem.line)
    return problems


def _check_tree(
    units: Sequence[Unit],
    by_code: dict[str, Unit],
    unreliable_spans: frozenset[int],
    report: Callable[[Unit, str], None],
    problems: list[RegistryProblem],
    effective: date | None = None,
) -> None:
    """The checks that involve a unit's parent: root, parent kind, cycles, validity periods."""
    first_province: Unit | None = None
    for unit in units:
        if unit.kind != "province":
            continue
        if unit.parent_code is not None:
            report(
                unit,
                f"đơn vị «{unit.code}» là «{_kind_vi('province')}», đơn vị gốc của danh sách, "
                f"nên không có đơn vị cấp trên (cột parent_code đang ghi «{unit.parent_code}»).",
            )
        elif first_province is None:
            first_province = unit
        else:
            report(
                unit,
                f"đơn vị «{unit.code}» là «{_kind_vi('province')}» thứ hai (đã có "
                f"«{first_province.code}» ở dòng {first_province.line}); danh sách chỉ được có "
                "một đơn vị gốc.",
            )
    if first_province is None:
        problems.append(
            RegistryProblem(
                0,
                f"Danh sách không có «{_kind_vi('province')}» làm đơn vị gốc (loại province, "
                "cột parent_code để trống).",
            )
        )

    on_cycle = _cycles(units, by_code)
    for unit in units:
        if unit.kind == "province":
            continue
        parent_code = unit.parent_code
        if parent_code is None:
            if unit.kind in KINDS:
                report(
                    unit,
                    f"đơn vị «{unit.code}» ({_kind_vi(unit.kind)}) không có đơn vị cấp trên; chỉ "
                    f"«{_kind_vi('province')}» mới là đơn vị gốc.",
                )
            continue
        parent = by_code.get(parent_code)
        if parent is None:
            report(
                unit,
                f"đơn vị cấp trên «{parent_code}» của «{unit.code}» không có trong danh sách.",
            )
            continue
        if by_code.get(unit.code) is unit and unit.code in on_cycle:
            report(
                unit,
                f"đơn vị «{unit.code}» nằm trong một vòng cấp trên khép kín: "
                f"{_cycle_vi(*on_cycle[unit.code])}.",
            )
        if (
            unit.kind in KINDS
            and parent.kind in KINDS
            and parent.kind not in ALLOWED_PARENTS[unit.kind]
        ):
            report(
                unit,
                f"«{_kind_vi(unit.kind)}» không thể trực thuộc «{_kind_vi(parent.kind)}» "
                f"(đơn vị «{unit.code}», cấp trên «{parent.code}»).",
            )
        spans_readable = not (
            unit.line in unreliable_spans
            or parent.line in unreliable_spans
            or _span_inverted(unit)
            or _span_inverted(parent)
        )
        if spans_readable and not _span_inside(unit, parent, effective):
            report(
                unit,
                f"thời gian hiệu lực của «{unit.code}» ({span_vi(unit)}) nằm ngoài thời gian "
                f"hiệu lực của đơn vị cấp trên «{parent.code}» ({span_vi(parent)}).",
            )


def read_registry(
    path: Path, effective: date | None = None
) -> tuple[list[Unit], list[RegistryProblem]]:
    """Read and validate a registry CSV in force from `effective` (None: for every period); any
    problem refuses it whole (no units returned)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return [], [
            RegistryProblem(0, f"Không đọc được tệp danh sách đơn vị «{path}»: {exc.strerror}.")
        ]
    try:
        # Excel's "CSV UTF-8" starts the file with a byte order mark; utf-8-sig drops it.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        return [], [
            RegistryProblem(
                line,
                f"Dòng {line}: tệp không được lưu theo bảng mã UTF-8; hãy lưu lại tệp dưới dạng "
                "«CSV UTF-8».",
            )
        ]
    reader = csv.reader(io.StringIO(text, newline=""))
    # Each row with the line it starts on (a quoted cell may span several lines).
    rows: list[tuple[int, list[str]]] = []
    previous_end = 0
    try:
        for row in reader:
            rows.append((previous_end + 1, row))
            previous_end = reader.line_num
    except csv.Error as exc:
        line = reader.line_num
        return [], [RegistryProblem(line, f"Dòng {line}: tệp CSV bị lỗi định dạng ({exc}).")]
    if not rows:
        return [], [RegistryProblem(1, "Dòng 1: tệp trống, thiếu dòng tiêu đề.")]

    _, header = rows[0]
    columns, problems = _read_header(header, rows[1:])
    if any(name not in columns for name in HEADER):
        return [], _readable(problems)

    units: list[Unit] = []
    unreadable_dates: set[int] = set()
    width = len(header)
    for line, row in rows[1:]:
        if not any(cell.strip() for cell in row):
            continue  # Spreadsheets leave empty rows behind; they carry nothing.
        if len(row) < width or any(cell.strip() for cell in row[width:]):
            problems.append(
                RegistryProblem(
                    line,
                    f"Dòng {line}: có {len(row)} ô trong khi dòng tiêu đề có {width} cột.",
                )
            )
        # The raw cells: stripping would hide a control character at either end of one. The
        # whole row is searched first, once: most rows have none, and 300,000 rows are read.
        if _CONTROL.search("".join(row)):
            for name, index in columns.items():
                control = _control_problem(line, name, row[index]) if index < len(row) else None
                if control is not None:
                    problems.append(control)
        cells = {name: _cell(row, index) for name, index in columns.items()}
        label = f"đơn vị «{cells['code']}»" if cells["code"] else "đơn vị không có mã"
        dates: dict[str, date | None] = {}
        for column in _DATE_COLUMNS:
            dates[column], bad = _parse_date(cells[column])
            if bad:
                unreadable_dates.add(line)
                problems.append(
                    RegistryProblem(
                        line,
                        f"Dòng {line}: ngày «{cells[column]}» ở cột {column} của {label} không "
                        "đúng định dạng năm-tháng-ngày (ví dụ 2025-03-31).",
                    )
                )
        units.append(
            Unit(
                code=cells["code"] or "",
                name=cells["name"] or "",
                parent_code=cells["parent_code"],
                kind=cells["kind"] or "",
                sector=cells["sector"],
                valid_from=dates["valid_from"],
                valid_to=dates["valid_to"],
                email=cells["email"],
                line=line,
            )
        )

    problems.extend(_validate(units, frozenset(unreadable_dates), effective))
    problems.sort(key=lambda problem: problem.line)
    return ([], _readable(problems)) if problems else (units, [])


def _read_header(
    header: list[str], rows: list[tuple[int, list[str]]]
) -> tuple[dict[str, int], list[RegistryProblem]]:
    """Column positions by name, and what is wrong with the header line."""
    columns: dict[str, int] = {}
    extra: list[str] = []
    repeated: list[str] = []
    for index, cell in enumerate(header):
        name = cell.strip()
        if not name:
            # A column with neither a name nor data is a spreadsheet artefact, not a column.
            if any(_cell(row, index) for _, row in rows):
                extra.append(f"cột thứ {index + 1} (không có tên)")
            continue
        if name in columns:
            repeated.append(name)
        elif name in HEADER:
            columns[name] = index
        else:
            extra.append(name)
    missing = [name for name in HEADER if name not in columns]
    expected = ",".join(HEADER)
    problems = []
    if missing:
        problems.append(
            RegistryProblem(
                1,
                f"Dòng 1: dòng tiêu đề thiếu cột {', '.join(missing)}; dòng tiêu đề phải gồm "
                f"các cột {expected}.",
            )
        )
    if extra:
        problems.append(
            RegistryProblem(
                1,
                f"Dòng 1: dòng tiêu đề có cột không thuộc mẫu: {', '.join(extra)}; dòng tiêu đề "
                f"phải gồm các cột {expected}.",
            )
        )
    if repeated:
        problems.append(
            RegistryProblem(1, f"Dòng 1: dòng tiêu đề có cột lặp lại: {', '.join(repeated)}.")
        )
    return columns, problems


def _cell(row: list[str], index: int) -> str | None:
    """The stripped cell, None when blank or absent."""
    if index >= len(row):
        return None
    value = row[index].strip()
    return value or None


def _parse_date(text: str | None) -> tuple[date | None, bool]:
    """The date of an ISO `YYYY-MM-DD` cell (None when blank), and whether the text was bad."""
    if text is None:
        return None, False
    # date.fromisoformat alone would also take 20250331 and 2025-W13-1.
    if not _ISO_DATE.match(text):
        return None, True
    try:
        return date.fromisoformat(text), False
    except ValueError:
        return None, True


def write_registry_csv(path: Path, units: Sequence[Unit]) -> None:
    """Write units as a registry CSV (UTF-8, header HEADER, ISO dates, blank for None)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        for unit in units:
            writer.writerow(
                [
                    unit.code,
                    unit.name,
                    unit.parent_code or "",
                    unit.kind,
                    unit.sector or "",
                    unit.valid_from.isoformat() if unit.valid_from else "",
                    unit.valid_to.isoformat() if unit.valid_to else "",
                    unit.email or "",
                ]
            )


def active_units(units: Sequence[Unit], day: date) -> list[Unit]:
    """The units active on `day`, in registry order."""
    return [unit for unit in units if unit.active_on(day)]


def codes_with_active_children(units: Sequence[Unit], day: date) -> set[str]:
    """Codes of the units with at least one child active on `day` (they are not leaves)."""
    return {
        unit.parent_code for unit in units if unit.parent_code is not None and unit.active_on(day)
    }


def _parents(units: Sequence[Unit]) -> dict[str, str | None]:
    """Parent code by unit code; the hierarchy helpers expect a validated registry."""
    parents = {unit.code: unit.parent_code for unit in units}
    if len(parents) != len(units):
        raise ValueError("duplicate unit codes: validate the registry first")
    for code, parent in parents.items():
        if parent is not None and parent not in parents:
            raise ValueError(f"unit {code!r} has unknown parent {parent!r}")
    return parents


def closure_rows(units: Sequence[Unit]) -> list[tuple[str, str, int]]:
    """(ancestor, descendant, depth) for every unit and each of its ancestors, itself at 0."""
    parents = _parents(units)
    limit = len(parents)
    rows: list[tuple[str, str, int]] = []
    # Walking up from each unit costs its depth: O(n · depth), the size of the output itself.
    for unit in units:
        current: str | None = unit.code
        depth = 0
        while current is not None:
            if depth > limit:
                raise ValueError(f"unit {unit.code!r} lies under a cycle of parents")
            rows.append((current, unit.code, depth))
            current = parents[current]
            depth += 1
    return rows


def _preorder(units: Sequence[Unit]) -> list[tuple[str, int]]:
    """(code, level) of every unit in pre-order, roots and children in registry-line order."""
    parents = _parents(units)
    ordered = sorted(range(len(units)), key=lambda index: units[index].line)
    children: dict[str | None, list[str]] = {}
    for index in ordered:
        children.setdefault(parents[units[index].code], []).append(units[index].code)
    result: list[tuple[str, int]] = []
    # An explicit stack: a chain of thousands of units would exhaust Python's recursion limit.
    stack = [(code, 0) for code in reversed(children.get(None, []))]
    while stack:
        code, level = stack.pop()
        result.append((code, level))
        stack.extend((child, level + 1) for child in reversed(children.get(code, [])))
    if len(result) != len(units):
        raise ValueError("some units lie on a cycle of parents: validate the registry first")
    return result


def hierarchy_positions(units: Sequence[Unit]) -> dict[str, int]:
    """Pre-order position of every unit (0 = root), children in the order of their lines."""
    return {code: position for position, (code, _) in enumerate(_preorder(units))}


def levels(units: Sequence[Unit]) -> dict[str, int]:
    """Depth of every unit below the root (the root is 0)."""
    return dict(_preorder(units))


def lineage(code: str, parents: Mapping[str, str | None]) -> list[str]:
    """The unit and its ancestors, nearest first, by a map of each unit's parent."""
    found: list[str] = []
    current: str | None = code
    while current is not None and current not in found:
        found.append(current)
        current = parents.get(current)
    return found
