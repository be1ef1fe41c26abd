"""Tests of the names `tonghop.layout` gives the workspace's folders and the files it writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tonghop import layout
from tonghop.layout import (
    SYNC_EACH_UP_TO,
    Workspace,
    archive_copy,
    blank_form_name,
    chart_file_name,
    find_reports,
    make_durable,
    report_paths,
)
from tonghop.periods import Period

PERIOD = Period(2026, 3)


def test_workspace_names_its_folders_and_creates_them(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / "ws")
    assert workspace.inbox == tmp_path / "ws" / "inbox"
    assert workspace.archive == tmp_path / "ws" / "archive"
    assert workspace.outbox == tmp_path / "ws" / "outbox"
    assert workspace.published == tmp_path / "ws" / "published"
    assert workspace.database_file == tmp_path / "ws" / "tonghop.db"
    assert workspace.gx_project == tmp_path / "ws" / "gx"
    assert workspace.published_folder(PERIOD) == tmp_path / "ws" / "published" / "2026Q3"
    assert workspace.forms_folder(PERIOD) == tmp_path / "ws" / "outbox" / "2026Q3"
    workspace.ensure()
    workspace.ensure()  # a second time changes nothing
    folders = [workspace.inbox, workspace.archive, workspace.outbox, workspace.published]
    assert all(folder.is_dir() for folder in folders)


def test_blank_forms_and_archive_copies() -> None:
    assert blank_form_name("CQ001-CB02", PERIOD) == "CQ001-CB02-2026Q3.xlsx"
    archive = Path("archive")
    assert archive_copy(archive, "CB01", "ab12", "Báo cáo.XLSX") == archive / "CB01" / "ab12.xlsx"
    # a suffix that is not a plain one is not kept
    assert archive_copy(archive, "CB01", "ab12", "bao cao.x lsx") == archive / "CB01" / "ab12"
    assert archive_copy(archive, "CB01", "ab12", "bao-cao") == archive / "CB01" / "ab12"


def test_report_and_chart_names_carry_the_version(tmp_path: Path) -> None:
    first = report_paths(tmp_path, PERIOD, "TU", 1)
    second = report_paths(tmp_path, PERIOD, "TU", 2)
    assert [path.name for path in first] == ["bao-cao-2026Q3-TU.docx", "bao-cao-2026Q3-TU.html"]
    assert second[0].name == "bao-cao-2026Q3-TU-v2.docx"
    for path in (*first, *second):
        path.write_text("")
    assert find_reports(tmp_path, PERIOD, 1) == {"TU": first[0]}
    assert find_reports(tmp_path, PERIOD, 2) == {"TU": second[0]}
    assert chart_file_name("sessions", PERIOD, "TU", 2) == "bieu-do-sessions-2026Q3-TU-v2.png"
    with pytest.raises(ValueError, match="unsafe"):
        report_paths(tmp_path, PERIOD, "../TU", 1)


@pytest.mark.parametrize(
    ("files", "fsyncs", "syncs"),
    [
        (1, 1 + 1, 0),  # a late form: its file and its folder, nothing else on the machine
        (SYNC_EACH_UP_TO, SYNC_EACH_UP_TO + 1, 0),
        (SYNC_EACH_UP_TO + 1, 0, 1),  # a batch: one sync of the disks, not a commit per file
    ],
)
def test_files_are_made_durable_one_by_one_when_few_and_at_once_when_many(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: int, fsyncs: int, syncs: int
) -> None:
    calls = {"fsync": 0, "sync": 0}
    real_fsync = layout.os.fsync

    def fsync(handle: int) -> None:
        calls["fsync"] += 1
        real_fsync(handle)

    monkeypatch.setattr(layout.os, "fsync", fsync)
    monkeypatch.setattr(layout.os, "sync", lambda: calls.__setitem__("sync", calls["sync"] + 1))
    paths = []
    for number in range(files):
        path = tmp_path / f"{number}.xlsx"
        path.write_bytes(b"PK")
        paths.append(path)
    make_durable(paths, with_names=True)
    assert calls == {"fsync": fsyncs, "sync": syncs}
