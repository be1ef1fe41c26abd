"""The naive baseline people write first: openpyxl opens each file, the table under the header
row 8 of sheet «BaoCao» becomes the form's rows, and each file is validated on its own by Great
Expectations with the project's suites (`validate_submissions` on a batch of one: the value
suite and the submission suite, as the pipeline runs them once for a whole batch).

Run as `python -m bench.naive --registry CSV --period P LIST` where LIST holds one path a line
(`.../inbox/<unit>/<file>`); prints one JSON line. The set-up (imports, the registry, Great
Expectations' context and the first file) is timed apart from the steady per-file cost."""

from __future__ import annotations

import argparse
import json
import time
import uuid
from datetime import date, datetime
from pathlib import Path

from tonghop.config import quiet_libraries

quiet_libraries()

HEADER_FIELDS = {2: "unit_code", 3: "period", 4: "prepared_on", 5: "preparer", 6: "template"}


def read_with_openpyxl(path: Path) -> object:
    """The form as a FormRead, read cell by cell with openpyxl (header row 8, columns B, E, F)."""
    from openpyxl import load_workbook

    from tonghop.catalogue import by_code
    from tonghop.forms import HEADER_ROW, SHEET_NAME
    from tonghop.reading import FormRead, FormRow, normalise_number

    workbook = load_workbook(path)
    try:
        sheet = workbook[SHEET_NAME]
        fields: dict[str, str | None] = {}
        for row, name in HEADER_FIELDS.items():
            value = sheet.cell(row, 3).value
            if isinstance(value, datetime | date):
                value = value.strftime("%Y-%m-%d")
            fields[name] = None if value is None else str(value).strip()
        catalogue = by_code()
        rows = []
        for number, code, value, note in _table(sheet, HEADER_ROW):
            if not code and value in (None, ""):
                continue
            indicator = catalogue.get(str(code or "").strip())
            text = _text(value)
            if (
                text is not None
                and isinstance(value, str)
                and indicator
                and indicator.kind != "text"
            ):
                text = normalise_number(text)
            rows.append(FormRow(number, str(code or "").strip(), text, _text(note)))
    finally:
        workbook.close()
    return FormRead(
        unit_code=fields["unit_code"],
        period=fields["period"],
        prepared_on=fields["prepared_on"],
        preparer=fields["preparer"],
        template_version=fields["template"],
        rows=rows,
        problems=[],
    )


def _table(sheet: object, header_row: int) -> list[tuple[int, object, object, object]]:
    """(row number, code in B, value in E, note in F) of every row under the header."""
    found = []
    for number, cells in enumerate(
        sheet.iter_rows(min_row=header_row + 1, min_col=2, max_col=6, values_only=True),
        start=header_row + 1,
    ):
        found.append((number, cells[0], cells[3], cells[4]))
    return found


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--registry", type=Path, required=True)
    parser.add_argument("--period", required=True)
    parser.add_argument("files", type=Path)
    args = parser.parse_args()

    start = time.perf_counter()
    from tonghop.periods import Period
    from tonghop.registry import active_units, codes_with_active_children, read_registry
    from tonghop.validation import SubmissionInput, ValidationContext, validate_submissions

    paths = [Path(line) for line in args.files.read_text().splitlines() if line]
    units, problems = read_registry(args.registry)
    if problems:
        raise SystemExit(f"registry refused: {problems[0].message}")
    period = Period.parse(args.period)
    context = ValidationContext(
        period=str(period),
        active_unit_codes=frozenset(unit.code for unit in active_units(units, period.last_day)),
        units_with_children=frozenset(codes_with_active_children(units, period.last_day)),
    )

    def one(path: Path) -> str:
        try:
            form = read_with_openpyxl(path)
        except Exception:  # corrupt file or renamed sheet: refused, as F1/F2 would
            return "unreadable"
        item = SubmissionInput(uuid.uuid4().hex, path.parent.name, form)
        found = validate_submissions([item], context)[item.submission_id]
        return "rejected" if any(problem.severity == "error" for problem in found) else "accepted"

    outcomes = [one(paths[0])]
    setup = time.perf_counter() - start
    steady_start = time.perf_counter()
    outcomes += [one(path) for path in paths[1:]]
    steady = time.perf_counter() - steady_start
    per_file = steady / max(1, len(paths) - 1)
    print(
        json.dumps(
            {
                "files": len(paths),
                "setup_seconds": setup,
                "steady_seconds": steady,
                "per_file_seconds": per_file,
                "seconds": setup + steady,
                "outcomes": {name: outcomes.count(name) for name in sorted(set(outcomes))},
            }
        )
    )


if __name__ == "__main__":
    main()
