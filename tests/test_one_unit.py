"""One unit's file never stops the province, and nothing outside the inbox is ever read: a name
that is not UTF-8, a control character in a cell, links, devices, hard links, subfolders,
unknown or oddly cased folders, clocks a unit controls — each affects its own unit only, with a
clear Vietnamese message, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.test_end_to_end import PERIOD, REPORTS, received, write_contract_form
from tonghop.inbox import LINKED_FOLDER_VI, NOT_A_FOLDER_VI, UNKNOWN_CODE_VI
from tonghop.storage import transaction
from tonghop.text import original_name
from tonghop_flows.collect import collect
from tonghop_flows.consolidate import consolidate

SECRET = "mat-khau-thu-rat-bi-mat-7d1f"  # what /proc/self/environ would leak


def rows(database_url: str, sql: str, **params: object) -> list[dict]:
    with transaction(database_url) as connection:
        return [dict(row) for row in connection.execute(text(sql), params).mappings()]


def submissions(database_url: str) -> dict[str, list[dict]]:
    """Every stored submission by unit, in the order the versions arrived."""
    found: dict[str, list[dict]] = {}
    for row in rows(database_url, "select * from submission order by arrival"):
        found.setdefault(row["unit_code"], []).append(row)
    return found


def problems_of(database_url: str, submission_id: str) -> list[str]:
    return [
        f"{row['rule']}: {row['message']}"
        for row in rows(
            database_url,
            "select rule, message from problem where submission_id = :id order by seq",
            id=submission_id,
        )
    ]


def counted(database_url: str, unit_code: str) -> str | None:
    found = rows(
        database_url,
        "select submission.file_name from counted_submission as counted "
        "inner join submission on submission.id = counted.id "
        "where counted.unit_code = :unit and counted.period = :period",
        unit=unit_code,
        period=PERIOD,
    )
    return found[0]["file_name"] if found else None


# --- 1. a file name that is not UTF-8 ---------------------------------------------------------


def test_a_name_that_is_not_utf8_is_kept_losslessly_and_shown_readably(
    imported: Path, database_url: str
) -> None:
    folder = os.fsencode(imported / "inbox" / "G1C2")
    os.makedirs(folder)
    good = folder + b"/B\xe1o c\xe1o.xlsx"  # cp1258, as copied unconverted from Windows
    write_contract_form(Path(os.fsdecode(good)), "G1C2", REPORTS["G1C1"])
    received(Path(os.fsdecode(good)), datetime(2025, 10, 4, 8, 0))
    broken = os.fsencode(imported / "inbox" / "G3") + b"/S\xf4\xd2 li\xea\xf2u.xlsx"
    Path(os.fsdecode(broken)).write_bytes(b"not a workbook")

    summary = collect(PERIOD, str(imported))

    # every unit's file is stored, not only the one with the odd name
    assert summary.received == 7
    stored = submissions(database_url)
    assert set(stored) == {"G1C1", "G1C2", "G1", "U1", "G2", "G3"}
    (cell,) = stored["G1C2"]
    assert (cell["file_name"], cell["outcome"]) == ("Báo cáo.xlsx", "accepted")
    assert original_name(cell["file_name"], cell["raw_file_name"]) == b"B\xe1o c\xe1o.xlsx"
    odd = stored["G3"][-1]
    assert odd["file_name"] == "Sổ liệu.xlsx"  # decoded, and its tone mark composed
    assert original_name(odd["file_name"], odd["raw_file_name"]) == b"S\xf4\xd2 li\xea\xf2u.xlsx"
    assert "Tệp «Sổ liệu.xlsx» không đọc được" in problems_of(database_url, odd["id"])[0]
    # remembered under its exact bytes: the next run reads nothing again
    assert collect(PERIOD, str(imported)).received == 0


# --- 2. control characters in what a unit typed -------------------------------------------------


def test_control_characters_in_cells_are_dropped_alike_on_both_databases(
    imported: Path, database_url: str
) -> None:
    form = imported / "inbox" / "G1C1" / "bao-cao.xlsx"
    # `_x0000_` is how a NUL travels in a workbook's XML; calamine gives it back as "\x00"
    values = REPORTS["G1C1"] | {"highlights": "Học tập_x0000_ tốt_x0001_,\nđầy đủ"}
    write_contract_form(form, "G1C1", values)
    received(form, datetime(2025, 10, 3, 9, 30))

    summary = collect(PERIOD, str(imported))

    assert summary.received == 5
    (cell,) = submissions(database_url)["G1C1"]
    assert cell["outcome"] == "accepted"
    stored = rows(
        database_url,
        "select text_value from submission_value "
        "where submission_id = :id and indicator_code = 'highlights'",
        id=cell["id"],
    )
    assert stored == [{"text_value": "Học tập tốt,\nđầy đủ"}]  # line break kept, controls gone


# --- 3 and 14. nothing outside the inbox is opened; what is refused is told -------------------


def test_links_devices_hard_links_and_subfolders_are_refused_unopened(
    imported: Path, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TONGHOP_SMTP_PASSWORD", SECRET)  # now in /proc/self/environ
    inbox = imported / "inbox"
    (inbox / "G1C2").mkdir()
    os.symlink("/etc/passwd", inbox / "G1C2" / "a.xlsx")
    os.symlink("/proc/self/environ", inbox / "U1" / "b.xlsx")
    secret = tmp_path / "outside.xlsx"
    secret.write_bytes(b"secret outside the inbox " + SECRET.encode())
    os.link(secret, inbox / "G1" / "c.xlsx")
    os.mkfifo(inbox / "G3" / "d.xlsx")
    nested = inbox / "G1C1" / "bao-cao-quy-3.xlsx"
    nested.mkdir()  # a folder named like a file, with the form inside it
    write_contract_form(nested / "bao-cao.xlsx", "G1C1", REPORTS["G1C1"])
    shutil.rmtree(inbox / "G2")
    os.symlink("/etc", inbox / "G2")  # a unit's folder that is a link elsewhere
    (inbox / "lac-cho.xlsx").write_bytes(b"stray")  # a file outside any unit's folder

    summary = collect(PERIOD, str(imported))

    # nothing of any target was copied: not /etc/passwd, not the environment, not the hard link
    archived = b"".join(path.read_bytes() for path in (imported / "archive").rglob("*.*"))
    assert SECRET.encode() not in archived
    assert b"root:x:0:0" not in archived
    assert not list((imported / "archive").rglob("*.partial"))
    assert not (imported / "archive" / "G2").exists()

    stored = submissions(database_url)
    refused = {
        row["file_name"]: (unit, row) for unit, versions in stored.items() for row in versions
    }
    for name, unit, words in [
        ("a.xlsx", "G1C2", "là một liên kết (symlink)"),
        ("b.xlsx", "U1", "là một liên kết (symlink)"),
        ("c.xlsx", "G1", "là liên kết cứng (hard link)"),
        ("d.xlsx", "G3", "không phải một tệp thông thường"),
        ("bao-cao-quy-3.xlsx", "G1C1", "là một thư mục, không phải tệp báo cáo"),
    ]:
        found_unit, row = refused[name]
        assert found_unit == unit, name
        assert (row["outcome"], row["archive_path"], row["size_bytes"]) == ("rejected", "", 0)
        (message,) = problems_of(database_url, row["id"])
        assert message.startswith(f"F1: «{name}» ") and words in message, message
    # the units' good forms still count: one unit's mistake is its own
    assert counted(database_url, "G1C1") == "bao-cao.xlsx"
    assert counted(database_url, "U1") == "bao-cao.xlsx"
    skipped = {entry.name: entry.reason for entry in summary.skipped}
    assert skipped == {"G2": LINKED_FOLDER_VI, "lac-cho.xlsx": NOT_A_FOLDER_VI}

    # each unit is answered in its feedback workbook, with no byte of what was refused
    published = consolidate(PERIOD, str(imported))
    feedback = published.feedback["G1C2"]
    from openpyxl import load_workbook

    cells = " ".join(
        str(value)
        for row in load_workbook(feedback).active.iter_rows(values_only=True)
        for value in row
        if value is not None
    )
    assert "«a.xlsx» là một liên kết (symlink)" in cells
    assert "root:" not in cells
    # and a second run opens none of them again
    assert collect(PERIOD, str(imported)).received == 0


def test_an_invisible_character_in_the_unit_code_is_shown(imported: Path, database_url: str):
    form = imported / "inbox" / "G1C1" / "bao-cao.xlsx"
    write_contract_form(form, "G1C1\u200b", REPORTS["G1C1"])  # a zero-width space copied along
    csv_file = imported / "inbox" / "G1" / "bao-cao.csv"
    csv_file.write_text("code,value\nmembers,12\n", encoding="utf-8")

    collect(PERIOD, str(imported))

    stored = submissions(database_url)
    messages = " ".join(problems_of(database_url, stored["G1C1"][0]["id"]))
    assert "«G1C1[U+200B]»" in messages
    csv_row = next(row for row in stored["G1"] if row["file_name"] == "bao-cao.csv")
    (message,) = problems_of(database_url, csv_row["id"])
    assert "tệp là tệp CSV" in message and "đổi đuôi" not in message


# --- 4 and 5. the version that counts never depends on chance or on a unit's clock -------------


def test_versions_with_the_same_time_are_ordered_by_name_every_time(
    imported: Path, database_url: str
) -> None:
    folder = imported / "inbox" / "G1C1"
    names = [f"{letter}.xlsx" for letter in "jihgfedcba"]  # written in reverse on purpose
    for members, name in enumerate(names, start=30):
        form = folder / name
        write_contract_form(form, "G1C1", REPORTS["G1C1"] | {"members": str(members)})
        received(form, datetime(2025, 10, 5, 7, 0))  # the very same second
    collect(PERIOD, str(imported))
    # within one collection: receipt time, then file name (bao-cao.xlsx was received on 3/10)
    order = [row["file_name"] for row in submissions(database_url)["G1C1"]]
    assert order == ["bao-cao.xlsx", *sorted(names)]
    assert counted(database_url, "G1C1") == "j.xlsx"


def test_a_future_date_never_shadows_a_later_correction(imported: Path, database_url: str):
    form = imported / "inbox" / "G1C2" / "bao-cao.xlsx"
    form.parent.mkdir()
    write_contract_form(form, "G1C2", REPORTS["G1C1"] | {"members": "30"})
    received(form, datetime(2030, 1, 1, 0, 0))  # a unit's clock set years ahead
    collect(PERIOD, str(imported))
    (first,) = submissions(database_url)["G1C2"]
    # received no later than the collector saw it (SQLite answers text, PostgreSQL a datetime)
    assert str(first["received_at"])[:4] < "2030"

    correction = imported / "inbox" / "G1C2" / "sua-lai.xlsx"
    write_contract_form(correction, "G1C2", REPORTS["G1C1"] | {"members": "31"})
    received(correction, datetime(2025, 10, 6, 8, 0))  # honestly dated, and sent afterwards
    collect(PERIOD, str(imported))

    assert counted(database_url, "G1C2") == "sua-lai.xlsx"


# --- 6. folders are registry codes, without regard to case ------------------------------------


def test_folders_map_to_registry_codes_and_unknown_ones_are_skipped(
    imported: Path, database_url: str
) -> None:
    lower = imported / "inbox" / "g1c2"
    lower.mkdir()
    write_contract_form(lower / "bao-cao.xlsx", "G1C2", REPORTS["G1C1"])
    unknown = imported / "inbox" / "KHONGCO"
    unknown.mkdir()
    write_contract_form(unknown / "bao-cao.xlsx", "KHONGCO", REPORTS["G1C1"])

    summary = collect(PERIOD, str(imported))

    stored = submissions(database_url)
    assert "KHONGCO" not in stored and "g1c2" not in stored
    assert [row["outcome"] for row in stored["G1C2"]] == ["accepted"]
    assert {entry.name: entry.reason for entry in summary.skipped} == {"KHONGCO": UNKNOWN_CODE_VI}
    published = consolidate(PERIOD, str(imported))
    assert "KHONGCO" not in published.feedback
    status = published.status_csv.read_text(encoding="utf-8")
    assert "G1C2,accepted," in status and "KHONGCO" not in status
