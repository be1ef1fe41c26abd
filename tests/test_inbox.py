"""The inbox is read once: a file unchanged since a run read it (same name, size and
modification time) is not opened again; a changed or new file is, and the same bytes under a
new name are recorded once."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest

import tonghop_tasks.collecting
from tests.test_end_to_end import PERIOD, REPORTS, received, write_contract_form
from tonghop.inbox import FILE, InboxEntry, changed_entries
from tonghop_flows.collect import collect


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The inbox files a collection reads (each is copied and hashed in one pass)."""
    paths: list[Path] = []
    original = tonghop_tasks.collecting.archive_entry

    def counting(entry: InboxEntry, inbox: Path, *args: object) -> object:
        paths.append(inbox / entry.folder / entry.shown)
        return original(entry, inbox, *args)

    monkeypatch.setattr(tonghop_tasks.collecting, "archive_entry", counting)
    return paths


def test_a_second_run_opens_no_file(imported: Path, opened: list[Path]) -> None:
    first = collect(PERIOD, str(imported))
    assert first.received == 5 and len(opened) == 5
    opened.clear()
    second = collect(PERIOD, str(imported))
    assert second.received == 0
    assert opened == []


def test_changed_and_copied_files_are_read_and_recorded_once(
    imported: Path, opened: list[Path]
) -> None:
    collect(PERIOD, str(imported))
    opened.clear()
    # G1C1 sends a corrected form under the same name; U1 copies its form under another name.
    corrected = imported / "inbox" / "G1C1" / "bao-cao.xlsx"
    write_contract_form(corrected, "G1C1", {**REPORTS["G1C1"], "news_items": "3"})
    received(corrected, datetime(2025, 10, 6, 9, 0))
    copy = imported / "inbox" / "U1" / "bao-cao (1).xlsx"
    shutil.copy2(imported / "inbox" / "U1" / "bao-cao.xlsx", copy)

    third = collect(PERIOD, str(imported))
    assert sorted(opened) == sorted([corrected, copy])
    assert third.received == 1 and third.accepted == 1  # the copy is the same bytes: no version
    opened.clear()
    assert collect(PERIOD, str(imported)).received == 0
    assert opened == []


@pytest.mark.parametrize(
    ("remembered", "expected"),
    [
        ({}, ["a.xlsx", "b.xlsx"]),  # never read
        ({("U", "a.xlsx"): (3, 0), ("U", "b.xlsx"): (4, 0)}, []),  # unchanged
        ({("U", "a.xlsx"): (3, 0), ("U", "b.xlsx"): (5, 0)}, ["b.xlsx"]),  # size changed
        ({("U", "a.xlsx"): (3, 1), ("U", "b.xlsx"): (4, 0)}, ["a.xlsx"]),  # time changed
        ({("V", "a.xlsx"): (3, 0), ("U", "b.xlsx"): (4, 0)}, ["a.xlsx"]),  # other folder's file
    ],
)
def test_changed_entries(
    remembered: dict[tuple[str, str], tuple[int, int]], expected: list[str]
) -> None:
    entries = [
        InboxEntry("U", "U", b"a.xlsx", FILE, 3, 0),
        InboxEntry("U", "U", b"b.xlsx", FILE, 4, 0),
    ]
    assert [entry.shown for entry in changed_entries(entries, remembered)] == expected
