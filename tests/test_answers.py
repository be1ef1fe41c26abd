"""Answers after a collection: an acknowledgement for every received version (who receives it,
in what words, with which attachment), an answer to every e-mail that could not be taken, and
the flow step against a real SMTP server on 127.0.0.1 reading the messages as received — sent
once across runs, again for a new version, and never failing the collection when a letter does
not go."""

from __future__ import annotations

import csv
import io
import os
import uuid
from datetime import date, datetime
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import text

from tests.conftest import MailHandler, mail_env
from tonghop.answers import (
    ACKNOWLEDGEMENT,
    MAIL_REFUSAL,
    ReceivedVersion,
    RefusedMessage,
    acknowledgement_fingerprint,
    build_acknowledgements,
    build_refusal_answers,
    received_versions,
    refused_messages,
)
from tonghop.feedback import EarlierFile
from tonghop.forms import write_form
from tonghop.periods import Period
from tonghop.registry import Unit, read_registry
from tonghop.storage import engine_for, transaction
from tonghop_flows.answer import answer
from tonghop_flows.collect import collect
from tonghop_flows.import_registry import import_registry

PERIOD = Period(2025, 3)
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
RECEIVED = datetime(2025, 10, 5, 8, 30)
LATE = datetime(2025, 10, 20, 9, 0)
BEFORE_DEADLINE = date(2025, 10, 7)
AFTER_DEADLINE = date(2025, 10, 25)
OUTBOX = Path("/tmp/outbox-not-written")
REGISTRY = """code,name,parent_code,kind,sector,valid_from,valid_to,email
P,Tỉnh ủy Thử nghiệm,,province,,,,vanphong@example.vn
U1,Huyện ủy Một,P,upper,,,,hu1@example.vn
G1,Đảng bộ Xã Một,U1,grassroots_committee,commune,,,
G1C1,Chi bộ Thôn Một,G1,cell,,,,thonmot@example.vn
G1C2,Chi bộ Thôn Hai,G1,cell,,,,
G2,Chi bộ Trường Tiểu học,U1,grassroots_cell,agency,,,truongth@example.vn
"""
GOOD_LEAF = {"members": 10, "members_attended": 9, "members_absent": 1}
# G1C1 accepted, G1C2 warned (a member unaccounted for: R4w), G2 rejected (R4: 12 of 10).
REPORTS = {
    "U1": {"news_items": 3},
    "G1": {"sessions_in_person": 1, "sessions_total": 1},
    "G1C1": GOOD_LEAF,
    "G1C2": {"members": 10, "members_attended": 8, "members_absent": 1},
    "G2": {"members": 10, "members_attended": 12},
}
# Who sent what by e-mail (the rest came through the folder inbox): G1C1's secretary from a
# personal address, G2 from its own address written in capitals.
SENDERS = {"G1C1": "bithu.thonmot@example.vn", "G2": "TruongTH@Example.VN"}


def _units() -> list[Unit]:
    """REGISTRY's units, as the registry reads them."""
    rows = csv.DictReader(io.StringIO(REGISTRY))
    return [
        Unit(
            row["code"],
            row["name"],
            row["parent_code"] or None,
            row["kind"],
            row["sector"] or None,
            None,
            None,
            row["email"] or None,
        )
        for row in rows
    ]


def version(unit_code: str, outcome: str, number: int = 1, **changes: object) -> ReceivedVersion:
    problems = {
        "accepted": (),
        "accepted_with_warnings": (
            {
                "rule": "R4w",
                "severity": "warning",
                "indicator_code": "members_attended",
                "row_number": 17,
                "message": "Số đảng viên tham gia học tập cộng số vắng (9) ít hơn số đảng viên "
                "phải học tập (10): còn đảng viên chưa được thống kê. Đề nghị kiểm tra lại.",
            },
        ),
        "rejected": (
            {
                "rule": "R4",
                "severity": "error",
                "indicator_code": "members_attended",
                "row_number": 17,
                "message": "Số đảng viên tham gia học tập cộng số vắng (12) lớn hơn số đảng viên "
                "phải học tập, tức tổng số trừ số được miễn (10).",
            },
        ),
    }[outcome]
    fields = {
        "id": f"{unit_code}-{number}",
        "unit_code": unit_code,
        "period": PERIOD,
        "file_name": "bao-cao.xlsx",
        "received_at": RECEIVED,
        "outcome": outcome,
        "sender": None,
        "processed_at": RECEIVED.replace(hour=20),
        "arrival_number": number,
        "errors": int(outcome == "rejected"),
        "warnings": int(outcome == "accepted_with_warnings"),
        "first_accepted_at": None if outcome == "rejected" else RECEIVED,
        "problems": problems,
    }
    return ReceivedVersion(**(fields | changes))


def acknowledge(*versions: ReceivedVersion, today: date = BEFORE_DEADLINE):
    return build_acknowledgements(versions, _units(), 10, today, OUTBOX, "bantuyengiao@example.vn")


# --- the letters, no database --------------------------------------------------------------


def test_an_accepted_version_is_acknowledged_without_attachment() -> None:
    (letter,) = acknowledge(version("G1C1", "accepted", sender="bithu.thonmot@example.vn"))
    assert letter.kind == ACKNOWLEDGEMENT
    assert (letter.recipient.code, letter.recipient.email) == ("G1C1", "thonmot@example.vn")
    assert letter.cc == ("bithu.thonmot@example.vn",)
    assert letter.subject == (
        "Kết quả tiếp nhận báo cáo Quý III năm 2025 — Chi bộ Thôn Một (lần 1): đã tiếp nhận"
    )
    assert letter.attachments == ()
    body = letter.body
    assert body.startswith("Kính gửi: Cấp ủy Chi bộ Thôn Một (Đảng bộ Xã Một)\n")
    assert (
        "Hệ thống Tổng hợp đã nhận báo cáo Quý III năm 2025 của Chi bộ Thôn Một — Đảng bộ Xã Một "
        "(mã G1C1):" in body
    )
    assert "- Tệp: «bao-cao.xlsx» (lần gửi thứ 1 của đơn vị trong kỳ)." in body
    assert (
        "- Thời điểm nhận: 05/10/2025 08:30, qua thư điện tử gửi từ địa chỉ "
        "bithu.thonmot@example.vn." in body
    )
    assert "- Kết quả: đã tiếp nhận." in body
    assert (
        "- Thời hạn: báo cáo được nhận trong hạn (hạn gửi là ngày 10/10/2025); đơn vị được ghi "
        "nhận gửi báo cáo đúng hạn." in body
    )
    assert "Báo cáo đã được tiếp nhận; đơn vị không cần gửi lại." in body
    assert "cần sửa" not in body and "gửi kèm" not in body
    assert body.rstrip().endswith(
        "Trân trọng./.\n\nBan Tuyên giáo Tỉnh ủy Thử nghiệm\nHệ thống Tổng hợp (thư tự động)"
    )


def test_a_warned_version_says_nothing_needs_resending_and_carries_its_feedback() -> None:
    (letter,) = acknowledge(version("G1C2", "accepted_with_warnings", 2))
    # G1C2 and G1 have no address: it reaches U1, which is asked to pass it on
    assert (letter.recipient.code, letter.recipient.email) == ("U1", "hu1@example.vn")
    assert letter.cc == ()  # it came through the folder inbox
    assert letter.subject.endswith("Chi bộ Thôn Hai (lần 2): tiếp nhận, có cảnh báo")
    assert letter.attachments == (OUTBOX / "2025Q3" / "phan-hoi" / "G1C2-2025Q3-lan-2.xlsx",)
    body = letter.body
    assert body.startswith("Kính gửi: Cấp ủy Chi bộ Thôn Hai (Đảng bộ Xã Một)\n")
    assert "- Thời điểm nhận: 05/10/2025 08:30, qua thư mục nộp báo cáo của đơn vị." in body
    assert "- Kết quả: tiếp nhận, có cảnh báo (1 cảnh báo)." in body
    assert "Các nội dung cần kiểm tra lại:\n1. Dòng 17, chỉ tiêu «" in body
    assert "còn đảng viên chưa được thống kê. Đề nghị: kiểm tra lại số đảng viên" in body
    assert "Báo cáo đã được tiếp nhận; đơn vị không cần gửi lại." in body
    assert "Chỉ khi kiểm tra thấy số liệu thực sự sai" in body
    assert "bị trả lại" not in body and "chậm nhất ngày" not in body
    assert "Tệp phản hồi «G1C2-2025Q3-lan-2.xlsx» gửi kèm" in body
    assert (
        "Do Chi bộ Thôn Hai chưa có địa chỉ thư điện tử trong danh sách đơn vị, thư này được "
        "gửi đến Huyện ủy Một là cấp ủy cấp trên; đề nghị chuyển đến Chi bộ Thôn Hai." in body
    )


def test_a_rejected_version_lists_what_to_fix_and_how_to_resend() -> None:
    (letter,) = acknowledge(version("G2", "rejected", sender="TruongTH@Example.VN"))
    assert letter.recipient.email == "truongth@example.vn"
    assert letter.cc == ()  # the unit's own address, whatever its case
    assert letter.subject.endswith("Chi bộ Trường Tiểu học (lần 1): bị trả lại")
    assert letter.attachments == (OUTBOX / "2025Q3" / "phan-hoi" / "G2-2025Q3-lan-1.xlsx",)
    body = letter.body
    assert body.startswith("Kính gửi: Cấp ủy Chi bộ Trường Tiểu học (Huyện ủy Một)\n")
    assert "- Kết quả: bị trả lại, chưa được tiếp nhận (tệp có 1 lỗi cần sửa)." in body
    assert "- Thời hạn: tệp được nhận trong hạn gửi báo cáo (hạn gửi là ngày 10/10/2025)." in body
    assert "Đơn vị chưa có báo cáo Quý III năm 2025 nào được tiếp nhận." in body
    assert "Các nội dung cần sửa:\n1. Dòng 17, chỉ tiêu «" in body
    assert (
        "Cách sửa: ghi lại các số sao cho số đảng viên tham gia học tập cộng số vắng không lớn "
        "hơn tổng số đảng viên trừ số được miễn." in body
    )
    assert (
        "rồi gửi lại bằng cách trả lời thư này và đính kèm tệp đã sửa (hoặc gửi đến địa chỉ "
        "bantuyengiao@example.vn)." in body
    )
    assert "giữ nguyên định dạng .xlsx" in body and "trang «BaoCao»" in body
    assert "ô C2" in body and "ô C3" in body
    assert "Thời hạn gửi lại: chậm nhất ngày 10/10/2025." in body
    assert "Do " not in body  # the unit's own address: nothing to pass on


def test_a_rejected_version_keeps_the_earlier_accepted_one_counting() -> None:
    earlier = EarlierFile("bao-cao-dau.xlsx", datetime(2025, 10, 2, 7, 0))
    (letter,) = acknowledge(
        version("G2", "rejected", 2, counting=earlier, received_at=LATE),
        today=AFTER_DEADLINE,
    )
    body = letter.body
    assert (
        "Báo cáo đơn vị gửi trước đó (tệp «bao-cao-dau.xlsx», nhận lúc 02/10/2025 07:00) đã "
        "được tiếp nhận và vẫn được dùng để tổng hợp; tệp bị trả lại lần này không thay thế báo "
        "cáo đó." in body
    )
    assert "- Thời hạn: tệp được nhận sau hạn gửi báo cáo (hạn gửi là ngày 10/10/2025)." in body
    assert "Hạn gửi báo cáo (ngày 10/10/2025) đã qua; đề nghị gửi lại sớm nhất có thể." in body
    assert "chưa có báo cáo" not in body


@pytest.mark.parametrize(
    ("received_at", "first_accepted_at", "expected"),
    [
        (
            RECEIVED,
            RECEIVED,
            "- Thời hạn: báo cáo được nhận trong hạn (hạn gửi là ngày 10/10/2025); đơn vị được "
            "ghi nhận gửi báo cáo đúng hạn.",
        ),
        (  # the whole deadline day counts
            datetime(2025, 10, 10, 23, 59),
            datetime(2025, 10, 10, 23, 59),
            "- Thời hạn: báo cáo được nhận trong hạn (hạn gửi là ngày 10/10/2025); đơn vị được "
            "ghi nhận gửi báo cáo đúng hạn.",
        ),
        (
            datetime(2025, 10, 11, 0, 0),
            datetime(2025, 10, 11, 0, 0),
            "- Thời hạn: báo cáo được nhận sau hạn gửi (ngày 10/10/2025); đơn vị được ghi nhận "
            "gửi báo cáo chậm hạn.",
        ),
        (
            LATE,
            RECEIVED,
            "- Thời hạn: tệp này được nhận sau hạn gửi (ngày 10/10/2025); đơn vị vẫn được ghi "
            "nhận gửi báo cáo đúng hạn vì báo cáo gửi trước đó đã được tiếp nhận trong hạn.",
        ),
    ],
    ids=["in-time", "on-the-day", "late", "late-correction-of-a-timely-report"],
)
def test_on_time_or_late(received_at, first_accepted_at, expected: str) -> None:
    accepted = version(
        "G1C1", "accepted", received_at=received_at, first_accepted_at=first_accepted_at
    )
    (letter,) = acknowledge(accepted)
    assert expected in letter.body.splitlines()


def test_one_letter_per_version_whatever_the_address() -> None:
    first, second = acknowledge(version("G2", "rejected"), version("G2", "accepted", 2))
    assert first.fingerprint == acknowledgement_fingerprint("G2-1") != second.fingerprint
    # a new address in the registry does not make the same version's answer a new letter
    moved = [
        Unit(u.code, u.name, u.parent_code, u.kind, u.sector, None, None, "moi@example.vn")
        for u in _units()
    ]
    (again,) = build_acknowledgements(
        [version("G2", "rejected")], moved, 10, BEFORE_DEADLINE, OUTBOX, "x@example.vn"
    )
    assert again.fingerprint == first.fingerprint and again.recipient.email == "moi@example.vn"


def test_with_no_address_up_the_line_the_answer_is_kept_undeliverable() -> None:
    units = [
        Unit(u.code, u.name, u.parent_code, u.kind, u.sector, None, None, None) for u in _units()
    ]
    (letter,) = build_acknowledgements(
        [version("G1C2", "accepted")], units, 10, BEFORE_DEADLINE, OUTBOX, "x@example.vn"
    )
    assert not letter.deliverable
    assert "Chi bộ Thôn Hai (mã G1C2) và các cấp ủy cấp trên" in letter.undeliverable
    # but a file that came by e-mail is answered where it came from
    (mailed,) = build_acknowledgements(
        [version("G1C2", "accepted", sender="ai@example.vn")],
        units,
        10,
        BEFORE_DEADLINE,
        OUTBOX,
        "x@example.vn",
    )
    assert mailed.recipient.email == "ai@example.vn" and mailed.cc == ()


def refused(sender: str, refusal: str, subject: str | None = "Báo cáo quý III") -> RefusedMessage:
    return RefusedMessage(
        id=uuid.uuid4().hex,
        sha256=uuid.uuid4().hex * 2,
        period=PERIOD,
        sender=sender,
        subject=subject,
        received_at=datetime(2025, 10, 6, 14, 5),
        disposition="stranger",
        refusal=refusal,
    )


def test_a_refused_email_is_answered_with_the_reason_and_how_to_send() -> None:
    reason = "Địa chỉ người gửi không phải địa chỉ của Chi bộ Thôn Một hay cấp ủy cấp trên."
    stranger, known, untitled = build_refusal_answers(
        [
            refused("la@example.com", reason),
            refused("TruongTH@example.vn", "Tệp «a.xls» là bảng tính Excel cũ."),
            refused("la@example.com", reason, subject="  \n "),
        ],
        _units(),
        "bantuyengiao@example.vn",
        contact="đồng chí Lan, điện thoại 0208 3855 123",
    )
    assert stranger.kind == MAIL_REFUSAL and stranger.recipient.email == "la@example.com"
    assert stranger.subject == "Trả lời: Báo cáo quý III"
    assert stranger.body.startswith("Kính gửi: đồng chí\n")
    assert (
        "Hệ thống Tổng hợp đã nhận thư của đồng chí gửi lúc 06/10/2025 14:05, tiêu đề «Báo cáo "
        "quý III», nhưng chưa tiếp nhận được báo cáo trong thư:\n\n" + reason in stranger.body
    )
    assert "đến địa chỉ bantuyengiao@example.vn" in stranger.body
    assert "Khi cần hỗ trợ, đề nghị liên hệ đồng chí Lan, điện thoại 0208 3855 123." in (
        stranger.body
    )
    assert stranger.attachments == () and stranger.cc == ()
    # a registry address is greeted as its unit
    assert known.body.startswith("Kính gửi: Cấp ủy Chi bộ Trường Tiểu học\n")
    assert known.recipient.name == "Chi bộ Trường Tiểu học"
    assert untitled.subject == "Trả lời: thư gửi lúc 06/10/2025 14:05"
    assert len({stranger.fingerprint, known.fingerprint, untitled.fingerprint}) == 3


# --- the queries -------------------------------------------------------------------------------


def _submission(unit: str, number: int, outcome: str, received: datetime, **extra) -> dict:
    return {
        "id": f"{unit}-{number}",
        "unit_code": unit,
        "period": str(PERIOD),
        "file_name": f"{unit.lower()}-{number}.xlsx",
        "raw_file_name": None,
        "sha256": uuid.uuid4().hex * 2,
        "size_bytes": 100,
        "received_at": received,
        # versions of different units interleave; a unit's order is its own
        "arrival": extra.pop("arrival"),
        "archive_path": "",
        "declared_unit_code": unit,
        "declared_period": str(PERIOD),
        "outcome": outcome,
        "error_count": int(outcome == "rejected"),
        "warning_count": int(outcome == "accepted_with_warnings"),
        "processed_at": received,
        "sender": extra.pop("sender", None),
    }


def _insert(database_url: str, table: str, rows: list[dict]) -> None:
    columns = list(rows[0])
    statement = text(
        f"insert into {table} ({', '.join(columns)}) values "
        f"({', '.join(':' + column for column in columns)})"
    )
    with transaction(database_url) as connection:
        connection.execute(statement, rows)


def test_a_file_answered_after_the_unit_sent_another_asks_for_nothing() -> None:
    later = EarlierFile("bao-cao (sửa).xlsx", datetime(2025, 10, 6, 9, 15))
    (letter,) = acknowledge(version("G2", "rejected", later=later))
    body = letter.body
    assert "- Kết quả: bị trả lại, chưa được tiếp nhận (tệp có 1 lỗi cần sửa)." in body
    assert (
        "Sau tệp này, đơn vị đã gửi tệp «bao-cao (sửa).xlsx» (lần 2, nhận lúc 06/10/2025 "
        "09:15); kết quả của lần gửi đó được báo trong thư riêng. Tệp này không cần gửi lại."
        in body
    )
    # what was wrong is still said; neither a claim about what counts nor a request to resend
    assert "Các nội dung cần sửa:\n1. Dòng 17" in body
    assert "chưa có báo cáo" not in body and "gửi lại bằng cách" not in body
    assert "Thời hạn gửi lại" not in body


def test_the_versions_of_a_period_with_their_problems(database_url: str) -> None:
    engine_for(database_url)  # the schema in place
    day = datetime(2025, 10, 1, 8, 0)
    _insert(
        database_url,
        "submission",
        [
            _submission("A", 1, "accepted", day.replace(day=2), arrival=1),
            _submission("B", 1, "rejected", day.replace(day=3), arrival=2, sender="b@x.vn"),
            _submission("A", 2, "rejected", day.replace(day=4), arrival=3),
            _submission("A", 3, "accepted_with_warnings", day.replace(day=12), arrival=4),
            _submission("A", 4, "rejected", day.replace(day=13), arrival=5),
            {**_submission("A", 9, "accepted", day, arrival=6), "period": "2025Q2"},
        ],
    )
    _insert(
        database_url,
        "problem",
        [
            {
                "submission_id": "A-2",
                "seq": seq,
                "rule": rule,
                "severity": "error",
                "indicator_code": None,
                "row_number": None,
                "message": rule,
            }
            for seq, rule in ((1, "F5"), (2, "V1"))
        ],
    )
    with transaction(database_url) as connection:
        found = received_versions(connection, PERIOD)
    assert [(v.id, v.arrival_number, v.outcome, v.sender) for v in found] == [
        ("A-1", 1, "accepted", None),
        ("A-2", 2, "rejected", None),
        ("A-3", 3, "accepted_with_warnings", None),
        ("A-4", 4, "rejected", None),
        ("B-1", 1, "rejected", "b@x.vn"),
    ]
    by_id = {v.id: v for v in found}
    assert [p["rule"] for p in by_id["A-2"].problems] == ["F5", "V1"]
    assert by_id["A-1"].problems == () and by_id["A-1"].counting is None
    # a rejected version is told of the latest accepted one before it, which still counts
    assert by_id["A-2"].counting == EarlierFile("a-1.xlsx", day.replace(day=2))
    assert by_id["A-4"].counting == EarlierFile("a-3.xlsx", day.replace(day=12))
    assert by_id["B-1"].counting is None
    # timeliness is judged on the unit's first accepted version
    assert by_id["A-3"].first_accepted_at == day.replace(day=2)
    assert by_id["B-1"].first_accepted_at is None
    assert by_id["A-3"].received_at == day.replace(day=12)
    # each version knows the unit's next file, if one came since; the last knows none
    assert by_id["A-2"].later == EarlierFile("a-3.xlsx", day.replace(day=12))
    assert by_id["A-4"].later is None and by_id["B-1"].later is None


def test_refused_messages_owed_an_answer(database_url: str) -> None:
    engine_for(database_url)
    base = {
        "period": str(PERIOD),
        "message_id": None,
        "subject": "Báo cáo",
        "received_at": datetime(2025, 10, 6, 14, 5),
        "size_bytes": 10,
        "archive_path": "",
        "form_count": 0,
        "processed_at": datetime(2025, 10, 6, 20, 0),
    }
    rows = [
        ("stranger", "la@example.com", "Không phải địa chỉ của đơn vị."),
        ("no_form", "hu1@example.vn", "Thư không có tệp báo cáo."),
        ("automatic", "mailer-daemon@example.vn", "never answered"),  # no mail loops
        ("forms", "hu1@example.vn", None),  # nothing to say
        ("stranger", None, "no one to answer"),
    ]
    _insert(
        database_url,
        "mail_message",
        [
            base
            | {
                "id": f"m{index}",
                "sha256": f"{index}" * 64,
                "disposition": disposition,
                "sender": sender,
                "refusal": refusal,
            }
            for index, (disposition, sender, refusal) in enumerate(rows)
        ],
    )
    with transaction(database_url) as connection:
        found = refused_messages(connection, PERIOD)
        other = refused_messages(connection, Period(2025, 4))
    assert [(m.id, m.sender, m.disposition) for m in found] == [
        ("m0", "la@example.com", "stranger"),
        ("m1", "hu1@example.vn", "no_form"),
    ]
    assert other == []


# --- the flow, against a local SMTP server ---------------------------------------------------


def _write_report(
    root: Path, units: dict[str, Unit], code: str, values: dict, name: str, at: datetime
) -> None:
    has_children = any(unit.parent_code == code for unit in units.values())
    path = root / "inbox" / code / name
    write_form(path, units[code], PERIOD, has_children, values=values)
    stamp = at.replace(tzinfo=ZONE).timestamp()
    os.utime(path, (stamp, stamp))


def _mark_mailed(database_url: str, senders: dict[str, str]) -> None:
    """Record the sender of the units' files as the mailbox does for a file that came by
    e-mail."""
    with transaction(database_url) as connection:
        for code, sender in senders.items():
            connection.execute(
                text("update submission set sender = :sender where unit_code = :code"),
                {"sender": sender, "code": code},
            )


def prepare(root: Path, database_url: str) -> dict[str, Unit]:
    """Registry imported, REPORTS received and collected, SENDERS' files marked as mailed, and
    a stranger's message refused (the mailbox's part, done here by hand)."""
    (root / "registry.csv").write_text(REGISTRY, encoding="utf-8")
    assert import_registry(str(root / "registry.csv"), str(root)).problems == []
    units, _ = read_registry(root / "registry.csv")
    by_code = {unit.code: unit for unit in units}
    for code, values in REPORTS.items():
        _write_report(root, by_code, code, values, "bao-cao.xlsx", RECEIVED)
    collected = collect(str(PERIOD), str(root))
    assert (collected.received, collected.warned, collected.rejected) == (5, 1, 1)
    # the collection answers at once; without a mail server nothing is recorded as sent
    assert [len(summary.sent) for summary in collected.answers] == [0, 0]
    _mark_mailed(database_url, SENDERS)
    _insert(
        database_url,
        "mail_message",
        [
            {
                "id": "thu-la",
                "sha256": "a" * 64,
                "period": str(PERIOD),
                "message_id": "<1@example.com>",
                "sender": "la@example.com",
                "subject": "Báo cáo của Chi bộ Thôn Một",
                "received_at": datetime(2025, 10, 6, 14, 5),
                "size_bytes": 2048,
                "archive_path": "",
                "disposition": "stranger",
                "form_count": 1,
                "refusal": "Địa chỉ la@example.com không phải địa chỉ của Chi bộ Thôn Một (mã "
                "G1C1) hay của cấp ủy cấp trên trong danh sách đơn vị, nên báo cáo không được "
                "tiếp nhận: không ai được báo cáo thay đơn vị khác.",
                "processed_at": datetime(2025, 10, 6, 20, 0),
            }
        ],
    )
    return by_code


@pytest.fixture
def workspace(tmp_path, database_url, smtp, monkeypatch, prefect_server) -> Path:
    """PREPARED, its answers not sent yet: the collection found no mail server and wrote them
    as files; the server is configured from here on."""
    monkeypatch.setenv("TONGHOP_DATABASE_URL", database_url)
    monkeypatch.setenv("TONGHOP_READ_WORKERS", "1")
    monkeypatch.delenv("TONGHOP_EMAIL_BLOCK", raising=False)
    settings = mail_env(smtp[1])
    for name, value in settings.items():
        if name != "TONGHOP_SMTP_HOST":
            monkeypatch.setenv(name, value)
    monkeypatch.delenv("TONGHOP_SMTP_HOST", raising=False)
    prepare(tmp_path, database_url)
    monkeypatch.setenv("TONGHOP_SMTP_HOST", settings["TONGHOP_SMTP_HOST"])
    return tmp_path


def body_of(message: EmailMessage) -> str:
    """The text as the reader sees it (lines travel as CRLF)."""
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def attachments_of(message: EmailMessage) -> dict[str, bytes]:
    return {part.get_filename(): part.get_content() for part in message.iter_attachments()}


def acknowledgements_by_unit(handler: MailHandler) -> dict[str, tuple[list[str], EmailMessage]]:
    """Each acknowledgement received, by the unit its subject names."""
    names = {unit.name: unit.code for unit in _units()}
    found = {}
    for recipients, message in handler.messages:
        subject = message["Subject"]
        if subject.startswith("Kết quả tiếp nhận báo cáo"):
            name = subject.split(" — ", 1)[1].split(" (lần ", 1)[0]
            assert names[name] not in found, subject  # one each
            found[names[name]] = (recipients, message)
    return found


def test_every_version_is_answered_once_and_a_new_one_again(
    workspace: Path, smtp: tuple[MailHandler, int], database_url: str
) -> None:
    handler, _ = smtp
    unsent = workspace / "outbox" / str(PERIOD) / "thu-chua-gui"
    assert len(list(unsent.glob("bao-nhan-*.eml"))) == 5  # what the collection could not send
    acknowledged, refusals = answer(str(PERIOD), str(workspace))

    assert len(acknowledged.sent) == 5 and not acknowledged.failed
    assert list(unsent.glob("bao-nhan-*.eml")) == []  # sent now: no file says otherwise
    assert [outcome.recipient for outcome in refusals.sent] == ["la@example.com"]
    received = acknowledgements_by_unit(handler)
    assert set(received) == set(REPORTS)
    expected = {
        # unit: (envelope recipients, Cc, outcome words, attachment)
        "U1": (["hu1@example.vn"], None, "đã tiếp nhận", None),
        "G1": (["hu1@example.vn"], None, "đã tiếp nhận", None),
        "G1C1": (
            ["thonmot@example.vn", "bithu.thonmot@example.vn"],
            "bithu.thonmot@example.vn",
            "đã tiếp nhận",
            None,
        ),
        "G1C2": (["hu1@example.vn"], None, "tiếp nhận, có cảnh báo", "G1C2-2025Q3-lan-1.xlsx"),
        "G2": (["truongth@example.vn"], None, "bị trả lại", "G2-2025Q3-lan-1.xlsx"),
    }
    feedback = workspace / "outbox" / str(PERIOD) / "phan-hoi"
    for code, (recipients, cc, words, attached) in expected.items():
        envelope, message = received[code]
        assert sorted(envelope) == sorted(recipients), code
        assert message["Cc"] == cc, code
        assert message["Subject"].endswith(f"(lần 1): {words}"), code
        assert message["From"] == "bantuyengiao@example.vn"
        assert message["Auto-Submitted"] == "auto-generated"
        body = body_of(message)
        assert f"- Kết quả: {words}" in body, code
        assert "- Thời hạn: " in body and "ngày 10/10/2025" in body
        files = attachments_of(message)
        if attached is None:
            assert files == {}, code
        else:
            assert files == {attached: (feedback / attached).read_bytes()}, code
    assert sorted(path.name for path in feedback.iterdir()) == [
        "G1C2-2025Q3-lan-1.xlsx",
        "G2-2025Q3-lan-1.xlsx",
    ]
    # the rejected unit reads its problem in plain words, in the letter and its workbook
    g2 = body_of(received["G2"][1])
    assert "Các nội dung cần sửa:\n1. Dòng " in g2 and "Cách sửa: ghi lại các số" in g2
    assert "(lần gửi thứ 1 của đơn vị trong kỳ)" in g2
    assert "qua thư điện tử gửi từ địa chỉ TruongTH@Example.VN" in g2
    sheet = openpyxl.load_workbook(feedback / "G2-2025Q3-lan-1.xlsx").active
    cells = [cell for row in sheet.iter_rows(values_only=True) for cell in row if cell]
    assert "Chi bộ Trường Tiểu học — Huyện ủy Một (mã G2)" in cells and "R4" in cells
    g1c2 = body_of(received["G1C2"][1])
    assert "Báo cáo đã được tiếp nhận; đơn vị không cần gửi lại." in g1c2
    assert "đề nghị chuyển đến Chi bộ Thôn Hai" in g1c2
    (stranger,) = handler.received()["la@example.com"]
    assert stranger["Subject"] == "Trả lời: Báo cáo của Chi bộ Thôn Một"
    assert "không ai được báo cáo thay đơn vị khác." in body_of(stranger)

    # a second run sends nothing again
    handler.messages.clear()
    acknowledged, refusals = answer(str(PERIOD), str(workspace))
    assert handler.messages == []
    assert (acknowledged.outcomes, acknowledged.already_sent) == ((), 5)
    assert (refusals.outcomes, refusals.already_sent) == ((), 1)

    # G2 sends a corrected file after the deadline: that version, and only it, is answered
    units = {unit.code: unit for unit in _units()}
    _write_report(workspace, units, "G2", GOOD_LEAF, "bao-cao-sua.xlsx", LATE)
    collected = collect(str(PERIOD), str(workspace))  # which answers it right away
    assert collected.received == 1
    acknowledged, refusals = collected.answers
    assert [outcome.recipient for outcome in acknowledged.sent] == ["truongth@example.vn"]
    assert (refusals.outcomes, refusals.already_sent) == ((), 1)
    assert acknowledged.already_sent == 5
    ((envelope, message),) = handler.messages
    assert message["Subject"] == (
        "Kết quả tiếp nhận báo cáo Quý III năm 2025 — Chi bộ Trường Tiểu học (lần 2): đã tiếp nhận"
    )
    body = body_of(message)
    assert "- Tệp: «bao-cao-sua.xlsx» (lần gửi thứ 2 của đơn vị trong kỳ)." in body
    assert "- Thời điểm nhận: 20/10/2025 09:00, qua thư mục nộp báo cáo của đơn vị." in body
    assert "đơn vị được ghi nhận gửi báo cáo chậm hạn." in body
    assert attachments_of(message) == {}
    with engine_for(database_url).connect() as connection:
        logged = connection.execute(
            text(
                "select kind, count(*) from outbox_message where state = 'sent' group by kind "
                "order by kind"
            )
        ).all()
    assert [tuple(row) for row in logged] == [("acknowledgement", 6), ("mail_refusal", 1)]


def test_an_answer_that_does_not_go_fails_nothing_and_goes_next_time(
    workspace: Path, smtp: tuple[MailHandler, int]
) -> None:
    handler, _ = smtp
    handler.refused = {"truongth@example.vn"}

    acknowledged, refusals = answer(str(PERIOD), str(workspace))  # returns, does not raise

    assert [outcome.recipient for outcome in acknowledged.failed] == ["truongth@example.vn"]
    assert "550" in acknowledged.failed[0].error and len(acknowledged.sent) == 4
    assert len(refusals.sent) == 1
    handler.refused = set()
    handler.messages.clear()
    acknowledged, _ = answer(str(PERIOD), str(workspace))
    assert [outcome.recipient for outcome in acknowledged.sent] == ["truongth@example.vn"]
    assert len(handler.messages) == 1


def test_without_a_mail_server_the_answers_are_written_as_files(
    workspace: Path, smtp: tuple[MailHandler, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    handler, _ = smtp
    monkeypatch.delenv("TONGHOP_SMTP_HOST")

    acknowledged, refusals = answer(str(PERIOD), str(workspace))

    assert handler.messages == []
    assert (
        acknowledged.not_configured and "Chưa cấu hình máy chủ thư" in acknowledged.not_configured
    )
    assert len(acknowledged.written) == 5 and len(refusals.written) == 1
    assert all(path.exists() and path.suffix == ".eml" for path in acknowledged.written)
    # nothing was recorded as sent: they all go once a server is configured
    assert acknowledged.outcomes == () and acknowledged.already_sent == 0
