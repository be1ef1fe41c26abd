"""The benchmark's inputs: a registry of N units and the period's filled forms, planned by the
demo's planner (realistic values, a few deliberate faults, ~3% missing, ~4% late), plus one late
form kept aside. Cached under `bench/.cache/<N>-<seed>/` so that a second `make bench` reuses it.

`tonghop.forms.write_form` takes 15–20 ms a form, minutes for 20,000. Here one real form per
shape (with or without children) is written by `write_form` with sentinel values, and each
submission's form is that template with its own header fields and column E put into the sheet
XML, then zipped again: under 1 ms a form, and the very bytes of XML that `write_form` writes
(tests/test_bench_corpus.py checks it). The few faulty submissions (corrupt bytes, a renamed
sheet, a wrong period, an unknown code...) are written the slow way, as `tonghop demo` does.
"""

from __future__ import annotations

import copy
import io
import json
import os
import random
import re
import shutil
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.compat import safe_string
from openpyxl.utils.datetime import to_excel

from bench.hierarchy import bench_units
from tonghop.demo import DemoPlan, DemoSubmission, plan_demo
from tonghop.forms import form_indicators, write_form
from tonghop.periods import Period
from tonghop.registry import Unit, codes_with_active_children, write_registry_csv

__all__ = [
    "CACHE_DIR",
    "Corpus",
    "FormTemplate",
    "LateForm",
    "build_corpus",
    "corpus_dir",
    "form_bytes",
    "load_corpus",
    "write_slow",
]

CACHE_DIR = Path(__file__).resolve().parent / ".cache"
# Bumped whenever what is generated changes, so that an old cache is rebuilt, not reused.
GENERATOR_VERSION = 2
PERIOD = Period(2025, 3)
DEADLINE_DAYS = 10
TIMEZONE = "Asia/Ho_Chi_Minh"
MANIFEST = "manifest.json"
# The late form arrives this long after the last planned receipt, well after the deadline.
LATE_AFTER = timedelta(days=3)

_SHEET = "xl/worksheets/sheet1.xml"
# ASCII, so that either of openpyxl's writers leaves it as it is
_SENTINEL = "@@BENCH@@"
_CODE_SENTINEL = f"{_SENTINEL}code"
_NAME_SENTINEL = f"{_SENTINEL}name"
_PREPARER_SENTINEL = f"{_SENTINEL}preparer"
_SENTINEL_DATE = date(2001, 2, 3)
_CELL = re.compile(
    r'<c r="(?P<ref>[A-Z]+)(?P<row>\d+)"(?P<attrs>[^>]*?)(?:\s*/>|>(?P<body>.*?)</c>)'
)
_STYLE = re.compile(r's="(\d+)"')
_SENTINEL_TEXT = re.compile(rf"<t>{re.escape(_SENTINEL)}(?P<key>[^<]*)</t>")
# What every template is checked against when it is built: texts that need escaping, spaces,
# control characters, Vietnamese, numbers typed as text, blanks.
_PROBE_TEXTS = (
    " Đảng viên <b> & \"nghị quyết\" 'số 1' > 2 \r\n\tđủ ",
    "   ",
    "",
    "1.117",
    "=SUM(A1:A2)",
    "x\x01y",
)


@dataclass(frozen=True)
class FormTemplate:
    """A form written by `write_form` with sentinels, cut where a submission's own cells go.

    `pieces` alternates literal XML and slots: a slot is (cell reference, style, what goes in:
    `code`, `name`, `preparer`, `prepared_on`, or an indicator code for column E). openpyxl
    writes cells one way with lxml installed and another without; `lxml` says which."""

    has_children: bool
    indicators: frozenset[str]
    pieces: tuple[str | tuple[str, str, str], ...]
    members: tuple[tuple[zipfile.ZipInfo, bytes], ...]  # every other zip member, as written
    sheet_info: zipfile.ZipInfo
    sheet_index: int  # where the sheet goes among the members
    lxml: bool

    @classmethod
    def build(cls, period: Period, has_children: bool, folder: Path) -> FormTemplate:
        """The template of one shape, checked against `write_form` on a probe form."""
        from openpyxl.cell import _writer

        codes = [indicator.code for indicator in form_indicators(has_children)]
        unit = Unit(_CODE_SENTINEL, _NAME_SENTINEL, None, "cell", None, None, None, None)
        path = folder / f"template-{int(has_children)}.xlsx"
        write_form(
            path,
            unit,
            period,
            has_children,
            values={code: f"{_SENTINEL}{code}" for code in codes},
            preparer=_PREPARER_SENTINEL,
            prepared_on=_SENTINEL_DATE,
        )
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            members = tuple(
                (info, archive.read(info.filename)) for info in infos if info.filename != _SHEET
            )
            sheet_index = next(i for i, info in enumerate(infos) if info.filename == _SHEET)
            sheet_info = infos[sheet_index]
            sheet = archive.read(_SHEET).decode("utf-8")
        fields = {"C2": "code", "D2": "name", "C4": "prepared_on", "C5": "preparer"}
        pieces: list[str | tuple[str, str, str]] = []
        position = 0
        for match in _CELL.finditer(sheet):
            reference = f"{match['ref']}{match['row']}"
            style = _STYLE.search(match["attrs"])
            slot = fields.get(reference)
            if slot is None and match["ref"] == "E" and match["body"]:
                found = _SENTINEL_TEXT.search(match["body"])
                slot = found["key"] if found else None
            if slot is None:
                continue
            pieces.append(sheet[position : match.start()])
            pieces.append((reference, style.group(1) if style else "", slot))
            position = match.end()
        pieces.append(sheet[position:])
        slots = {piece[2] for piece in pieces if isinstance(piece, tuple)}
        expected = set(fields.values()) | set(codes)
        if slots != expected or _SENTINEL in "".join(p for p in pieces if isinstance(p, str)):
            raise RuntimeError(f"the form template does not have the cells expected: {slots}")
        lxml = _writer.write_cell is _writer.lxml_write_cell
        template = cls(
            has_children, frozenset(codes), tuple(pieces), members, sheet_info, sheet_index, lxml
        )
        template._check(period, codes, folder)
        return template

    def _check(self, period: Period, codes: list[str], folder: Path) -> None:
        """Refuse to make forms unless a probe comes out exactly as `write_form` writes it."""
        values: dict[str, object] = {}
        for index, code in enumerate(codes):
            kind = index % (len(_PROBE_TEXTS) + 3)
            values[code] = (*_PROBE_TEXTS, 0, 1117, None)[kind]
        unit = Unit("PROBE-01", 'Chi bộ "Thử" <&> ', None, "cell", None, None, None, None)
        probe = DemoSubmission(
            unit_code=unit.code,
            file_name="probe.xlsx",
            received_at=datetime(2001, 2, 3),
            fault=None,
            values=values,
            preparer=" Lê Thị Hà ",
            prepared_on=date(2025, 10, 3),
        )
        path = folder / f"probe-{int(self.has_children)}.xlsx"
        write_form(
            path,
            unit,
            period,
            self.has_children,
            values=values,
            preparer=probe.preparer,
            prepared_on=probe.prepared_on,
        )
        with zipfile.ZipFile(path) as archive:
            written = archive.read(_SHEET).decode("utf-8")
        if self.sheet_xml(unit, probe) != written:
            raise RuntimeError(
                "forms made from the template would differ from write_form's: openpyxl's way of "
                "writing cells has changed; update bench/corpus.py (_cell_xml)"
            )

    def fits(self, submission: DemoSubmission, period: Period) -> bool:
        """Whether the submission's form is this template with other values (no fault that
        changes the sheet, every value a whole number or a text of a row the form has)."""
        return (
            submission.fault not in ("F1_corrupt", "F2_no_sheet")
            and submission.form_period == str(period)
            and set(submission.values) <= self.indicators
            and all(
                value is None or (isinstance(value, int | str) and not isinstance(value, bool))
                for value in submission.values.values()
            )
        )

    def sheet_xml(self, unit: Unit, submission: DemoSubmission) -> str:
        """The sheet as `write_form` writes it for this unit and submission."""
        content: dict[str, object] = {
            "code": unit.code,
            "name": unit.name,
            "preparer": submission.preparer,
            "prepared_on": submission.prepared_on,
        }
        values = submission.values
        render = _lxml_cell if self.lxml else _etree_cell
        parts: list[str] = []
        for piece in self.pieces:
            if isinstance(piece, str):
                parts.append(piece)
                continue
            reference, style, slot = piece
            value = content[slot] if slot in content else values.get(slot)
            attributes = f'r="{reference}"' + (f' s="{style}"' if style else "")
            parts.append(render(attributes, value))
        return "".join(parts)


def _number(value: object) -> str:
    return safe_string(to_excel(value) if isinstance(value, date) else value)


def _etree_cell(attributes: str, value: object) -> str:
    """One cell as openpyxl's ElementTree writer writes it (UTF-8, self-closed when empty)."""
    if value is None:
        return f'<c {attributes} t="n" />'
    if isinstance(value, str):
        text = ILLEGAL_CHARACTERS_RE.sub("", value)
        if text == "":
            return f'<c {attributes} t="inlineStr" />'
        stripped = text.strip()
        space = ' xml:space="preserve"' if stripped and stripped != text else ""
        return f'<c {attributes} t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>'
    return f'<c {attributes} t="n"><v>{_number(value)}</v></c>'


def _lxml_cell(attributes: str, value: object) -> str:
    """One cell as openpyxl's lxml writer writes it (ASCII with character references)."""
    if value is None:
        return f'<c {attributes} t="n"></c>'
    if isinstance(value, str):
        text = ILLEGAL_CHARACTERS_RE.sub("", value)
        if text == "":
            return f'<c {attributes} t="inlineStr"></c>'
        space = ' xml:space="preserve"' if text != text.strip() else ""
        escaped = escape(text).replace("\r", "&#13;").encode("ascii", "xmlcharrefreplace")
        return f'<c {attributes} t="inlineStr"><is><t{space}>{escaped.decode()}</t></is></c>'
    return f'<c {attributes} t="n"><v>{_number(value)}</v></c>'


def form_bytes(template: FormTemplate, unit: Unit, submission: DemoSubmission) -> bytes:
    """The xlsx file of one submission, zipped as openpyxl zips it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        sheet = template.sheet_xml(unit, submission).encode("utf-8")
        members = list(template.members)
        members.insert(template.sheet_index, (template.sheet_info, sheet))
        for info, data in members:
            # writestr records offsets and sizes in the ZipInfo it is given: one copy a file
            archive.writestr(copy.copy(info), data)
    return buffer.getvalue()


def write_slow(
    path: Path,
    unit: Unit,
    period: Period,
    has_children: bool,
    submission: DemoSubmission,
    seed: int,
) -> None:
    """A submission the template cannot make, written as `tonghop demo` writes it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if submission.fault == "F1_corrupt":
        path.write_bytes(random.Random(f"corrupt:{seed}:{submission.unit_code}").randbytes(6144))
        return
    write_form(
        path,
        unit,
        period,
        has_children,
        values=submission.values,
        preparer=submission.preparer,
        prepared_on=submission.prepared_on,
    )
    if submission.fault == "F2_no_sheet":
        from openpyxl import load_workbook

        workbook = load_workbook(path)
        workbook["BaoCao"].title = "Báo cáo quý"
        workbook.save(path)


def _set_received(path: Path, received_at: datetime) -> None:
    stamp = received_at.replace(tzinfo=ZoneInfo(TIMEZONE)).timestamp()
    os.utime(path, (stamp, stamp))


# --- the corpus on disk -----------------------------------------------------------------------


@dataclass(frozen=True)
class LateForm:
    """The form kept aside: a unit the plan left missing sends it after the consolidation."""

    unit_code: str
    file_name: str
    received_at: datetime

    @property
    def relative(self) -> Path:
        return Path("inbox", self.unit_code, self.file_name)


@dataclass(frozen=True)
class Corpus:
    """One generated corpus in its cache folder; `files` are paths relative to `root`."""

    root: Path
    units: int
    registry_units: int
    seed: int
    period: str
    files: tuple[str, ...]
    missing: int
    late: int
    faults: int
    late_form: LateForm

    @property
    def registry(self) -> Path:
        return self.root / "registry.csv"

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def late_path(self) -> Path:
        return self.root / "late" / self.late_form.unit_code / self.late_form.file_name


def corpus_dir(units: int, seed: int) -> Path:
    return CACHE_DIR / f"{units}-{seed}"


def load_corpus(root: Path) -> Corpus | None:
    """The corpus cached in `root`, or None when there is none or it is stale or incomplete."""
    try:
        data = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("generator_version") != GENERATOR_VERSION:
        return None
    late = data["late_form"]
    return Corpus(
        root=root,
        units=data["units"],
        registry_units=data["registry_units"],
        seed=data["seed"],
        period=data["period"],
        files=tuple(data["files"]),
        missing=data["missing"],
        late=data["late"],
        faults=data["faults"],
        late_form=LateForm(
            late["unit_code"], late["file_name"], datetime.fromisoformat(late["received_at"])
        ),
    )


@dataclass(frozen=True)
class _Job:
    path: Path
    unit: Unit
    has_children: bool
    submission: DemoSubmission


def _write_chunk(args: tuple[list[_Job], str, int]) -> int:
    jobs, period_text, seed = args
    period = Period.parse(period_text)
    with tempfile.TemporaryDirectory() as folder:
        templates = {flag: FormTemplate.build(period, flag, Path(folder)) for flag in (False, True)}
    for job in jobs:
        template = templates[job.has_children]
        job.path.parent.mkdir(parents=True, exist_ok=True)
        if template.fits(job.submission, period):
            job.path.write_bytes(form_bytes(template, job.unit, job.submission))
        else:
            form_period = Period.parse(job.submission.form_period)
            write_slow(job.path, job.unit, form_period, job.has_children, job.submission, seed)
        _set_received(job.path, job.submission.received_at)
    return len(jobs)


def _late_submission(plan: DemoPlan, units: Mapping[str, Unit]) -> DemoSubmission:
    """A correct form for a cell the plan left missing: the values of a sibling cell's sound,
    on-time form (so they sit among its siblings'), received after the deadline."""
    sound = {
        submission.unit_code: submission
        for submission in plan.submissions
        if submission.fault is None and submission.unit_code not in plan.late
    }
    last = max(submission.received_at for submission in plan.submissions)
    received = (last + LATE_AFTER).replace(hour=9, minute=15, second=0)
    for code in plan.missing:
        unit = units[code]
        if unit.kind != "cell":
            continue
        sibling = next(
            (
                sound[other.code]
                for other in units.values()
                if other.parent_code == unit.parent_code
                and other.code in sound
                and units[other.code].kind == "cell"
            ),
            None,
        )
        if sibling is None:
            continue
        return DemoSubmission(
            unit_code=code,
            file_name=f"BaoCao_{PERIOD}_{code}.xlsx",
            received_at=received,
            fault=None,
            form_unit_code=code,
            form_period=str(PERIOD),
            values=dict(sibling.values),
            preparer=sibling.preparer,
            prepared_on=received.date(),
        )
    raise RuntimeError("no missing cell has a sibling whose form could be copied")


def build_corpus(
    units: int, seed: int = 2025, *, workers: int | None = None, root: Path | None = None
) -> Corpus:
    """The cached corpus of `units` units, generated first when there is none."""
    root = root or corpus_dir(units, seed)
    found = load_corpus(root)
    if found is not None:
        return found
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    registry = bench_units(units, seed)
    write_registry_csv(root / "registry.csv", registry)
    plan = plan_demo(PERIOD, DEADLINE_DAYS, seed, units=registry)
    by_code = {unit.code: unit for unit in registry}
    with_children = codes_with_active_children(registry, PERIOD.last_day)
    jobs = [
        _Job(
            path=root.joinpath(*submission.path_parts),
            unit=by_code[submission.form_unit_code],
            has_children=submission.form_unit_code in with_children,
            submission=submission,
        )
        for submission in plan.submissions
    ]
    late_submission = _late_submission(plan, by_code)
    late_job = _Job(
        path=root / "late" / late_submission.unit_code / late_submission.file_name,
        unit=by_code[late_submission.unit_code],
        has_children=False,
        submission=late_submission,
    )
    _write_all([*jobs, late_job], seed, workers)
    files = sorted(str(job.path.relative_to(root)) for job in jobs)
    manifest = {
        "generator_version": GENERATOR_VERSION,
        "units": units,
        "registry_units": len(registry),
        "seed": seed,
        "period": str(PERIOD),
        "files": files,
        "missing": len(plan.missing),
        "late": len(plan.late),
        "faults": sum(1 for submission in plan.submissions if submission.fault),
        "late_form": {
            "unit_code": late_submission.unit_code,
            "file_name": late_submission.file_name,
            "received_at": late_submission.received_at.isoformat(),
        },
    }
    # Written last: a cache folder without it is an interrupted generation, rebuilt next time.
    (root / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")
    loaded = load_corpus(root)
    assert loaded is not None
    return loaded


def _write_all(jobs: Sequence[_Job], seed: int, workers: int | None) -> None:
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if workers <= 1 or len(jobs) < 500:
        _write_chunk((list(jobs), str(PERIOD), seed))
        return
    chunks = [(list(jobs[index :: workers * 4]), str(PERIOD), seed) for index in range(workers * 4)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        written = sum(pool.map(_write_chunk, chunks))
    if written != len(jobs):
        raise RuntimeError(f"wrote {written} of {len(jobs)} forms")
