"""The product runs without its source tree: the built wheel, installed into a fresh virtualenv
with the pinned dependencies, runs the demo from an empty folder elsewhere, finding its SQL,
expectations and templates inside the installed packages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(command: list[str], **options) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, **options)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_the_wheel_runs_the_demo_from_an_empty_folder(tmp_path: Path, prefect_server) -> None:
    from prefect.settings import PREFECT_API_URL

    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dist), str(ROOT)])
    (wheel,) = dist.glob("tonghop-*.whl")

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    _run([*pip, "--disable-pip-version-check", "-c", str(ROOT / "constraints.txt"), str(wheel)])

    empty = tmp_path / "somewhere-else"
    empty.mkdir()
    # Nothing of the checkout on the path: only what the wheel installed can be imported.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TONGHOP_", "PYTHON", "VIRTUAL_ENV"))
    }
    env |= {"PREFECT_API_URL": PREFECT_API_URL.value(), "COLUMNS": "200"}
    found = _run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import tonghop_flows, tonghop_tasks, tonghop.resources as r; "
            "print(tonghop_flows.__file__); print(r.resource_dir('sql'))",
        ],
        cwd=empty,
        env=env,
    ).stdout.split()
    assert all(str(venv) in path for path in found), found
    assert not any((venv / "lib").glob("python3.11/site-packages/flows"))

    demo = _run([str(venv / "bin" / "tonghop"), "demo"], cwd=empty, env=env)

    assert "Tỉnh ủy Thanh Hóa, Quý III năm 2026: 13.601 đảng viên" in demo.stdout
    assert "Traceback" not in demo.stdout + demo.stderr
    published = empty / "workspace" / "published" / "2026Q3"
    assert (published / "tong-hop-2026Q3.xlsx").is_file()
    assert any(published.glob("bao-cao-2026Q3-*.docx"))
    # The Data Docs' scripts, styles and fonts travel in the wheel: the site works offline.
    vendor = empty / "workspace" / "gx" / "uncommitted" / "data_docs" / "local_site" / "static"
    assert (vendor / "vendor" / "jquery" / "dist" / "jquery.min.js").is_file()
    assert any((vendor / "vendor" / "@fortawesome").rglob("fa-solid-900.woff2"))
