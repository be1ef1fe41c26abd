"""The floor: python-calamine alone reading every cell of every sheet of every file, in one
process. Nothing the pipeline does can read the same files faster on one core.

Run as `python -m bench.floor LIST` where LIST holds one path a line; prints one JSON line
with the files, cells, unreadable files and the seconds spent reading (interpreter start-up and
imports excluded)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from python_calamine import CalamineWorkbook


def read_all(paths: list[Path]) -> dict[str, float | int]:
    """Read every cell of every sheet of every file; unreadable files are counted, not fatal."""
    cells = errors = 0
    start = time.perf_counter()
    for path in paths:
        try:
            with CalamineWorkbook.from_path(str(path)) as workbook:
                for name in workbook.sheet_names:
                    # the grid from A1, as the pipeline asks for it (skip_empty_area=False)
                    rows = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
                    cells += sum(len(row) for row in rows)
        except Exception:  # corrupt files are part of the corpus, as in the inbox
            errors += 1
    seconds = time.perf_counter() - start
    return {"files": len(paths), "cells": cells, "errors": errors, "seconds": seconds}


def main() -> None:
    paths = [Path(line) for line in Path(sys.argv[1]).read_text().splitlines() if line]
    print(json.dumps(read_all(paths)))


if __name__ == "__main__":
    main()
