"""With no mail server, a kind of letter the run can do without (forms, report deliveries,
answers) is written as the `.eml` file it would have been sent as, in `outbox/<P>/thu-chua-gui/`:
the same bytes, attachments included, one stable file per letter, nothing recorded as sent, and
the operator told how many and where — by the run's warning, its artifact and the command line."""

from __future__ import annotations

import io
import re
import smtplib
import subprocess
import sys
from datetime import datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from rich.console import Console
from sqlalchemy import text

from tests.conftest import MailHandler, free_port, latest_artifact, mail_cli_env
from tests.test_form_letters import REGISTRY
from tonghop.delivery import REPORT
from tonghop.form_letters import FORM
from tonghop.mime import compose, wire_bytes
from tonghop.outbox import (
    Letter,
    LetterFile,
    OutboxSummary,
    Recipient,
    artifact_markdown,
    letter_file_name,
    not_configured_message,
    write_letter_files,
)
from tonghop.periods import Period
from tonghop.storage import engine_for

Q3 = Period(2025, 3)
MAIL_FROM = "bantuyengiao@example.vn"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
NOW = datetime(2025, 10, 11, 8, 30)


def _letter(tmp_path: Path, code: str = "U1", **changes) -> Letter:
    """A report delivery to Huyện ủy Một with a report and a workbook of their own bytes."""
    report = tmp_path / f"bao-cao-2025Q3-{code.replace('/', '_')}.docx"
    report.write_bytes(b"PK\x03\x04 report " + code.encode() + bytes(range(256)))
    workbook = tmp_path / "tong-hop-2025Q3.xlsx"
    workbook.write_bytes(b"PK\x03\x04 workbook" + bytes(range(255, -1, -1)))
    fields = {
        "kind": REPORT,
        "period": str(Q3),
        "about_code": code,
        "about": "báo cáo Quý III năm 2025 (phiên bản 2)",
        "recipient": Recipient(code, "Huyện ủy Một", "hu1@example.vn"),
        "subject": "Dự thảo báo cáo Quý III năm 2025 của Huyện ủy Một — phiên bản 2 (bản sửa)",
        "body": "Kính gửi Ban Thường vụ Huyện ủy Một,\n\nXin gửi dự thảo báo cáo.\n",
        "fingerprint": f"{code}-fingerprint".encode().hex(),
        "version": 2,
        "attachments": (report, workbook),
        "cc": ("vanthu.hu1@example.vn",),
    }
    return Letter(**(fields | changes))


def _parsed(path: Path) -> EmailMessage:
    return message_from_bytes(path.read_bytes(), policy=default_policy)


def _without_date_and_id(data: bytes) -> bytes:
    """A message's bytes without what differs each time it is composed: its date, its id and
    the boundary between its parts."""
    data = re.sub(rb"(?m)^(Date|Message-ID): [^\r\n]*\r\n", b"", data)
    return re.sub(rb"={15}\d+==", b"=BOUNDARY=", data)


# --- writing letters, no database -------------------------------------------------------------


def test_the_file_holds_the_message_that_would_have_been_sent(tmp_path: Path) -> None:
    letter = _letter(tmp_path)

    (written,), unwritten = write_letter_files([letter], tmp_path / "thu-chua-gui", MAIL_FROM, NOW)

    assert unwritten == []
    assert written == LetterFile(letter, tmp_path / "thu-chua-gui", letter_file_name(letter))
    assert written.path == tmp_path / "thu-chua-gui" / letter_file_name(letter)
    data = written.path.read_bytes()
    # The same bytes a send would put on the wire, CRLF line ends included.
    assert _without_date_and_id(data) == _without_date_and_id(
        wire_bytes(compose(letter, MAIL_FROM))
    )
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")

    message = _parsed(written.path)
    assert message["From"] == MAIL_FROM
    assert message["To"] == "Huyện ủy Một <hu1@example.vn>"
    assert message["Cc"] == "vanthu.hu1@example.vn"
    assert message["Subject"] == letter.subject
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Date"] and message["Message-ID"].endswith("@example.vn>")
    body = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert body.startswith("Kính gửi Ban Thường vụ Huyện ủy Một,\n\nXin gửi dự thảo báo cáo.\n")
    attachments = [
        (part.get_filename(), part.get_content_type(), part.get_content())
        for part in message.iter_attachments()
    ]
    assert attachments == [
        ("bao-cao-2025Q3-U1.docx", DOCX, letter.attachments[0].read_bytes()),
        ("tong-hop-2025Q3.xlsx", XLSX, letter.attachments[1].read_bytes()),
    ]


def test_wire_bytes_are_what_smtplib_sends(tmp_path: Path) -> None:
    class Keep:
        content: bytes | None = None

        async def handle_DATA(self, server, session, envelope) -> str:
            Keep.content = envelope.original_content
            return "250 OK"

    message = compose(_letter(tmp_path), MAIL_FROM)
    # Flattening chooses the boundary between the parts once, on the message itself.
    expected = wire_bytes(message)
    port = free_port()
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as session:
            session.send_message(message)
    finally:
        controller.stop()
    assert Keep.content == expected == wire_bytes(message)


def test_names_are_readable_stable_and_unique_and_a_rerun_writes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "thu-chua-gui"
    first, second = _letter(tmp_path, "U1"), _letter(tmp_path, "DUK-CQ")
    assert letter_file_name(first) == f"gui-bao-cao-U1-v2-{first.fingerprint[:12]}.eml"
    unversioned = _letter(tmp_path, "CB01", kind=FORM, version=None)
    assert letter_file_name(unversioned) == f"gui-mau-bieu-CB01-{unversioned.fingerprint[:12]}.eml"
    # The same unit's next letter (another version, another address) is another file.
    assert letter_file_name(first) != letter_file_name(_letter(tmp_path, "U1", version=3))
    assert letter_file_name(first) != letter_file_name(
        _letter(tmp_path, "U1", fingerprint="0" * 64)
    )
    # A code that is no plain file-name stem never leaves the folder.
    odd = letter_file_name(_letter(tmp_path, "../x y"))
    assert "/" not in odd and odd.startswith("gui-bao-cao-x_y-v2-")

    write_letter_files([first, second], folder, MAIL_FROM, NOW)
    before = sorted(folder.iterdir())
    stamps = [path.stat().st_mtime_ns for path in before]
    written, _ = write_letter_files([first, second], folder, MAIL_FROM, NOW)
    # A rerun leaves the files it wrote as they are: no duplicates, nothing written again.
    assert sorted(folder.iterdir()) == before == sorted(letter.path for letter in written)
    assert len(before) == 2 and [path.stat().st_mtime_ns for path in before] == stamps


def test_a_letter_that_cannot_be_written_is_said_so_and_the_others_still_are(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "thu-chua-gui"
    nobody = _letter(
        tmp_path,
        "U2",
        recipient=Recipient("U2", "Huyện ủy Hai", None),
        undeliverable="Huyện ủy Hai (mã U2) và các cấp ủy cấp trên ... chưa có địa chỉ",
    )
    gone = _letter(tmp_path, "U3")
    gone.attachments[0].unlink()
    fine = _letter(tmp_path, "U1")

    written, unwritten = write_letter_files([nobody, gone, fine], folder, MAIL_FROM, NOW)

    assert [item.letter for item in written] == [fine]
    assert [(o.about_code, o.state, o.attempts, o.ended_at) for o in unwritten] == [
        ("U2", "failed", 0, NOW),
        ("U3", "failed", 0, NOW),
    ]
    assert unwritten[0].error == nobody.undeliverable
    assert unwritten[1].error.startswith(
        f"không đọc được tệp gửi kèm «{gone.attachments[0]}» (No such file"
    )
    message = not_configured_message(REPORT, Q3, 2, folder, written, unwritten)
    assert message.splitlines() == [
        "Chưa cấu hình máy chủ thư: chưa gửi 3 thư gửi dự thảo báo cáo và bảng tổng hợp Quý III "
        "năm 2025 (phiên bản 2); đã ghi 1 thư thành tệp .eml (mở bằng chương trình đọc thư để "
        f"xem đúng thư sẽ gửi, cả tệp gửi kèm) trong «{folder}». Đặt TONGHOP_SMTP_HOST hoặc "
        "TONGHOP_EMAIL_BLOCK rồi chạy lại để gửi.",
        "2 thư không ghi được thành tệp:",
        f"- Báo cáo Quý III năm 2025 (phiên bản 2), gửi đến Huyện ủy Hai (mã U2): "
        f"{nobody.undeliverable}",
        f"- Báo cáo Quý III năm 2025 (phiên bản 2), gửi đến Huyện ủy Một <hu1@example.vn>: "
        f"{unwritten[1].error}",
    ]


def _summary(tmp_path: Path, count: int) -> OutboxSummary:
    folder = tmp_path / "outbox" / "2025Q3" / "thu-chua-gui"
    tmp_path.mkdir(exist_ok=True)
    letters = [_letter(tmp_path, f"U{n}") for n in range(1, count + 1)]
    written, unwritten = write_letter_files(letters, folder, MAIL_FROM, NOW)
    return OutboxSummary(
        REPORT,
        str(Q3),
        2,
        not_configured=not_configured_message(REPORT, Q3, 2, folder, written, unwritten),
        letter_files=tuple(written),
        unsent_folder=folder,
    )


def test_the_artifact_lists_every_file(tmp_path: Path) -> None:
    summary = _summary(tmp_path, 2)
    lines = artifact_markdown(summary).splitlines()
    assert lines[:3] == [
        "# Thư gửi dự thảo báo cáo và bảng tổng hợp — Quý III năm 2025 (phiên bản 2)",
        "",
        summary.not_configured,
    ]
    assert lines[4:] == [
        "| Tệp | Thư | Gửi đến |",
        "| --- | --- | --- |",
        *(
            f"| {path.name} | Báo cáo Quý III năm 2025 (phiên bản 2) | Huyện ủy Một "
            "<hu1@example.vn> |"
            for path in summary.written
        ),
    ]


def test_the_artifact_names_the_first_files_and_counts_the_rest(
    tmp_path: Path, monkeypatch
) -> None:
    from tonghop import outbox

    monkeypatch.setattr(outbox, "ARTIFACT_FILES_LISTED", 2)
    summary = _summary(tmp_path, 5)
    lines = artifact_markdown(summary).splitlines()
    rows = [line for line in lines if line.startswith("| ") and ".eml" in line]
    assert [row.split(" | ")[0].removeprefix("| ") for row in rows] == [
        path.name for path in summary.written[:2]
    ]
    assert lines[-1] == f"… và 3 tệp khác trong «{summary.unsent_folder}»."


def test_the_command_line_prints_the_folder_the_count_and_few_files(
    tmp_path: Path, monkeypatch
) -> None:
    from tonghop_flows import cli

    output = io.StringIO()
    monkeypatch.setattr(cli, "console", Console(file=output, width=400, no_color=True))
    few, many = _summary(tmp_path, 2), _summary(tmp_path / "nhieu", 11)
    forms = OutboxSummary(
        FORM, str(Q3), letter_files=many.letter_files[:3], unsent_folder=few.unsent_folder
    )

    cli._print_mail([few, many])
    lines = output.getvalue().splitlines()
    assert lines == [
        few.not_configured,
        *(
            f"  • {path.name}: báo cáo Quý III năm 2025 (phiên bản 2) đến Huyện ủy Một "
            "<hu1@example.vn>"
            for path in few.written
        ),
        many.not_configured,  # eleven files: the count and folder only
    ]
    assert "đã ghi 11 thư thành tệp .eml" in many.not_configured

    output.truncate(0)
    output.seek(0)
    cli._print_unsent([forms, few, many])
    assert output.getvalue().splitlines() == [
        f"Thư chưa gửi (chưa cấu hình máy chủ thư): 5 tệp .eml trong «{few.unsent_folder}» (3 thư "
        "gửi mẫu biểu báo cáo, 2 thư gửi dự thảo báo cáo và bảng tổng hợp).",
        f"Thư chưa gửi (chưa cấu hình máy chủ thư): 11 tệp .eml trong «{many.unsent_folder}» "
        "(11 thư gửi dự thảo báo cáo và bảng tổng hợp).",
    ]


# --- the flows and the command line, no mail server -------------------------------------------


@pytest.fixture
def unconfigured(tmp_path, database_url, monkeypatch, prefect_server) -> Path:
    """The form letters' registry imported, and no mail server configured."""
    from tonghop_flows.import_registry import import_registry

    monkeypatch.setenv("TONGHOP_DATABASE_URL", database_url)
    monkeypatch.setenv("TONGHOP_READ_WORKERS", "1")
    monkeypatch.setenv("TONGHOP_MAIL_FROM", MAIL_FROM)
    for name in ("TONGHOP_SMTP_HOST", "TONGHOP_EMAIL_BLOCK"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "registry.csv").write_text(REGISTRY, encoding="utf-8")
    assert import_registry(str(tmp_path / "registry.csv"), str(tmp_path)).problems == []
    return tmp_path


def _outbox_rows(database_url: str) -> int:
    with engine_for(database_url).connect() as connection:
        return connection.execute(text("select count(*) from outbox_message")).scalar_one()


def test_forms_without_a_server_are_written_as_messages_then_sent_once_one_is_set(
    unconfigured: Path, database_url: str, smtp: tuple[MailHandler, int], monkeypatch
) -> None:
    from tonghop_flows.issue_forms import issue_forms

    handler, port = smtp
    issued = issue_forms(str(Q3), str(unconfigured))

    folder = unconfigured / "outbox" / str(Q3) / "thu-chua-gui"
    mail = issued.mail
    assert mail.outcomes == () and mail.unsent_folder == folder and mail.unwritten == ()
    assert [item.letter.about_code for item in mail.letter_files] == [
        "P",
        "U1",
        "G1",
        "G1C1",
        "G1C2",
    ]
    assert sorted(folder.iterdir()) == sorted(mail.written)
    assert mail.not_configured.startswith(
        "Chưa cấu hình máy chủ thư: chưa gửi 5 thư gửi mẫu biểu báo cáo Quý III năm 2025; đã ghi "
        f"5 thư thành tệp .eml (mở bằng chương trình đọc thư để xem đúng thư sẽ gửi, cả tệp gửi "
        f"kèm) trong «{folder}»."
    )
    by_code = {item.letter.about_code: _parsed(item.path) for item in mail.letter_files}
    cell = by_code["G1C2"]  # no address of its own: reaches it through Huyện ủy Một
    assert cell["From"] == MAIL_FROM and cell["To"] == "Huyện ủy Một <hu1@example.vn>"
    assert cell["Subject"].startswith("Mẫu biểu báo cáo Quý III năm 2025 của Chi bộ Thôn Hai")
    body = cell.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "đề nghị chuyển đến Chi bộ Thôn Hai." in body
    ((name, content),) = [(p.get_filename(), p.get_content()) for p in cell.iter_attachments()]
    assert name == "G1C2-2025Q3.xlsx" and content == (issued.folder / name).read_bytes()
    # Nothing recorded: the letters are still to send.
    assert _outbox_rows(database_url) == 0
    artifact = latest_artifact(f"gui-mau-bieu-{str(Q3).lower()}", workspace=unconfigured)
    assert "| Tệp | Thư | Gửi đến |" in artifact
    assert all(path.name in artifact for path in mail.written)

    # Issued again: the same files, written over.
    again = issue_forms(str(Q3), str(unconfigured))
    assert again.mail.written == mail.written and sorted(folder.iterdir()) == sorted(mail.written)

    # A server is configured: every form goes, once, and the folder keeps nothing sent.
    monkeypatch.setenv("TONGHOP_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("TONGHOP_SMTP_PORT", str(port))
    monkeypatch.setenv("TONGHOP_SMTP_SECURITY", "INSECURE")
    sent = issue_forms(str(Q3), str(unconfigured))
    assert len(sent.mail.sent) == 5 and sent.mail.written == () and sent.mail.not_configured is None
    assert len(handler.messages) == 5 and list(folder.iterdir()) == []


def test_the_forms_command_says_where_the_unsent_letters_are(
    unconfigured: Path, database_url: str
) -> None:
    env = mail_cli_env(free_port(), database_url)
    for name in ("TONGHOP_SMTP_HOST", "TONGHOP_EMAIL_BLOCK"):
        env.pop(name, None)
    command = [sys.executable, "-m", "tonghop_flows.cli", "forms", "--period", str(Q3)]
    command += ["--workspace", str(unconfigured)]

    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)

    assert done.returncode == 0, done.stdout + done.stderr
    folder = unconfigured / "outbox" / str(Q3) / "thu-chua-gui"
    shown = " ".join(done.stdout.split())  # rich may wrap a long line
    assert (
        "Chưa cấu hình máy chủ thư: chưa gửi 5 thư gửi mẫu biểu báo cáo Quý III năm 2025; đã ghi "
        f"5 thư thành tệp .eml (mở bằng chương trình đọc thư để xem đúng thư sẽ gửi, cả tệp gửi "
        f"kèm) trong «{folder}»." in shown
    )
    files = sorted(path.name for path in folder.iterdir())
    assert len(files) == 5
    for name in files:
        assert f"• {name}: mẫu biểu Quý III năm 2025" in shown
    assert "Traceback" not in done.stdout + done.stderr
