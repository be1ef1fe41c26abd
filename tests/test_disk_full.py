"""A full disk, for real: small tmpfs disks mounted for the test (CI runs as root). The run
stops with a Vietnamese message naming the disk, what it had free and what was needed; nothing
half-written is shown — a version's files appear whole or not at all — and the next run, with
room again, finishes the work."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.test_end_to_end import PERIOD, build_workspace
from tests.test_faults import environment, in_subprocess
from tonghop.errors import DatabaseFull
from tonghop.storage import make_engine, transaction

MB = 1024 * 1024


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Callable[[int], Path]]:
    """Mounts tmpfs disks of a given size in MB; unmounted after the test."""
    mounted: list[Path] = []

    def mount(size_mb: int) -> Path:
        point = tmp_path / f"o-dia-{len(mounted) + 1}"
        point.mkdir()
        result = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(point)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, (
            f"these tests mount a small disk and need root (as CI runs): {result.stderr}"
        )
        mounted.append(point)
        return point

    yield mount
    for point in reversed(mounted):
        subprocess.run(["umount", "-l", str(point)], check=False)


def fill(disk: Path, leave_bytes: int) -> Path:
    """A ballast file that leaves about `leave_bytes` free on the disk."""
    ballast = disk / "ballast.bin"
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    with ballast.open("wb") as handle:
        remaining = free - leave_bytes
        while remaining > 0:
            chunk = min(remaining, MB)
            handle.write(b"\0" * chunk)
            remaining -= chunk
    return ballast


def run(root: Path, database_url: str) -> subprocess.CompletedProcess:
    return in_subprocess(
        "-m", "tonghop_flows.cli", "run", "--period", PERIOD, "--workspace", str(root),
        env=environment(database_url),
    )  # fmt: skip


def imported_on(disk: Path, database_url: str) -> Path:
    root = build_workspace(disk / "workspace")
    result = in_subprocess(
        "-m", "tonghop_flows.cli", "registry", "import", str(root / "registry.csv"),
        "--workspace", str(root), env=environment(database_url),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return root


def count(database_url: str, sql: str) -> int:
    with transaction(database_url) as connection:
        return int(connection.execute(text(sql)).scalar() or 0)


def test_no_room_for_the_archive_stops_before_anything_is_recorded(
    small_disk: Callable[[int], Path], tmp_path: Path, prefect_server: None
) -> None:
    disk = small_disk(40)
    url = f"sqlite:///{tmp_path / 'tonghop.db'}"
    root = imported_on(disk, url)
    big = root / "inbox" / "G1C2" / "bao-cao.xlsx"
    big.parent.mkdir()
    with big.open("wb") as handle:
        handle.truncate(30 * MB)  # sparse in the inbox, 30 MB once copied

    result = run(root, url)

    assert result.returncode == 1, result.stdout + result.stderr
    said = " ".join(result.stdout.split())
    assert f"Ổ đĩa chứa «{root / 'archive'}» (ổ gắn tại {disk})" in said
    # 30 MB of copies and the room kept for the run
    assert "không còn đủ chỗ để lưu bản sao các tệp báo cáo mới nhận: cần khoảng 62 MB" in said
    assert "nhưng chỉ còn trống" in said
    assert "Chưa có tệp nào được ghi nhận" in said
    assert "Traceback" not in result.stdout + result.stderr
    assert count(url, "select count(*) from submission") == 0
    assert not [path for path in (root / "archive").rglob("*") if path.is_file()]


def test_a_version_that_does_not_fit_is_not_shown_at_all(
    small_disk: Callable[[int], Path], tmp_path: Path, prefect_server: None
) -> None:
    disk = small_disk(48)
    url = f"sqlite:///{tmp_path / 'tonghop.db'}"
    root = imported_on(disk, url)
    collected = in_subprocess(
        "-c",
        "import sys; from tonghop_flows.collect import collect; collect(sys.argv[1], sys.argv[2])",
        PERIOD,
        str(root),
        env=environment(url),
    )
    assert collected.returncode == 0, collected.stdout + collected.stderr
    ballast = fill(disk, leave_bytes=96 * 1024)  # the workbook fits, the reports do not

    result = run(root, url)

    assert result.returncode == 1, result.stdout + result.stderr
    said = " ".join(result.stdout.split())
    assert f"(ổ gắn tại {disk})" in said
    assert "không còn đủ chỗ để ghi phiên bản 1 của kết quả tổng hợp Quý III năm 2025" in said
    assert "đã ghi được" in said and "thì ổ đĩa đầy, nên cần nhiều hơn số còn trống" in said
    assert "Phiên bản 1 chưa được công bố: không có tệp nào của phiên bản này" in said
    assert "Traceback" not in result.stdout + result.stderr
    published = root / "published" / PERIOD
    assert [path for path in published.rglob("*") if path.is_file()] == []
    assert count(url, "select count(*) from publication where published_at is not null") == 0

    ballast.unlink()  # the operator frees room and runs again
    again = run(root, url)
    assert again.returncode == 0, again.stdout + again.stderr
    names = {path.relative_to(published).as_posix() for path in published.rglob("*.*")}
    assert {f"tong-hop-{PERIOD}.xlsx", f"bao-cao-{PERIOD}-P.docx", f"G2-{PERIOD}.xlsx"} <= {
        Path(name).name for name in names
    }
    assert not [name for name in names if name.startswith(".")]
    assert count(url, "select count(*) from publication where published_at is not null") == 1


def test_a_full_database_disk_is_named_and_nothing_of_the_write_is_kept(
    small_disk: Callable[[int], Path],
) -> None:
    disk = small_disk(1)
    url = f"sqlite:///{disk / 'tonghop.db'}"
    make_engine(url).dispose()
    with transaction(url) as connection:
        connection.execute(text("create table filler (x text)"))
    with pytest.raises(DatabaseFull) as raised, transaction(url) as connection:
        for _ in range(64):
            connection.execute(text("insert into filler values (:x)"), {"x": "x" * 64 * 1024})
    message = str(raised.value)
    assert f"ổ đĩa chứa tệp cơ sở dữ liệu {disk / 'tonghop.db'} (ổ gắn tại {disk}" in message
    assert "đã đầy" in message and "không có gì của lần ghi này được lưu" in message
    assert count(url, "select count(*) from filler") == 0
