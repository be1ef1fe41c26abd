"""After each publication the province and every upper-level unit receive their draft report
and the workbook by e-mail: the letter's words and attachments, once per version and address,
and against a real SMTP server on 127.0.0.1 what a refusal, a temporary failure, a missing
address, a missing mail server and a new version do to the run."""

from __future__ import annotations

import io
import pickle
import subprocess
import sys
from dataclasses import replace
from datetime import datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import text

from tests.conftest import MailHandler, latest_artifact, mail_cli_env, mail_env
from tests.test_end_to_end import PERIOD, REGISTRY, REPORTS, received, write_contract_form
from tonghop.delivery import REPORT, build_deliveries, fingerprint
from tonghop.mime import attachment, compose
from tonghop.outbox import (
    SENT,
    Letter,
    MailNotSent,
    OutboxSummary,
    Outcome,
    Recipient,
    plan,
    scope_label,
)
from tonghop.periods import Period
from tonghop.registry import Unit
from tonghop.storage import engine_for
from tonghop_flows.collect import collect
from tonghop_flows.deliver import deliver_reports
from tonghop_flows.import_registry import import_registry
from tonghop_flows.quarterly_report import PublishedNotDelivered, QuarterlyReport, quarterly_report

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Q3 = Period(2025, 3)


# --- building deliveries, no database ------------------------------------------------------


def _units() -> list[Unit]:
    return [
        Unit("P", "Tỉnh ủy Thử nghiệm", None, "province", None, None, None, "vp@example.vn"),
        Unit("U1", "Huyện ủy Một", "P", "upper", None, None, None, "hu1@example.vn"),
        Unit("G1", "Đảng bộ Xã Một", "U1", "grassroots_committee", "commune", None, None, None),
        Unit("U2", "Huyện ủy Hai", "P", "upper", None, None, None, None),
    ]


@pytest.fixture
def files(tmp_path: Path) -> tuple[dict[str, Path], dict[str, Path]]:
    """Draft reports of P, U1 and U2 (in no particular order) and their workbooks — the
    province's whole one, each upper level's own — each with bytes of its own."""
    reports, workbooks = {}, {}
    for code in ("U2", "P", "U1"):
        reports[code] = tmp_path / f"bao-cao-2025Q3-{code}.docx"
        reports[code].write_bytes(f"PK\x03\x04 báo cáo {code}".encode() + bytes(range(256)))
        name = "tong-hop-2025Q3.xlsx" if code == "P" else f"tong-hop-2025Q3-{code}.xlsx"
        workbooks[code] = tmp_path / name
        workbooks[code].write_bytes(f"PK\x03\x04 {code}".encode() + bytes(range(255, -1, -1)))
    return reports, workbooks


def test_one_delivery_per_drafted_report_to_the_unit_or_its_nearest_addressed_ancestor(
    files,
) -> None:
    reports, workbooks = files
    deliveries = build_deliveries(Q3, 1, _units(), reports, workbooks)

    # Hierarchy order; U2 has no address and is reached through the province (SPEC §1).
    assert [(d.about_code, d.recipient.email) for d in deliveries] == [
        ("P", "vp@example.vn"),
        ("U1", "hu1@example.vn"),
        ("U2", "vp@example.vn"),
    ]
    forwarded = deliveries[2]
    assert forwarded.about == "báo cáo Quý III năm 2025 (phiên bản 1) của Huyện ủy Hai"
    assert forwarded.body.startswith("Kính gửi: Ban Thường vụ Huyện ủy Hai\n")
    assert (
        "Do Huyện ủy Hai chưa có địa chỉ thư điện tử trong danh sách đơn vị, thư này được gửi "
        "đến Tỉnh ủy Thử nghiệm là cấp ủy cấp trên; đề nghị chuyển đến Huyện ủy Hai."
        in forwarded.body
    )
    assert "đề nghị chuyển đến" not in deliveries[1].body
    district = deliveries[1]
    # a district receives its own workbook, of its subtree
    assert district.attachments == (reports["U1"], workbooks["U1"])
    assert deliveries[0].attachments == (reports["P"], workbooks["P"])
    assert district.about == "báo cáo Quý III năm 2025 (phiên bản 1)"
    assert district.subject == (
        "Dự thảo báo cáo Quý III năm 2025 của Huyện ủy Một và bảng tổng hợp số liệu (phiên bản 1)"
    )
    body = district.body
    assert body.startswith("Kính gửi: Ban Thường vụ Huyện ủy Một\n")
    assert (
        "Hệ thống Tổng hợp gửi dự thảo báo cáo kết quả nghiên cứu, học tập, quán triệt và tuyên "
        "truyền các nghị quyết, chỉ thị, kết luận của Đảng Quý III năm 2025 (phiên bản 1) của "
        "Huyện ủy Một" in body
    )
    assert "bảng tổng hợp số liệu của Huyện ủy Một và các đơn vị trực thuộc cùng kỳ" in body
    assert "bảng tổng hợp số liệu toàn Tỉnh ủy Thử nghiệm cùng kỳ" in deliveries[0].body
    assert "1. bao-cao-2025Q3-U1.docx: dự thảo báo cáo" in body
    assert "2. tong-hop-2025Q3-U1.xlsx: bảng tổng hợp số liệu." in body
    assert "rà soát nội dung dự thảo, đối chiếu số liệu, bổ sung số, ngày ký báo cáo" in body
    assert "thay thế" not in body  # a first version replaces nothing
    assert body.rstrip().endswith(
        "Trân trọng./.\n\nBan Tuyên giáo Tỉnh ủy Thử nghiệm\nHệ thống Tổng hợp (thư tự động)"
    )
    assert deliveries[0].body.startswith("Kính gửi: Ban Thường vụ Tỉnh ủy Thử nghiệm\n")


def test_a_later_version_says_what_it_replaces(files) -> None:
    reports, workbooks = files
    (province, *_) = build_deliveries(Q3, 2, _units(), reports, workbooks)
    assert province.subject.endswith("bảng tổng hợp số liệu (phiên bản 2)")
    assert "Quý III năm 2025 (phiên bản 2)" in province.body
    assert (
        "Phiên bản 2 thay thế các phiên bản đã gửi trước đây; những đơn vị và số liệu thay đổi "
        "được liệt kê ở trang «Những thay đổi» của bảng tổng hợp." in province.body
    )


def test_the_message_carries_the_letter_the_report_and_the_workbook(files) -> None:
    reports, workbooks = files
    district = build_deliveries(Q3, 1, _units(), reports, workbooks)[1]
    raw = compose(district, "bantuyengiao@example.vn").as_bytes()
    assert raw.isascii()  # travels through any server, 8BITMIME or not

    parsed = message_from_bytes(raw, policy=default_policy)
    assert parsed["Subject"] == district.subject
    assert parsed["From"] == "bantuyengiao@example.vn"
    assert parsed["To"].addresses[0].display_name == "Huyện ủy Một"
    assert parsed["To"].addresses[0].addr_spec == "hu1@example.vn"
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed.get_content_type() == "multipart/mixed"
    assert parsed.get_body(("plain",)).get_content() == district.body
    attached = [
        (p.get_filename(), p.get_content_type(), p.get_content()) for p in parsed.iter_attachments()
    ]
    assert attached == [
        ("bao-cao-2025Q3-U1.docx", DOCX, reports["U1"].read_bytes()),
        ("tong-hop-2025Q3-U1.xlsx", XLSX, workbooks["U1"].read_bytes()),
    ]


def test_a_file_name_outside_ascii_travels_as_rfc_2231(tmp_path: Path) -> None:
    path = tmp_path / "Báo cáo Quý III năm 2025 — Huyện ủy Một.docx"
    path.write_bytes(b"PK\x03\x04 draft")
    raw = attachment(path).as_bytes()
    assert raw.isascii() and b"filename*=utf-8''B%C3%A1o%20c%C3%A1o" in raw
    parsed = message_from_bytes(raw, policy=default_policy)
    assert parsed.get_filename() == path.name
    assert parsed.get_content_type() == DOCX
    assert parsed.get_content() == b"PK\x03\x04 draft"


def test_a_unit_without_address_up_the_line_cannot_be_sent_and_says_why(files) -> None:
    reports, workbooks = files
    units = [
        unit if unit.code == "U1" else replace(unit, email=None)  # only U1 keeps its address
        for unit in _units()
    ]
    unaddressed = build_deliveries(Q3, 1, units, reports, workbooks)[2]
    assert unaddressed.recipient.email is None and not unaddressed.deliverable
    assert unaddressed.to == "Huyện ủy Hai (mã U2)"
    with pytest.raises(ValueError):
        compose(unaddressed, "bantuyengiao@example.vn")
    assert unaddressed.undeliverable == (
        "Huyện ủy Hai (mã U2) và các cấp ủy cấp trên của đơn vị này đều chưa có địa chỉ thư điện "
        "tử trong danh sách đơn vị; bổ sung địa chỉ vào danh sách đơn vị rồi chạy lại để gửi."
    )


def test_the_fingerprint_is_the_version_and_the_address() -> None:
    same = fingerprint("2025Q3", 1, "U1", "hu1@example.vn")
    assert same == fingerprint("2025Q3", 1, "U1", " HU1@example.vn ")
    assert same != fingerprint("2025Q3", 2, "U1", "hu1@example.vn")  # a new version
    assert same != fingerprint("2025Q3", 1, "U1", "vanthu.hu1@example.vn")  # a new address
    assert same != fingerprint("2025Q3", 1, "P", "hu1@example.vn")
    assert same != fingerprint("2025Q4", 1, "U1", "hu1@example.vn")


def test_the_plan_keeps_what_was_not_delivered(files) -> None:
    reports, workbooks = files
    province, district, unaddressed = build_deliveries(Q3, 1, _units(), reports, workbooks)
    planned = plan([province, district, unaddressed], {district.fingerprint: SENT})
    assert planned.to_send == [province, unaddressed] and planned.already_sent == 1


def _result(
    code: str, name: str, state: str, error: str | None = None, period: str = "2025Q3", version=1
) -> Outcome:
    letter = Letter(
        kind=REPORT,
        period=period,
        version=version,
        about_code=code,
        about=f"báo cáo {scope_label(Period.parse(period), version)}",
        recipient=Recipient(code, name, f"{code.lower()}@example.vn"),
        subject="",
        body="",
        fingerprint="f" * 64,
    )
    return Outcome(letter, state, 1, error, datetime(2025, 10, 12, 7, 0))


def test_the_errors_keep_their_summary_through_pickling() -> None:
    failed = _result("U1", "Huyện ủy Một", "failed", "550")
    summary = OutboxSummary(REPORT, "2025Q3", 1, (failed,))
    error = pickle.loads(pickle.dumps(MailNotSent("chưa gửi được", summary)))
    assert str(error) == "chưa gửi được" and error.summary == summary
    report = QuarterlyReport(collected=None, published=None, deliveries=(summary,))
    again = pickle.loads(pickle.dumps(PublishedNotDelivered("chưa gửi được", report)))
    assert again.report.undelivered == [summary]


def test_the_run_summary_counts_when_many_units_were_sent(monkeypatch) -> None:
    from tonghop_flows import cli

    output = io.StringIO()
    monkeypatch.setattr(cli, "console", Console(file=output, width=200, no_color=True))
    many = tuple(_result(f"U{n}", f"Huyện ủy Số {n}", "sent", version=2) for n in range(11))
    few = tuple(
        _result(code, name, state, error, period="2025Q2", version=3)
        for code, name, state, error in (
            ("P", "Tỉnh ủy Thử nghiệm", "sent", None),
            ("U1", "Huyện ủy Một", "failed", "máy chủ thư từ chối người nhận"),
        )
    )
    late = _result("U1", "Huyện ủy Một", "failed", "550", version=2)
    cli._print_mail(
        [
            OutboxSummary(REPORT, "2025Q3", 2, (*many, late)),
            OutboxSummary(REPORT, "2025Q2", 3, few, already_sent=4),
        ]
    )
    lines = output.getvalue().splitlines()
    assert lines == [
        "Thư gửi dự thảo báo cáo và bảng tổng hợp Quý III năm 2025 (phiên bản 2): đã gửi 11 "
        "thư, chưa gửi được 1 thư (lý do ở dưới).",
        "Đã gửi báo cáo Quý II năm 2025 (phiên bản 3) đến Tỉnh ủy Thử nghiệm <p@example.vn>.",
        "Chưa gửi được báo cáo Quý II năm 2025 (phiên bản 3) đến Huyện ủy Một <u1@example.vn>: "
        "máy chủ thư từ chối người nhận",
        "Thư gửi dự thảo báo cáo và bảng tổng hợp Quý II năm 2025 (phiên bản 3): 4 thư đã gửi ở "
        "lần chạy trước, không gửi lại.",
    ]

    output.truncate(0)
    output.seek(0)
    cli._print_mail(
        [OutboxSummary(REPORT, "2025Q3", 1, not_configured="Chưa cấu hình máy chủ thư")]
    )
    assert output.getvalue() == "Chưa cấu hình máy chủ thư\n"


# --- the flows against a local SMTP server --------------------------------------------------


@pytest.fixture
def mailed(imported: Path, smtp: tuple[MailHandler, int], monkeypatch) -> Path:
    """The end-to-end workspace, its registry imported, sending through the local server."""
    monkeypatch.delenv("TONGHOP_EMAIL_BLOCK", raising=False)
    for name, value in mail_env(smtp[1]).items():
        monkeypatch.setenv(name, value)
    # Collected first, so that the reports are all these tests receive: the answers to the
    # units are tests/test_answers.py's concern.
    collect(PERIOD, str(imported))
    smtp[0].reset()
    return imported


def _logged(database_url: str) -> list[tuple]:
    with engine_for(database_url).connect() as connection:
        rows = connection.execute(
            text(
                "select about_code, recipient, version, attempts, state, error "
                "from outbox_message where kind = 'report' order by queued_at, about_code"
            )
        )
        return [tuple(row) for row in rows]


def _attachments(message: EmailMessage) -> dict[str, bytes]:
    return {part.get_filename(): part.get_content() for part in message.iter_attachments()}


def _correct_late(root: Path) -> None:
    """A corrected report from G1C1 after the first publication: version 2."""
    late = root / "inbox" / "G1C1" / "bao-cao (sửa).xlsx"
    write_contract_form(late, "G1C1", {**REPORTS["G1C1"], "news_items": "4"})
    received(late, datetime(2025, 10, 20, 8, 0))


def _reimport(root: Path, registry: str) -> None:
    (root / "registry.csv").write_text(registry, encoding="utf-8")
    assert import_registry(str(root / "registry.csv"), str(root)).problems == []


def test_each_unit_receives_its_report_and_the_workbook_once(mailed, smtp, database_url) -> None:
    handler, _ = smtp
    report = quarterly_report(PERIOD, str(mailed))

    published = report.published
    (delivered,) = report.deliveries
    assert (delivered.period, delivered.version, delivered.not_configured) == (PERIOD, 1, None)
    assert [(r.about_code, r.recipient, r.attempts) for r in delivered.sent] == [
        ("P", "vanphong@example.vn", 1),
        ("U1", "hu1@example.vn", 1),
    ]
    received_by = handler.received()
    assert {to: len(messages) for to, messages in received_by.items()} == {
        "vanphong@example.vn": 1,
        "hu1@example.vn": 1,
    }
    for address, code, name in (
        ("vanphong@example.vn", "P", "Tỉnh ủy Thử nghiệm"),
        ("hu1@example.vn", "U1", "Huyện ủy Một"),
    ):
        (message,) = received_by[address]
        assert message["From"] == "bantuyengiao@example.vn"
        assert message["Subject"] == (
            f"Dự thảo báo cáo Quý III năm 2025 của {name} và bảng tổng hợp số liệu (phiên bản 1)"
        )
        body = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
        assert body.startswith(f"Kính gửi: Ban Thường vụ {name}\n")
        docx = published.reports[code]
        workbook = published.workbook_for(code)
        assert workbook.name == (
            f"tong-hop-{PERIOD}.xlsx" if code == "P" else f"tong-hop-{PERIOD}-{code}.xlsx"
        )
        assert _attachments(message) == {
            docx.name: docx.read_bytes(),
            workbook.name: workbook.read_bytes(),
        }
    assert _logged(database_url) == [
        ("P", "vanphong@example.vn", 1, 1, "sent", None),
        ("U1", "hu1@example.vn", 1, 1, "sent", None),
    ]
    artifact = latest_artifact(f"gui-bao-cao-{PERIOD.lower()}", workspace=mailed)
    assert (
        "| Báo cáo Quý III năm 2025 (phiên bản 1) | Huyện ủy Một <hu1@example.vn> | Đã gửi | 1 |"
        in artifact
    )

    # Nothing new: neither the scheduled run nor the flow on its own sends anything again.
    handler.messages.clear()
    again = quarterly_report(PERIOD, str(mailed))
    assert again.deliveries[0].outcomes == () and again.deliveries[0].already_sent == 2
    alone = deliver_reports(PERIOD, str(mailed))
    assert (alone.version, alone.outcomes, alone.already_sent) == (1, (), 2)
    assert handler.messages == [] and len(_logged(database_url)) == 2
    assert "2 thư đã gửi ở lần chạy trước, không gửi lại." in latest_artifact(
        f"gui-bao-cao-{PERIOD.lower()}", workspace=mailed
    )


def test_a_refused_recipient_is_retried_recorded_and_fails_the_run(
    mailed, smtp, database_url
) -> None:
    handler, _ = smtp
    handler.refused = {"hu1@example.vn"}

    state = quarterly_report(PERIOD, str(mailed), return_state=True)

    assert state.is_failed()
    assert handler.rcpt_attempts["hu1@example.vn"] == 3
    assert list(handler.received()) == ["vanphong@example.vn"]
    error = state.result(raise_on_failure=False)
    assert isinstance(error, PublishedNotDelivered)
    message = str(error)
    assert message.startswith("Đã công bố kết quả tổng hợp và dự thảo báo cáo, nhưng có thư")
    assert (
        "1 thư gửi dự thảo báo cáo và bảng tổng hợp Quý III năm 2025 (phiên bản 1) chưa gửi "
        "được (đã ghi lại; chạy lại sẽ chỉ gửi các thư này):" in message
    )
    assert (
        "- Báo cáo Quý III năm 2025 (phiên bản 1), gửi đến Huyện ủy Một <hu1@example.vn>: máy "
        "chủ thư từ chối người nhận (550" in message
    )
    assert "(đã gửi thử 3 lần)" in message
    assert "Huyện ủy Một <hu1@example.vn>" in (state.message or "")
    # The publication stands.
    report = error.report
    assert report.published.workbook.exists() and report.published.reports["U1"].exists()
    failed = [row for row in _logged(database_url) if row[4] == "failed"]
    assert [row[:5] for row in failed] == [("U1", "hu1@example.vn", 1, 3, "failed")]
    assert "550" in failed[0][5]
    assert "**Chưa gửi được**" in latest_artifact(f"gui-bao-cao-{PERIOD.lower()}", workspace=mailed)

    # The address works again: a rerun sends only what did not go.
    handler.refused = set()
    handler.messages.clear()
    again = quarterly_report(PERIOD, str(mailed))
    assert [r.about_code for r in again.deliveries[0].sent] == ["U1"]
    assert again.deliveries[0].already_sent == 1
    assert list(handler.received()) == ["hu1@example.vn"]


def test_a_temporary_failure_is_retried_and_delivered(mailed, smtp, database_url) -> None:
    handler, _ = smtp
    handler.fail_data = 2

    report = quarterly_report(PERIOD, str(mailed))

    assert [(r.about_code, r.attempts, r.sent) for r in report.deliveries[0].outcomes] == [
        ("P", 3, True),
        ("U1", 1, True),
    ]
    assert handler.data_attempts == 4 and len(handler.messages) == 2
    assert [row[3:5] for row in _logged(database_url)] == [(3, "sent"), (1, "sent")]


def test_without_a_mail_server_nothing_is_sent_and_the_run_succeeds(
    mailed, smtp, database_url, monkeypatch
) -> None:
    handler, _ = smtp
    monkeypatch.delenv("TONGHOP_SMTP_HOST")

    report = quarterly_report(PERIOD, str(mailed))

    (delivered,) = report.deliveries
    folder = mailed / "outbox" / PERIOD / "thu-chua-gui"
    assert delivered.outcomes == () and delivered.not_configured == (
        "Chưa cấu hình máy chủ thư: chưa gửi 2 thư gửi dự thảo báo cáo và bảng tổng hợp Quý III "
        "năm 2025 (phiên bản 1); đã ghi 2 thư thành tệp .eml (mở bằng chương trình đọc thư để "
        f"xem đúng thư sẽ gửi, cả tệp gửi kèm) trong «{folder}». Đặt TONGHOP_SMTP_HOST hoặc "
        "TONGHOP_EMAIL_BLOCK rồi chạy lại để gửi."
    )
    # Each letter is kept as the message it would have been (tests/test_unsent_letters.py).
    assert sorted(path.parent for path in delivered.written) == [folder, folder]
    assert sorted(folder.iterdir()) == sorted(delivered.written)
    assert report.published.workbook.exists()
    assert handler.rcpt_attempts == {} and _logged(database_url) == []
    assert "Chưa cấu hình máy chủ thư" in latest_artifact(
        f"gui-bao-cao-{PERIOD.lower()}", workspace=mailed
    )

    # Once a server is configured, the next run sends what was never sent, and the files of
    # what has now gone are removed.
    monkeypatch.setenv("TONGHOP_SMTP_HOST", "127.0.0.1")
    again = quarterly_report(PERIOD, str(mailed))
    assert len(again.deliveries[0].sent) == 2 and len(handler.messages) == 2
    assert again.deliveries[0].written == () and list(folder.iterdir()) == []


def test_a_new_version_is_sent_again(mailed, smtp) -> None:
    handler, _ = smtp
    quarterly_report(PERIOD, str(mailed))
    handler.messages.clear()

    _correct_late(mailed)
    second = quarterly_report(PERIOD, str(mailed))

    assert second.published.version == 2
    received_by = handler.received("report")
    assert sorted(received_by) == ["hu1@example.vn", "vanphong@example.vn"]
    (message,) = received_by["hu1@example.vn"]
    assert message["Subject"].endswith("(phiên bản 2)")
    assert sorted(_attachments(message)) == [
        f"bao-cao-{PERIOD}-U1-v2.docx",
        f"tong-hop-{PERIOD}-U1-v2.xlsx",
    ]
    assert _attachments(message)[f"tong-hop-{PERIOD}-U1-v2.xlsx"] == (
        second.published.workbook_for("U1").read_bytes()
    )


def test_a_missing_or_changed_address(mailed, smtp, database_url) -> None:
    handler, _ = smtp
    _reimport(mailed, REGISTRY.replace("hu1@example.vn", ""))

    report = quarterly_report(PERIOD, str(mailed))

    # Without an address of its own, U1's report reaches it through the province (SPEC §1).
    assert [(r.about_code, r.recipient) for r in report.deliveries[0].sent] == [
        ("P", "vanphong@example.vn"),
        ("U1", "vanphong@example.vn"),
    ]
    forwarded = [
        message
        for message in handler.received()["vanphong@example.vn"]
        if "Huyện ủy Một" in message["Subject"]
    ]
    (message,) = forwarded
    body = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "đề nghị chuyển đến Huyện ủy Một." in body
    assert sorted(_attachments(message)) == [
        f"bao-cao-{PERIOD}-U1.docx",
        f"tong-hop-{PERIOD}-U1.xlsx",
    ]

    # The address is added: the unit is sent the version at its own; a changed one again.
    handler.messages.clear()
    _reimport(mailed, REGISTRY)
    assert [r.recipient for r in quarterly_report(PERIOD, str(mailed)).deliveries[0].sent] == [
        "hu1@example.vn"
    ]
    _reimport(mailed, REGISTRY.replace("hu1@example.vn", "vanthu.hu1@example.vn"))
    report = quarterly_report(PERIOD, str(mailed))
    assert [r.recipient for r in report.deliveries[0].sent] == ["vanthu.hu1@example.vn"]
    assert sorted(handler.received()) == ["hu1@example.vn", "vanthu.hu1@example.vn"]


def test_a_unit_no_one_up_the_line_can_receive_fails_the_run_with_why(
    mailed, smtp, database_url
) -> None:
    handler, _ = smtp
    _reimport(mailed, REGISTRY.replace("hu1@example.vn", "").replace("vanphong@example.vn", ""))

    state = quarterly_report(PERIOD, str(mailed), return_state=True)

    # Never silently skipped: a failure with its reason.
    assert state.is_failed()
    message = str(state.result(raise_on_failure=False))
    assert (
        "- Báo cáo Quý III năm 2025 (phiên bản 1), gửi đến Huyện ủy Một (mã U1): Huyện ủy Một "
        "(mã U1) và các cấp ủy cấp trên của đơn vị này đều chưa có địa chỉ" in message
    )
    assert handler.messages == []
    assert ("U1", None, 1, 0, "failed") in [row[:5] for row in _logged(database_url)]


def test_the_command_line_prints_each_delivery_and_fails_on_a_failure(
    imported, smtp, database_url
) -> None:
    handler, port = smtp
    handler.refused = {"hu1@example.vn"}
    env = mail_cli_env(port, database_url)
    command = [sys.executable, "-m", "tonghop_flows.cli", "run", "--period", PERIOD]
    command += ["--workspace", str(imported)]

    failed = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    output = failed.stdout + failed.stderr
    assert failed.returncode == 1, output
    assert "nhận 5 tệp mới" in failed.stdout and "Bảng tổng hợp (phiên bản 1)" in failed.stdout
    assert (
        "Đã gửi báo cáo Quý III năm 2025 (phiên bản 1) đến Tỉnh ủy Thử nghiệm "
        "<vanphong@example.vn>." in failed.stdout
    )
    assert (
        "Chưa gửi được báo cáo Quý III năm 2025 (phiên bản 1) đến Huyện ủy Một "
        "<hu1@example.vn>: máy chủ thư từ chối người nhận" in failed.stdout
    )
    assert "Lỗi: Đã công bố kết quả tổng hợp và dự thảo báo cáo" in failed.stdout
    assert failed.stdout.index("nhận 5 tệp mới") < failed.stdout.index("Lỗi:")
    assert "Traceback" not in output, output

    handler.refused = set()
    again = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "đến Huyện ủy Một <hu1@example.vn>." in again.stdout
    assert "1 thư đã gửi ở lần chạy trước, không gửi lại." in again.stdout

    quiet = {key: value for key, value in env.items() if key != "TONGHOP_SMTP_HOST"}
    _correct_late(imported)
    unsent = subprocess.run(command, capture_output=True, text=True, env=quiet, timeout=600)
    assert unsent.returncode == 0, unsent.stdout + unsent.stderr
    assert (
        "Chưa cấu hình máy chủ thư: chưa gửi 2 thư gửi dự thảo báo cáo và bảng tổng hợp Quý III "
        "năm 2025 (phiên bản 2)" in unsent.stdout
    )


def test_a_published_file_gone_from_disk_is_a_failure_with_its_name(
    mailed, smtp, database_url, monkeypatch
) -> None:
    handler, _ = smtp
    monkeypatch.delenv("TONGHOP_SMTP_HOST")
    report = quarterly_report(PERIOD, str(mailed))
    report.published.workbook.unlink()
    report.published.workbook_for("U1").unlink()
    monkeypatch.setenv("TONGHOP_SMTP_HOST", "127.0.0.1")

    state = deliver_reports(PERIOD, str(mailed), return_state=True)

    assert state.is_failed()
    error = state.result(raise_on_failure=False)
    assert isinstance(error, MailNotSent)
    assert [(r.about_code, r.attempts, r.state) for r in error.summary.outcomes] == [
        ("P", 0, "failed"),
        ("U1", 0, "failed"),
    ]
    assert f"không đọc được tệp gửi kèm «{report.published.workbook}»" in str(error)
    assert handler.rcpt_attempts == {} and len(_logged(database_url)) == 2
