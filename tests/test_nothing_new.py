"""A run with nothing new computes nothing: no consolidation, no file written; a missing
published file, a new file or a new registry version in force for the period bring the work
back, and the same registry imported again does not."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

import tonghop.consolidating
import tonghop.publishing
from tests.test_end_to_end import PERIOD, REPORTS, received, write_contract_form
from tonghop_flows.import_registry import import_registry
from tonghop_flows.quarterly_report import quarterly_report


@pytest.fixture
def computed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """One entry each time a run computes the consolidation or writes a published file."""
    calls: list[str] = []
    aggregate = tonghop.consolidating.consolidated_values
    incremental = tonghop.consolidating.incremental_values
    write = tonghop.publishing.write_atomically

    def counting_aggregate(*args: object, **kwargs: object) -> object:
        calls.append("consolidated")
        return aggregate(*args, **kwargs)

    def counting_incremental(*args: object, **kwargs: object) -> object:
        found = incremental(*args, **kwargs)
        if found is not None:
            calls.append("consolidated from the version before")
        return found

    def counting_write(path: Path, *args: object) -> None:
        calls.append(Path(path).name)
        write(path, *args)

    monkeypatch.setattr(tonghop.consolidating, "consolidated_values", counting_aggregate)
    monkeypatch.setattr(tonghop.consolidating, "incremental_values", counting_incremental)
    monkeypatch.setattr(tonghop.publishing, "write_atomically", counting_write)
    return calls


def test_nothing_new_computes_and_writes_nothing(imported: Path, computed: list[str]) -> None:
    first = quarterly_report(PERIOD, str(imported))
    assert "consolidated" in computed and f"tong-hop-{PERIOD}.xlsx" in computed
    computed.clear()

    again = quarterly_report(PERIOD, str(imported))
    assert computed == []
    assert again.published.workbook == first.published.workbook
    assert first.published.feedback  # G2's broken file was answered once, by the first run
    assert again.published.feedback == {}  # and no file was answered again
    assert again.published.reports == first.published.reports
    assert again.published.version == 1 and not again.published.newly_published


def test_a_missing_published_file_is_written_again(imported: Path, computed: list[str]) -> None:
    first = quarterly_report(PERIOD, str(imported))
    first.published.status_csv.unlink()
    computed.clear()
    quarterly_report(PERIOD, str(imported))
    assert f"status-{PERIOD}.csv" in computed
    assert f"tong-hop-{PERIOD}.xlsx" not in computed  # the rest of version 1 stands
    assert first.published.status_csv.exists()


def test_a_new_file_or_registry_brings_the_work_back(imported: Path, computed: list[str]) -> None:
    quarterly_report(PERIOD, str(imported))
    computed.clear()
    # The same registry again is no new version: nothing to compute.
    assert import_registry(str(imported / "registry.csv"), str(imported)).version is None
    quarterly_report(PERIOD, str(imported))
    assert computed == []
    # A new version in force for the period (a unit renamed) is computed once: the same
    # figures, still version 1.
    renamed = imported / "registry-2.csv"
    renamed.write_text(
        (imported / "registry.csv").read_text(encoding="utf-8").replace("Thôn Hai", "Thôn 2"),
        encoding="utf-8",
    )
    stored = import_registry(str(renamed), str(imported), effective_from=date(2025, 7, 1))
    assert stored.version == 2
    report = quarterly_report(PERIOD, str(imported))
    assert computed.count("consolidated") == 1 and report.published.version == 1

    computed.clear()
    late = imported / "inbox" / "G1C1" / "bao-cao (sửa).xlsx"
    write_contract_form(late, "G1C1", {**REPORTS["G1C1"], "news_items": "4"})
    received(late, datetime(2025, 10, 20, 8, 0))
    report = quarterly_report(PERIOD, str(imported))
    # A late correction is consolidated from the version before, not the whole quarter again.
    assert computed.count("consolidated from the version before") == 1
    assert computed.count("consolidated") == 0
    assert report.published.version == 2 and report.published.newly_published
