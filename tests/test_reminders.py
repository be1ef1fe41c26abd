"""Reminders during the collection window: who gets which list, in what words, and a real SMTP
server on 127.0.0.1 started here that refuses or fails on demand to show that a send that fails
is retried, recorded and fails the run, and that a rerun sends only what did not go."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import date, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from sqlalchemy import text

from tests.conftest import MailHandler, free_port, latest_artifact, mail_cli_env, mail_env
from tonghop.forms import write_form
from tonghop.mime import compose
from tonghop.outbox import SENDING, SENT, plan
from tonghop.periods import Period
from tonghop.registry import Unit, read_registry
from tonghop.reminders import PendingUnit, build_reminders, fingerprint, pending_by_parent
from tonghop.storage import engine_for
from tonghop_flows.collect import collect
from tonghop_flows.import_registry import import_registry
from tonghop_flows.remind import RemindersNotSent, remind

PERIOD = Period(2025, 3)
DEADLINE = "10/10/2025"
BEFORE_DEADLINE = date(2025, 10, 7)
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
RECEIVED = datetime(2025, 10, 5, 8, 30)
REGISTRY = """code,name,parent_code,kind,sector,valid_from,valid_to,email
P,Tỉnh ủy Thử nghiệm,,province,,,,vanphong@example.vn
U1,Huyện ủy Một,P,upper,,,,hu1@example.vn
G1,Đảng bộ Xã Một,U1,grassroots_committee,commune,,,
G1C1,Chi bộ Thôn Một,G1,cell,,,,
G1C2,Chi bộ Thôn Hai,G1,cell,,,,
G2,Chi bộ Trường Tiểu học,U1,grassroots_cell,agency,,,
U2,Huyện ủy Hai,P,upper,,,,hu2@example.vn
G4,Chi bộ Trạm Y tế,U2,grassroots_cell,agency,,,
G3,Chi bộ Sở Tư pháp,P,grassroots_cell,agency,,,
"""
LEAF = {"members": 10, "members_attended": 9, "members_absent": 1}
# G2's attendance exceeds its members (R4): rejected. G1C2, G4 and U2 send nothing.
REPORTS = {
    "U1": {"news_items": 3},
    "G1": {"sessions_in_person": 1, "sessions_total": 1},
    "G1C1": LEAF,
    "G2": {"members": 10, "members_attended": 12},
    "G3": LEAF,
}
# Who is reminded of what after REPORTS, in hierarchy order: G1 has no address, so its list goes
# to U1, its parent.
EXPECTED = {
    ("P", "vanphong@example.vn"): {"U2": "missing"},
    ("U1", "hu1@example.vn"): {"G2": "rejected"},
    ("G1", "hu1@example.vn"): {"G1C2": "missing"},
    ("U2", "hu2@example.vn"): {"G4": "missing"},
}


# --- building reminders, no database -------------------------------------------------------


def _units() -> list[Unit]:
    return [
        Unit("P", "Tỉnh ủy Thử nghiệm", None, "province", None, None, None, "vp@example.vn"),
        Unit("U1", "Huyện ủy Một", "P", "upper", None, None, None, "hu1@example.vn"),
        Unit("G1", "Đảng bộ Xã Một", "U1", "grassroots_committee", "commune", None, None, None),
        Unit("C1", "Chi bộ Thôn Một", "G1", "cell", None, None, None, None),
        Unit("C2", "Chi bộ Thôn Hai", "G1", "cell", None, None, None, None),
        Unit("G2", "Chi bộ Trường Tiểu học", "U1", "grassroots_cell", "agency", None, None, None),
    ]


def _status(**statuses: str | tuple[str, int]) -> pd.DataFrame:
    """Rows as sql/select_status.sql returns them; a tuple gives (status, on_time)."""
    rows = []
    for code, value in statuses.items():
        status, on_time = value if isinstance(value, tuple) else (value, None)
        sent = status != "missing"
        rows.append(
            {
                "unit_code": code,
                "status": status,
                "on_time": on_time if on_time is not None else (1 if sent else None),
                "received_at": pd.Timestamp(RECEIVED) if sent else pd.NaT,
                "file_name": f"{code.lower()}-bao-cao.xlsx" if sent else None,
                "errors": 2 if status == "rejected" else 0,
                "warnings": 1 if status == "accepted_with_warnings" else 0,
            }
        )
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    ("status", "reminded"),
    [
        ("missing", True),
        ("rejected", True),
        ("accepted", False),
        ("accepted_with_warnings", False),
        (("accepted", 0), False),  # late, but accepted: nothing left to remind of
    ],
    ids=["missing", "rejected", "accepted", "accepted-with-warnings", "late-but-accepted"],
)
def test_only_missing_and_rejected_units_are_reminded(status, reminded: bool) -> None:
    frame = _status(P="missing", U1="accepted", G1="accepted", C1="accepted", C2="accepted")
    frame = pd.concat([frame, _status(G2=status)], ignore_index=True)
    reminders = build_reminders(PERIOD, _units(), frame, 10, BEFORE_DEADLINE)
    # The province has no parent to remind it; only U1, for G2, can be reminded.
    assert [reminder.about_code for reminder in reminders] == (["U1"] if reminded else [])
    pending = pending_by_parent(_units(), frame)
    assert {code: [unit.code for unit in units] for code, units in pending.items()} == (
        {"U1": ["G2"]} if reminded else {}
    )


def test_a_reminder_lists_the_units_in_formal_vietnamese() -> None:
    frame = _status(
        P="accepted",
        U1="accepted",
        G1="accepted",
        C1="accepted",
        C2="accepted",
        G2="rejected",
        G3="missing",
    )
    health = Unit("G3", "Chi bộ Trạm Y tế", "U1", "grassroots_cell", "agency", None, None, None)
    units = [*_units(), health]
    (reminder,) = build_reminders(PERIOD, units, frame, 10, BEFORE_DEADLINE)
    assert reminder.recipient.email == "hu1@example.vn"
    assert reminder.recipient.code == reminder.about_code == "U1"  # not escalated
    assert reminder.about == "thư đôn đốc về 2 đơn vị trực thuộc Huyện ủy Một"
    assert reminder.subject == (
        "Đôn đốc báo cáo Quý III năm 2025: 2 đơn vị trực thuộc Huyện ủy Một chưa hoàn thành báo cáo"
    )
    body = reminder.body
    assert body.startswith("Kính gửi: Ban Thường vụ Huyện ủy Một\n")
    assert f"hạn gửi báo cáo Quý III năm 2025 là ngày {DEADLINE}." in body
    assert "Đến ngày 07/10/2025" in body
    assert (
        "1. Chi bộ Trường Tiểu học (mã G2): báo cáo bị trả lại — tệp «g2-bao-cao.xlsx» nhận lúc "
        "05/10/2025 08:30 có 2 lỗi; đơn vị xem tệp phản hồi, sửa và gửi lại." in body
    )
    assert "2. Chi bộ Trạm Y tế (mã G3): chưa gửi báo cáo." in body
    assert "Đề nghị đồng chí đôn đốc các đơn vị hoàn thành và gửi báo cáo trước hạn." in body
    assert body.rstrip().endswith(
        "Ban Tuyên giáo Tỉnh ủy Thử nghiệm\nHệ thống Tổng hợp (thư tự động)"
    )


def test_after_the_deadline_the_reminder_says_it_is_late() -> None:
    frame = _status(P="accepted", U1="accepted", G1="accepted", C1="accepted", C2="accepted")
    frame = pd.concat([frame, _status(G2="missing")], ignore_index=True)
    (reminder,) = build_reminders(PERIOD, _units(), frame, 10, date(2025, 10, 15))
    assert f"là ngày {DEADLINE}, nay đã quá hạn." in reminder.body
    assert "hoàn thành và gửi báo cáo ngay." in reminder.body


def test_a_parent_without_email_escalates_to_the_nearest_ancestor_with_one() -> None:
    frame = _status(P="accepted", U1="accepted", G1="accepted", C1="missing", C2="rejected")
    frame = pd.concat([frame, _status(G2="accepted")], ignore_index=True)
    (reminder,) = build_reminders(PERIOD, _units(), frame, 10, BEFORE_DEADLINE)
    # Escalated: about G1, sent to U1.
    assert reminder.about_code == "G1"
    assert (reminder.recipient.code, reminder.recipient.email) == ("U1", "hu1@example.vn")
    assert reminder.body.startswith("Kính gửi: Ban Thường vụ Huyện ủy Một\n")
    assert "2 đơn vị trực thuộc Đảng bộ Xã Một sau đây" in reminder.body
    assert "Do Đảng bộ Xã Một chưa có địa chỉ thư điện tử trong danh sách đơn vị" in reminder.body
    assert [unit.code for unit in pending_by_parent(_units(), frame)["G1"]] == ["C1", "C2"]


def test_with_no_address_up_the_line_the_reminder_is_kept_undeliverable() -> None:
    units = [
        Unit(u.code, u.name, u.parent_code, u.kind, u.sector, None, None, None) for u in _units()
    ]
    frame = _status(P="accepted", U1="accepted", G1="accepted", C1="missing", C2="accepted")
    frame = pd.concat([frame, _status(G2="accepted")], ignore_index=True)
    (reminder,) = build_reminders(PERIOD, units, frame, 10, BEFORE_DEADLINE)
    assert reminder.recipient is None and reminder.about_code == "G1"
    assert not reminder.deliverable and reminder.to == "(không có địa chỉ)"
    assert reminder.undeliverable == (
        "Đảng bộ Xã Một và các cấp ủy cấp trên của đơn vị này đều chưa có địa chỉ thư điện tử "
        "trong danh sách đơn vị."
    )
    with pytest.raises(ValueError):
        compose(reminder, "tonghop@example.vn")


def test_the_fingerprint_names_the_list_not_its_order() -> None:
    missing = PendingUnit("C1", "Chi bộ Thôn Một", "missing")
    rejected = PendingUnit("C2", "Chi bộ Thôn Hai", "rejected")
    same = fingerprint("2025Q3", "G1", "a@example.vn", [missing, rejected])
    assert same == fingerprint("2025Q3", "G1", "a@example.vn", [rejected, missing])
    changed = PendingUnit("C1", "Chi bộ Thôn Một", "rejected")
    assert same != fingerprint("2025Q3", "G1", "a@example.vn", [changed, rejected])
    assert same != fingerprint("2025Q3", "G1", "b@example.vn", [missing, rejected])
    assert same != fingerprint("2025Q4", "G1", "a@example.vn", [missing, rejected])


def test_the_plan_keeps_what_was_not_delivered_and_holds_back_the_unconfirmed() -> None:
    frame = _status(P="accepted", U1="accepted", G1="accepted", C1="missing", C2="accepted")
    frame = pd.concat([frame, _status(G2="missing")], ignore_index=True)
    first, second = build_reminders(PERIOD, _units(), frame, 10, BEFORE_DEADLINE)
    planned = plan([first, second], {first.fingerprint: SENT})
    assert planned.to_send == [second] and planned.already_sent == 1
    held = plan([first, second], {second.fingerprint: SENDING})
    assert held.to_send == [first] and held.unconfirmed == [second]
    assert plan([first, second], {second.fingerprint: SENDING}, True).to_send == [first, second]


def test_the_message_is_utf8_and_reads_back() -> None:
    frame = _status(P="accepted", U1="accepted", G1="accepted", C1="accepted", C2="accepted")
    frame = pd.concat([frame, _status(G2="missing")], ignore_index=True)
    (reminder,) = build_reminders(PERIOD, _units(), frame, 10, BEFORE_DEADLINE)
    message = compose(reminder, "bantuyengiao@example.vn")
    parsed = message_from_bytes(message.as_bytes(), policy=default_policy)
    assert parsed["Subject"] == reminder.subject
    assert parsed["To"].addresses[0].display_name == "Huyện ủy Một"
    assert parsed["To"].addresses[0].addr_spec == "hu1@example.vn"
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed.get_body(("plain",)).get_content() == reminder.body
    assert message.as_bytes().isascii()  # travels through any server, 8BITMIME or not


# --- the flow against a local SMTP server ---------------------------------------------------


def _write_report(root: Path, units: dict[str, Unit], code: str, values: dict, name: str) -> None:
    has_children = any(unit.parent_code == code for unit in units.values())
    path = root / "inbox" / code / name
    write_form(path, units[code], PERIOD, has_children, values=values)
    stamp = RECEIVED.replace(tzinfo=ZONE).timestamp()
    os.utime(path, (stamp, stamp))


def _prepare(root: Path, registry: str = REGISTRY) -> dict[str, Unit]:
    """Registry imported, REPORTS in the inbox and collected."""
    (root / "registry.csv").write_text(registry, encoding="utf-8")
    assert import_registry(str(root / "registry.csv"), str(root)).problems == []
    units, problems = read_registry(root / "registry.csv")
    assert problems == []
    by_code = {unit.code: unit for unit in units}
    for code, values in REPORTS.items():
        _write_report(root, by_code, code, values, "bao-cao.xlsx")
    collected = collect(str(PERIOD), str(root))
    assert (collected.received, collected.rejected) == (len(REPORTS), 1)
    return by_code


@pytest.fixture
def workspace(
    tmp_path: Path,
    database_url: str,
    smtp: tuple[MailHandler, int],
    monkeypatch: pytest.MonkeyPatch,
    prefect_server: None,
) -> Path:
    monkeypatch.setenv("TONGHOP_DATABASE_URL", database_url)
    monkeypatch.setenv("TONGHOP_READ_WORKERS", "1")
    monkeypatch.delenv("TONGHOP_EMAIL_BLOCK", raising=False)
    for name, value in mail_env(smtp[1]).items():
        monkeypatch.setenv(name, value)
    _prepare(tmp_path)
    # The collection answered every unit; those answers are tests/test_answers.py's concern.
    smtp[0].reset()
    return tmp_path


def _logged(database_url: str) -> list[tuple[str, str | None, int, str, str | None]]:
    with engine_for(database_url).connect() as connection:
        rows = connection.execute(
            text(
                "select about_code, recipient, attempts, state, error from outbox_message "
                "where kind = 'reminder' order by queued_at, about_code"
            )
        )
        return [tuple(row) for row in rows]


def _body(message: EmailMessage) -> str:
    """The text as the reader sees it (lines travel as CRLF)."""
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def test_each_parent_gets_the_list_of_its_units(workspace, smtp, database_url) -> None:
    handler, _ = smtp
    reminded = remind(str(PERIOD), str(workspace))
    summary = reminded.upper

    assert [(r.about_code, r.recipient) for r in summary.outcomes] == list(EXPECTED)
    assert all(outcome.sent and outcome.attempts == 1 for outcome in summary.outcomes)
    received = handler.received()
    assert {to: len(messages) for to, messages in received.items()} == {
        "vanphong@example.vn": 1,
        "hu1@example.vn": 2,
        "hu2@example.vn": 2,  # U2's list, and U2's own reminder
    }
    for _, message in handler.messages:
        assert message["From"] == "bantuyengiao@example.vn"
        assert "Quý III năm 2025" in message["Subject"]
        assert f"là ngày {DEADLINE}" in _body(message)
    (province,) = received["vanphong@example.vn"]
    assert province["Subject"] == (
        "Đôn đốc báo cáo Quý III năm 2025: 1 đơn vị trực thuộc Tỉnh ủy Thử nghiệm "
        "chưa hoàn thành báo cáo"
    )
    assert _body(province).startswith("Kính gửi: Ban Thường vụ Tỉnh ủy Thử nghiệm\n")
    assert "1. Huyện ủy Hai (mã U2): chưa gửi báo cáo." in _body(province)
    about_u1, about_g1 = sorted(received["hu1@example.vn"], key=lambda m: "Xã" in m["Subject"])
    assert (
        "1. Chi bộ Trường Tiểu học (mã G2): báo cáo bị trả lại — tệp «bao-cao.xlsx» nhận lúc "
        "05/10/2025 08:30 có 1 lỗi" in _body(about_u1)
    )
    assert "Chi bộ Thôn Hai" not in _body(about_u1)
    assert "1 đơn vị trực thuộc Đảng bộ Xã Một" in about_g1["Subject"]
    assert "1. Chi bộ Thôn Hai (mã G1C2): chưa gửi báo cáo." in _body(about_g1)
    assert "Do Đảng bộ Xã Một chưa có địa chỉ thư điện tử" in _body(about_g1)
    district, own = sorted(received["hu2@example.vn"], key=lambda m: m["Subject"][:4] == "Nhắc")
    assert "1. Chi bộ Trạm Y tế (mã G4): chưa gửi báo cáo." in _body(district)
    # U2 is missing and has an address: it is reminded itself, its form attached again.
    assert [(o.about_code, o.recipient) for o in reminded.units.outcomes] == [
        ("U2", "hu2@example.vn")
    ]
    assert own["Subject"] == "Nhắc gửi báo cáo Quý III năm 2025 của Huyện ủy Hai"
    assert _body(own).startswith("Kính gửi: Ban Thường vụ Huyện ủy Hai (Tỉnh ủy Thử nghiệm)\n")
    assert "chưa nhận được báo cáo Quý III năm 2025 của Huyện ủy Hai" in _body(own)
    assert "Hạn gửi báo cáo là ngày" in _body(own)
    ((name, content),) = [(p.get_filename(), p.get_content()) for p in own.iter_attachments()]
    form = workspace / "outbox" / str(PERIOD) / f"U2-{PERIOD}.xlsx"
    assert name == form.name and content == form.read_bytes()
    for accepted in ("Chi bộ Thôn Một", "Chi bộ Sở Tư pháp"):
        assert all(accepted not in _body(message) for _, message in handler.messages)

    assert sorted(_logged(database_url)) == sorted(
        (parent, to, 1, "sent", None) for parent, to in EXPECTED
    )
    artifact = latest_artifact("nhac-nho-2025q3", workspace=workspace)
    assert "Huyện ủy Hai <hu2@example.vn>" in artifact and "Đã gửi" in artifact


def test_a_refused_recipient_is_retried_recorded_and_fails_the_run(
    workspace, smtp, database_url
) -> None:
    handler, _ = smtp
    handler.refused = {"hu2@example.vn"}

    state = remind(str(PERIOD), str(workspace), return_state=True)

    assert state.is_failed()
    assert handler.rcpt_attempts["hu2@example.vn"] == 6  # the list and U2's own, 3 times each
    assert "hu2@example.vn" not in handler.received() and len(handler.messages) == 3
    error = state.result(raise_on_failure=False)
    assert isinstance(error, RemindersNotSent)
    message = str(error)
    assert "1 thư đôn đốc báo cáo Quý III năm 2025 chưa gửi được" in message
    assert "Huyện ủy Hai <hu2@example.vn>" in message and "550" in message
    assert "đã gửi thử 3 lần" in message
    assert "Huyện ủy Hai <hu2@example.vn>" in (state.message or "")
    logged = _logged(database_url)
    (failed,) = [row for row in logged if row[3] == "failed"]
    assert failed[:4] == ("U2", "hu2@example.vn", 3, "failed") and "550" in failed[4]
    assert sum(row[3] == "sent" for row in logged) == 3
    assert "Chưa gửi được" in latest_artifact("nhac-nho-2025q3", workspace=workspace)

    # The address is fixed: a rerun sends only the reminder that did not go.
    handler.refused = set()
    handler.messages.clear()
    summary = remind(str(PERIOD), str(workspace)).upper
    assert [outcome.recipient for outcome in summary.outcomes] == ["hu2@example.vn"]
    assert summary.already_sent == 3
    assert list(handler.received()) == ["hu2@example.vn"]

    # Nothing left: a third run sends nothing and says so.
    handler.messages.clear()
    summary = remind(str(PERIOD), str(workspace)).upper
    assert summary.outcomes == () and summary.already_sent == 4
    assert handler.messages == []
    assert "4 thư đã gửi ở lần chạy trước" in latest_artifact(
        "nhac-nho-2025q3", workspace=workspace
    )


def test_a_temporary_failure_is_retried_on_the_same_message(workspace, smtp, database_url) -> None:
    handler, _ = smtp
    handler.fail_data = 2

    summary = remind(str(PERIOD), str(workspace)).upper

    assert [outcome.attempts for outcome in summary.outcomes] == [3, 1, 1, 1]
    assert all(outcome.sent for outcome in summary.outcomes)
    # The lists' four and U2's own reminder; the first tried three times.
    assert handler.data_attempts == 7 and len(handler.messages) == 5
    assert sorted(row[2] for row in _logged(database_url)) == [1, 1, 1, 3]


def test_a_changed_list_is_a_new_reminder(workspace, smtp, database_url) -> None:
    handler, _ = smtp
    remind(str(PERIOD), str(workspace))
    handler.messages.clear()

    # G4 now sends a report that is rejected: U2's list changed, nothing else did.
    units, _ = read_registry(workspace / "registry.csv")
    by_code = {unit.code: unit for unit in units}
    _write_report(workspace, by_code, "G4", {"members": 5}, "bao-cao-g4.xlsx")
    assert collect(str(PERIOD), str(workspace)).rejected == 1

    summary = remind(str(PERIOD), str(workspace)).upper
    assert [outcome.recipient for outcome in summary.outcomes] == ["hu2@example.vn"]
    assert summary.already_sent == 3
    (message,) = handler.received("reminder")["hu2@example.vn"]
    assert "1. Chi bộ Trạm Y tế (mã G4): báo cáo bị trả lại" in _body(message)


def test_a_reminder_with_no_address_up_the_line_fails_the_run(
    tmp_path, database_url, smtp, monkeypatch, prefect_server
) -> None:
    handler, port = smtp
    monkeypatch.setenv("TONGHOP_DATABASE_URL", database_url)
    monkeypatch.setenv("TONGHOP_READ_WORKERS", "1")
    for name, value in mail_env(port).items():
        monkeypatch.setenv(name, value)
    registry = REGISTRY.replace("vanphong@example.vn", "").replace("hu2@example.vn", "")
    _prepare(tmp_path, registry)

    state = remind(str(PERIOD), str(tmp_path), return_state=True)

    assert state.is_failed()
    message = str(state.result(raise_on_failure=False))
    assert "2 thư đôn đốc báo cáo Quý III năm 2025 chưa gửi được" in message
    assert (
        "- Thư đôn đốc về 1 đơn vị trực thuộc Huyện ủy Hai, gửi đến (không có địa chỉ): " in message
    )
    assert "Huyện ủy Hai và các cấp ủy cấp trên của đơn vị này đều chưa có địa chỉ" in message
    assert set(handler.received()) == {"hu1@example.vn"}
    failed = sorted(row[:4] for row in _logged(database_url) if row[3] == "failed")
    assert failed == [("P", None, 0, "failed"), ("U2", None, 0, "failed")]


def test_without_a_mail_server_nothing_is_sent(workspace, smtp, database_url, monkeypatch) -> None:
    handler, _ = smtp
    monkeypatch.delenv("TONGHOP_SMTP_HOST")

    state = remind(str(PERIOD), str(workspace), return_state=True)

    assert state.is_failed()
    assert "Chưa cấu hình máy chủ thư" in str(state.result(raise_on_failure=False))
    assert handler.rcpt_attempts == Counter() and _logged(database_url) == []


def test_the_command_line_reports_each_recipient(workspace, smtp, database_url) -> None:
    handler, port = smtp
    handler.refused = {"hu2@example.vn"}
    env = mail_cli_env(port, database_url)
    command = [sys.executable, "-m", "tonghop_flows.cli", "remind", "--period", str(PERIOD)]
    command += ["--workspace", str(workspace)]

    failed = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    output = failed.stdout + failed.stderr
    assert failed.returncode == 1, output
    assert (
        "Đã gửi thư đôn đốc về 1 đơn vị trực thuộc Huyện ủy Một đến Huyện ủy Một "
        "<hu1@example.vn>." in failed.stdout
    )
    assert (
        "Chưa gửi được thư đôn đốc về 1 đơn vị trực thuộc Huyện ủy Hai đến Huyện ủy Hai "
        "<hu2@example.vn>: máy chủ thư từ chối người nhận" in failed.stdout
    )
    assert "Lỗi: 1 thư đôn đốc báo cáo Quý III năm 2025 chưa gửi được" in failed.stdout
    assert "Traceback" not in output, output

    handler.refused = set()
    again = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Đã gửi thư đôn đốc về 1 đơn vị trực thuộc Huyện ủy Hai đến Huyện ủy Hai" in (
        again.stdout
    )
    assert (
        "Thư đôn đốc báo cáo Quý III năm 2025: 3 thư đã gửi ở lần chạy trước, không gửi lại."
        in again.stdout
    )


def test_an_unreachable_server_fails_every_reminder_with_its_reason(
    workspace, database_url, monkeypatch
) -> None:
    monkeypatch.setenv("TONGHOP_SMTP_PORT", str(free_port()))  # nothing listens there

    state = remind(str(PERIOD), str(workspace), return_state=True)

    assert state.is_failed()
    summary = state.result(raise_on_failure=False).reminded.upper
    first, *rest = summary.outcomes
    assert first.attempts == 3 and "không kết nối được máy chủ thư 127.0.0.1" in first.error
    # The rest are not each tried three times against a server that is not there.
    assert [outcome.attempts for outcome in rest] == [0, 0, 0]
    assert all(outcome.error.startswith("chưa gửi vì không kết nối") for outcome in rest)
    assert sorted(row[3] for row in _logged(database_url)) == ["failed"] * 4


def test_a_saved_email_block_wins_over_the_smtp_settings(workspace, smtp, monkeypatch) -> None:
    from prefect_email import EmailServerCredentials

    handler, port = smtp
    EmailServerCredentials(smtp_server="127.0.0.1", smtp_type="INSECURE", smtp_port=port).save(
        "thu-tonghop-thu-nghiem", overwrite=True
    )
    monkeypatch.setenv("TONGHOP_EMAIL_BLOCK", "thu-tonghop-thu-nghiem")
    monkeypatch.setenv("TONGHOP_SMTP_PORT", str(free_port()))  # would fail if it were used

    summary = remind(str(PERIOD), str(workspace)).upper
    assert len(summary.sent) == 4 and len(handler.messages) == 5

    monkeypatch.setenv("TONGHOP_EMAIL_BLOCK", "khong-co-khoi-nay")
    state = remind(str(PERIOD), str(workspace), return_state=True)
    assert state.is_failed()
    assert "Không tải được khối cấu hình máy chủ thư «khong-co-khoi-nay»" in str(
        state.result(raise_on_failure=False)
    )


def test_a_run_killed_while_sending_leaves_the_letter_unconfirmed_never_resent_blindly(
    workspace, smtp, database_url
) -> None:
    handler, port = smtp
    env = mail_cli_env(port, database_url)
    command = [sys.executable, "-m", "tonghop_flows.cli", "remind", "--period", str(PERIOD)]
    command += ["--workspace", str(workspace)]

    # The server takes the first letter and never answers; the run is killed meanwhile.
    handler.stall = True
    killed = subprocess.Popen(command, env=env, start_new_session=True, **_QUIET)
    try:
        deadline = time.monotonic() + 300
        while not handler.messages and time.monotonic() < deadline:
            assert killed.poll() is None, "the run ended before it sent anything"
            time.sleep(0.2)
        assert len(handler.messages) == 1
    finally:
        os.killpg(killed.pid, signal.SIGKILL)
        killed.wait()
        handler.stall = False
    (first_to,), first = handler.messages[0]
    assert first_to == "vanphong@example.vn"
    assert _logged(database_url) == [("P", "vanphong@example.vn", 0, "sending", None)]

    # The next run sends the three never tried, and only shows the one it cannot vouch for.
    handler.messages.clear()
    again = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert again.returncode == 0, again.stdout + again.stderr
    assert sorted(to for to, _ in handler.messages) == [
        ["hu1@example.vn"],
        ["hu1@example.vn"],
        ["hu2@example.vn"],
        ["hu2@example.vn"],  # U2's own reminder
    ]
    assert (
        "1 thư đôn đốc báo cáo Quý III năm 2025 đã được gửi ở một lần chạy bị gián đoạn nhưng "
        "chưa xác nhận được là đã đi" in " ".join(again.stdout.split())
    )
    assert "Tỉnh ủy Thử nghiệm <vanphong@example.vn>" in again.stdout
    assert "unconfirmed" not in again.stdout and "Traceback" not in again.stderr
    assert "chưa xác nhận" in latest_artifact("nhac-nho-2025q3", workspace=workspace)

    # Asked to, it sends that one again; then it is confirmed like any other.
    handler.messages.clear()
    resent = subprocess.run(
        [*command, "--gui-lai-thu-chua-xac-nhan"], capture_output=True, text=True, env=env
    )
    assert resent.returncode == 0, resent.stdout + resent.stderr
    assert [to for to, _ in handler.messages] == [["vanphong@example.vn"]]
    assert _body(handler.messages[0][1]) == _body(first)
    states = sorted(row[3] for row in _logged(database_url))
    assert states == ["sending", "sent", "sent", "sent", "sent"]
    handler.messages.clear()
    assert remind(str(PERIOD), str(workspace)).upper.already_sent == 4
    assert handler.messages == []


_QUIET = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
