"""Submissions by e-mail, read from a real IMAP server (Dovecot, tests/imap_server.py): each
message kept byte for byte with its checksum before anything else, each form it carries a
submission of the unit in its C2 when the sender may report for it, automatic mail never read
nor answered, a message moved to the processed folder only once what it carried is stored —
and what a message means, as plain data, without a server."""

from __future__ import annotations

import datetime as dt
import email.policy
import hashlib
import io
import os
import signal
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from tests.imap_server import ImapServer
from tests.test_end_to_end import write_contract_form
from tonghop.mail_intake import (
    AUTOMATIC,
    FORMS,
    NO_FORM,
    OVERSIZED,
    STRANGER,
    allowed_senders,
    normalised_address,
    parse_message,
)
from tonghop.registry import read_registry
from tonghop.storage import engine_for
from tonghop_flows.collect import collect
from tonghop_flows.import_registry import import_registry

ROOT = Path(__file__).resolve().parent.parent
PERIOD = "2025Q3"
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
REGISTRY = """code,name,parent_code,kind,sector,valid_from,valid_to,email
P,Tỉnh ủy Thử nghiệm,,province,,,,vanphong@example.vn
U1,Huyện ủy Một,P,upper,,,,hu1@example.vn
G1,Đảng bộ Xã Một,U1,grassroots_committee,commune,,,dangbo.xa1@example.vn
G1C1,Chi bộ Thôn Một,G1,cell,,,,
G1C2,Chi bộ Thôn Hai,G1,cell,,,,thon2@example.vn
G2,Chi bộ Trường Tiểu học,U1,grassroots_cell,agency,,,truong@example.vn
G3,Chi bộ Sở Tư pháp,P,grassroots_cell,agency,,,sotuphap@example.vn
"""
LEAF = {"members": "10", "members_attended": "9", "members_absent": "1"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def form_bytes(tmp_path: Path, unit_code: str, values: dict[str, str] = LEAF) -> bytes:
    path = tmp_path / f"form-{unit_code}-{hashlib.sha1(repr(values).encode()).hexdigest()}.xlsx"
    write_contract_form(path, unit_code, values)
    return path.read_bytes()


def mail(
    sender: str,
    attachments: list[tuple[str, bytes, str]] = (),
    subject: str = "Báo cáo quý III/2025",
    headers: dict[str, str] | None = None,
    return_path: str | None = None,
) -> bytes:
    """A message as a unit's mail client sends it."""
    message = EmailMessage()
    if return_path is not None:
        message["Return-Path"] = return_path
    message["From"] = sender
    message["To"] = "baocao@tonghop.test"
    message["Subject"] = subject
    message["Date"] = format_datetime(dt.datetime(2025, 10, 5, 8, 0, tzinfo=ZONE))
    message["Message-ID"] = f"<{hashlib.sha1(repr((sender, subject)).encode()).hexdigest()}@x>"
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content("Kính gửi Ban Tuyên giáo,\nĐơn vị gửi báo cáo.\n")
    for name, content, kind in attachments:
        main, sub = kind.split("/")
        message.add_attachment(content, maintype=main, subtype=sub, filename=name)
    return message.as_bytes(policy=email.policy.SMTP)


def zipped(**members: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


# --- what a message is, without a server -------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Văn Phòng <VanPhong@Example.VN>", "vanphong@example.vn"),
        ("vanphong@example.vn", "vanphong@example.vn"),
        ("<>", None),
        ("", None),
        (None, None),
    ],
)
def test_addresses_are_compared_without_names_or_case(value, expected) -> None:
    assert normalised_address(value) == expected


@pytest.mark.parametrize(
    ("headers", "automatic"),
    [
        ({}, False),
        ({"Auto-Submitted": "no"}, False),
        ({"Auto-Submitted": "auto-replied"}, True),
        ({"Auto-Submitted": "auto-generated"}, True),
        ({"Precedence": "bulk"}, True),
        ({"Precedence": "auto_reply"}, True),
        ({"X-Autoreply": "yes"}, True),
    ],
)
def test_automatic_mail_is_recognised_by_its_headers(tmp_path, headers, automatic) -> None:
    raw = mail("truong@example.vn", [("a.xlsx", b"PK", XLSX)], headers=headers)
    assert parse_message(raw).automatic is automatic


def test_a_delivery_report_and_the_mailer_daemon_are_automatic() -> None:
    report = EmailMessage()
    report["From"] = "Mail Delivery System <MAILER-DAEMON@example.vn>"
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report.set_content("cannot deliver")
    report.make_mixed()
    report.set_type("multipart/report")
    assert parse_message(report.as_bytes()).automatic


def test_forms_are_found_as_attachments_and_one_level_inside_a_zip(tmp_path) -> None:
    a, b = form_bytes(tmp_path, "G1C1"), form_bytes(tmp_path, "G1C2")
    raw = mail(
        "dangbo.xa1@example.vn",
        [
            ("Báo cáo Thôn Một.xlsx", a, XLSX),
            (
                "cac-chi-bo.zip",
                zipped(**{"thu muc/thon2.xlsx": b, "ghi-chu.txt": b"x"}),
                "application/zip",
            ),
            ("cu.xls", b"\xd0\xcf\x11\xe0", "application/vnd.ms-excel"),
            ("anh.pdf", b"%PDF", "application/pdf"),
        ],
    )
    parsed = parse_message(raw)
    assert [(form.name, form.content) for form in parsed.forms] == [
        ("Báo cáo Thôn Một.xlsx", a),
        ("cac-chi-bo.zip/thon2.xlsx", b),
    ]
    assert parsed.other_attachments == ("cu.xls", "anh.pdf")


def test_a_zip_bomb_is_not_unpacked(tmp_path) -> None:
    bomb = zipped(**{f"f{n}.xlsx": b"\0" * (3 * 1024 * 1024) for n in range(25)})
    parsed = parse_message(mail("truong@example.vn", [("bom.zip", bomb, "application/zip")]))
    assert parsed.forms == ()
    assert "không giải nén" in parsed.problems[0]


def registry_units(tmp_path: Path) -> list:
    path = tmp_path / "registry.csv"
    path.write_text(REGISTRY, encoding="utf-8")
    units, problems = read_registry(path)
    assert not problems
    return units


def test_a_unit_and_its_ancestors_may_send_its_form(tmp_path) -> None:
    units = {unit.code: unit for unit in registry_units(tmp_path)}
    assert allowed_senders("G1C1", units) == {
        "dangbo.xa1@example.vn",
        "hu1@example.vn",
        "vanphong@example.vn",
    }
    assert "truong@example.vn" not in allowed_senders("G1C2", units)


# --- from a real mailbox ---------------------------------------------------------------------


def imap_env(server: ImapServer, **extra: str) -> dict[str, str]:
    """The TONGHOP_* settings that read the test's mailbox over IMAPS, trusting its certificate."""
    return {
        "TONGHOP_IMAP_HOST": server.host,
        "TONGHOP_IMAP_PORT": str(server.imaps_port),
        "TONGHOP_IMAP_SECURITY": "SSL",
        "TONGHOP_IMAP_USERNAME": server.user,
        "TONGHOP_IMAP_PASSWORD": server.password,
        "SSL_CERT_FILE": str(server.cafile),
        "TONGHOP_MAIL_FROM": "baocao@tonghop.test",
        **extra,
    }


@pytest.fixture
def mailbox_workspace(
    tmp_path: Path,
    database_url: str,
    imap_server: ImapServer,
    monkeypatch: pytest.MonkeyPatch,
    prefect_server: None,
) -> Iterator[Path]:
    """A workspace with the registry imported, an empty folder inbox and the test's mailbox."""
    root = tmp_path / "workspace"
    root.mkdir()
    (root / "registry.csv").write_text(REGISTRY, encoding="utf-8")
    monkeypatch.setenv("TONGHOP_DATABASE_URL", database_url)
    for name, value in imap_env(imap_server).items():
        monkeypatch.setenv(name, value)
    assert import_registry(str(root / "registry.csv"), str(root)).problems == []
    yield root


def stored(database_url: str, query: str) -> list[tuple]:
    with engine_for(database_url).connect() as connection:
        return [tuple(row) for row in connection.execute(text(query))]


ARRIVED = dt.datetime(2025, 10, 6, 9, 15, 30, tzinfo=ZONE)


def test_each_message_is_kept_and_each_form_counts_for_its_unit(
    mailbox_workspace: Path, imap_server: ImapServer, database_url: str, tmp_path: Path
) -> None:
    thon1, thon2 = form_bytes(tmp_path, "G1C1"), form_bytes(tmp_path, "G1C2")
    truong = form_bytes(tmp_path, "G2", {"members": "10", "members_attended": "12"})
    messages = {
        # the grassroots office sends for both its cells, one inside a .zip
        "office": mail(
            "Đảng bộ xã <DangBo.Xa1@Example.VN>",
            [
                ("Thôn Một.xlsx", thon1, XLSX),
                ("thon2.zip", zipped(**{"thon2.xlsx": thon2}), "application/zip"),
            ],
        ),
        "school": mail(
            "truong@example.vn", [("bc.xlsx", truong, XLSX), ("cv.pdf", b"%PDF", "application/pdf")]
        ),
        # the school writing for the Justice office's cell: not theirs
        "stranger": mail(
            "truong@example.vn",
            [("tu-phap.xlsx", form_bytes(tmp_path, "G3"), XLSX)],
            subject="Gửi hộ",
        ),
        "autoreply": mail(
            "hu1@example.vn", [("x.xlsx", thon1, XLSX)], headers={"Auto-Submitted": "auto-replied"}
        ),
        "empty": mail("sotuphap@example.vn", subject="Xin hỏi hạn nộp"),
        "old-excel": mail(
            "sotuphap@example.vn", [("bc.xls", b"\xd0\xcf\x11\xe0", "application/vnd.ms-excel")]
        ),
        "again": mail("thon2@example.vn", [("lai.xlsx", thon2, XLSX)], subject="Gửi lại"),
    }
    for raw in messages.values():
        imap_server.deliver(raw, internal_date=ARRIVED)

    summary = collect(PERIOD, str(mailbox_workspace))

    assert summary.messages == len(messages) and summary.mailbox_problem is None
    # every message kept byte for byte under its checksum
    archive = mailbox_workspace / "archive" / "_thu"
    for raw in messages.values():
        assert (archive / f"{hashlib.sha256(raw).hexdigest()}.eml").read_bytes() == raw
    # each form is a submission of its C2's unit, received when the server received it
    rows = stored(
        database_url,
        "select unit_code, file_name, sender, outcome, received_at from submission "
        "order by unit_code",
    )
    assert [row[:4] for row in rows] == [
        ("G1C1", "Thôn Một.xlsx", "dangbo.xa1@example.vn", "accepted"),
        ("G1C2", "thon2.zip/thon2.xlsx", "dangbo.xa1@example.vn", "accepted"),
        ("G2", "bc.xlsx", "truong@example.vn", "rejected"),
    ]
    assert {str(row[4])[:19] for row in rows} == {"2025-10-06 09:15:30"}
    dispositions = dict(
        stored(
            database_url,
            "select subject || '|' || coalesce(sender, ''), disposition from mail_message",
        )
    )
    assert dispositions == {
        "Báo cáo quý III/2025|dangbo.xa1@example.vn": FORMS,
        "Báo cáo quý III/2025|truong@example.vn": FORMS,
        "Gửi hộ|truong@example.vn": STRANGER,
        "Báo cáo quý III/2025|hu1@example.vn": AUTOMATIC,
        "Xin hỏi hạn nộp|sotuphap@example.vn": NO_FORM,
        "Báo cáo quý III/2025|sotuphap@example.vn": NO_FORM,
        "Gửi lại|thon2@example.vn": FORMS,  # the same bytes again: no new version
    }
    refusals = dict(
        stored(database_url, "select disposition || '|' || subject, refusal from mail_message")
    )
    assert "Chi bộ Sở Tư pháp (mã G3)" in refusals["stranger|Gửi hộ"]
    assert "Save As" in refusals["no_form|Báo cáo quý III/2025"]
    assert refusals["automatic|Báo cáo quý III/2025"] is None
    # everything moved out of the inbox, once stored
    assert [m.folder for m in imap_server.messages()] == ["Đã xử lý"] * len(messages)

    again = collect(PERIOD, str(mailbox_workspace))
    assert again.messages == 0 and again.received == 0


def test_a_message_over_the_limit_is_refused_unread(
    mailbox_workspace: Path,
    imap_server: ImapServer,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TONGHOP_IMAP_MAX_MESSAGE_BYTES", "20000")
    raw = mail("truong@example.vn", [("anh.xlsx", os.urandom(40_000), XLSX)])
    imap_server.deliver(raw, internal_date=ARRIVED)

    summary = collect(PERIOD, str(mailbox_workspace))

    assert summary.received == 0
    ((disposition, size, refusal, path),) = stored(
        database_url, "select disposition, size_bytes, refusal, archive_path from mail_message"
    )
    assert disposition == OVERSIZED and size > 40_000
    assert "vượt giới hạn" in refusal
    kept = (mailbox_workspace / path).read_bytes()
    assert raw.startswith(kept) and len(kept) < 2_000  # its header alone, as evidence


def test_a_wrong_password_leaves_the_mail_waiting_and_the_folder_collected(
    mailbox_workspace: Path,
    imap_server: ImapServer,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TONGHOP_IMAP_PASSWORD", "sai-mat-khau")
    folder = mailbox_workspace / "inbox" / "G3"
    folder.mkdir(parents=True)
    write_contract_form(folder / "bc.xlsx", "G3", LEAF)
    imap_server.deliver(mail("truong@example.vn", [("bc.xlsx", form_bytes(tmp_path, "G2"), XLSX)]))

    summary = collect(PERIOD, str(mailbox_workspace))

    assert "từ chối đăng nhập" in summary.mailbox_problem
    assert summary.received == 1  # the folder's file
    assert [m.folder for m in imap_server.messages()] == ["INBOX"]


def test_a_run_killed_between_store_and_move_counts_nothing_twice(
    mailbox_workspace: Path, imap_server: ImapServer, database_url: str, tmp_path: Path
) -> None:
    from prefect.settings import PREFECT_API_URL

    imap_server.deliver(
        mail("thon2@example.vn", [("bc.xlsx", form_bytes(tmp_path, "G1C2"), XLSX)]),
        internal_date=ARRIVED,
    )
    imap_server.deliver(mail("hu1@example.vn", subject="Hỏi"), internal_date=ARRIVED)
    env = os.environ | {"PREFECT_API_URL": PREFECT_API_URL.value()}
    killed = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.crash_run",
            "before-mail-move",
            PERIOD,
            str(mailbox_workspace),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    # stored, not moved: the messages wait where they were
    assert stored(database_url, "select unit_code from submission") == [("G1C2",)]
    assert [m.folder for m in imap_server.messages()] == ["INBOX", "INBOX"]

    summary = collect(PERIOD, str(mailbox_workspace))

    assert summary.messages == 0 and summary.received == 0  # recognised by checksum
    assert stored(database_url, "select unit_code from submission") == [("G1C2",)]
    assert stored(database_url, "select count(*) from mail_message") == [(2,)]
    assert [m.folder for m in imap_server.messages()] == ["Đã xử lý", "Đã xử lý"]
