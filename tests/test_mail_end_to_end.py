"""The unit's loop by e-mail, end to end: sixty units of a contract workspace mail their forms
to a real IMAP server (Dovecot) — some wrong, one corrected, one sent twice, one late, one from
a stranger, one auto-reply — and `tonghop run` collects them; the consolidation equals the one
from the same files dropped into the folder inbox, every version is answered exactly once with
its outcome through a real SMTP server (aiosmtpd), the stranger is refused and counted nowhere,
and the auto-reply is answered by no one."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import os
from collections import Counter
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.conftest import MailHandler, mail_cli_env
from tests.imap_server import ImapServer
from tests.test_end_to_end import tonghop, write_contract_form
from tests.test_mail_collect import XLSX, ZONE, imap_env, mail, zipped

PERIOD = "2025Q3"
DEADLINE_NOTE = "ngày 10/10/2025"
STRANGER = "nguoi.la@gmail.com"
AUTO_REPLIER = "vanphong.g16@tinh.vn"


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    parent: str | None
    kind: str
    email: str | None


def _units() -> list[Unit]:
    """The province, two upper levels, eight grassroots committees of five cells each (three
    with addresses of their own, one sharing its office's, one with none) and nine grassroots
    cells: sixty units."""
    units = [
        Unit("P", "Tỉnh ủy Thử nghiệm", None, "province", "vanphong@tinh.vn"),
        Unit("U1", "Huyện ủy Sông Mã", "P", "upper", "huyenuy.songma@tinh.vn"),
        Unit("U2", "Đảng ủy Khối Cơ quan", "P", "upper", "dangkhoi.cq@tinh.vn"),
    ]
    for number in range(1, 9):
        office = f"dangbo{number}@tinh.vn"
        code = f"G{number}"
        units.append(
            Unit(code, f"Đảng bộ Xã Số {number}", "U1" if number <= 4 else "U2", "g_c", office)
        )
        for cell in range(1, 6):
            email = {4: office, 5: None}.get(cell, f"chibo{number}.{cell}@tinh.vn")
            units.append(
                Unit(f"{code}C{cell}", f"Chi bộ Thôn {cell} Xã Số {number}", code, "cell", email)
            )
    for number in range(9, 18):
        parent = ("P", "U1", "U2")[number % 3]
        units.append(
            Unit(
                f"G{number}",
                f"Chi bộ Cơ quan Số {number}",
                parent,
                "grassroots_cell",
                f"vanphong.g{number}@tinh.vn",
            )
        )
    return units


UNITS = _units()
BY_CODE = {unit.code: unit for unit in UNITS}
KINDS = {"g_c": "grassroots_committee"}


def registry_csv() -> str:
    lines = ["code,name,parent_code,kind,sector,valid_from,valid_to,email"]
    for unit in UNITS:
        sector = {"g_c": "commune", "grassroots_cell": "agency"}.get(unit.kind, "")
        lines.append(
            f"{unit.code},{unit.name},{unit.parent or ''},{KINDS.get(unit.kind, unit.kind)},"
            f"{sector},,,{unit.email or ''}"
        )
    return "\n".join(lines) + "\n"


def reach(unit: Unit) -> str:
    while unit.email is None:
        unit = BY_CODE[unit.parent]
    return unit.email


def good(index: int) -> dict[str, str]:
    members = 10 + index
    return {
        "members": str(members),
        "members_attended": str(members - 1),
        "members_absent": "1",
        "sessions_in_person": "1",
        "sessions_total": "1",
    }


# What makes a form wrong: more attending than there are members is rejected (R4); attended
# and absent that do not add up to the members is a warning.
REJECTED = {"members": "10", "members_attended": "12"}
WARNED = {"members": "10", "members_attended": "8", "members_absent": "1"}
COMMITTEE = {"sessions_hybrid": "1", "sessions_total": "1", "connection_points": "3"}


@dataclass(frozen=True)
class Attachment:
    unit: str
    file_name: str
    values: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Sent:
    """One e-mail a unit (or someone else) sends, and when the server received it."""

    sender: str
    attachments: tuple[Attachment, ...]
    day: int
    subject: str = "Báo cáo quý III/2025"
    headers: tuple[tuple[str, str], ...] = ()
    zipped: bool = False


def form(unit: str, values: dict[str, str] | None = None, name: str = "bao-cao.xlsx"):
    index = list(BY_CODE).index(unit)
    chosen = values if values is not None else good(index)
    return Attachment(unit, name, tuple(chosen.items()))


def _mail_plan() -> list[Sent]:
    """What arrives in the province's mailbox, by day of October 2025 (the deadline is the
    10th): each address sends one message with the forms of the units it answers for (a cell
    with no address of its own is sent by its office, SPEC §1), and then the special cases.
    Missing: U2, G8C3, G8C5, G14 (whose form a stranger sends) and G16 (whose office's
    auto-reply carries the blank form back)."""
    missing = {"U2", "G8C3", "G8C5", "G14", "G16"}
    special = {"U1", "G2C1", "G3C1", "G5C2", "G6C1", "G7C2", "G11"}
    by_sender: dict[str, list[Attachment]] = {}
    for unit in UNITS:
        if unit.kind == "province" or unit.code in missing | special:
            continue
        values = COMMITTEE if unit.kind == "g_c" else None
        name = f"bao-cao-{unit.code.lower()}.xlsx"
        by_sender.setdefault(reach(unit), []).append(form(unit.code, values, name))
    plan = [
        # the district's office writes its address in capitals, with a display name
        Sent("Huyện ủy Sông Mã <HuyenUy.SongMa@Tinh.VN>", (form("U1", {"news_items": "12"}),), 3)
    ]
    plan += [
        # one office packs its cells' forms into a .zip beside its own
        Sent(sender, tuple(forms), 4 + index % 5, zipped=sender == "dangbo2@tinh.vn")
        for index, (sender, forms) in enumerate(by_sender.items())
    ]
    plan += [
        Sent("chibo2.1@tinh.vn", (form("G2C1", REJECTED),), 5),
        Sent("vanphong.g11@tinh.vn", (form("G11", REJECTED),), 5),
        Sent("chibo5.2@tinh.vn", (form("G5C2", WARNED),), 5),
        # rejected, then corrected three days later
        Sent("chibo6.1@tinh.vn", (form("G6C1", REJECTED),), 5),
        Sent("chibo6.1@tinh.vn", (form("G6C1", None, "bao-cao-sua.xlsx"),), 8, "Gửi lại"),
        # the same file twice, in two messages
        Sent("chibo3.1@tinh.vn", (form("G3C1"),), 4),
        Sent("chibo3.1@tinh.vn", (form("G3C1"),), 7, "Gửi lại báo cáo (lần 2)"),
        # four days late
        Sent("chibo7.2@tinh.vn", (form("G7C2"),), 14),
        # a stranger reports for G14
        Sent(STRANGER, (form("G14"),), 6, "Gửi hộ báo cáo"),
        # G16's out-of-office reply quotes the blank form back
        Sent(
            AUTO_REPLIER,
            (form("G16"),),
            2,
            "Trả lời tự động: Mẫu báo cáo quý III/2025",
            (("Auto-Submitted", "auto-replied"),),
        ),
    ]
    return plan


PLAN = _mail_plan()
# (unit, arrival number) -> outcome words of its answer, and whether the answer says it is late
VERSIONS = {
    **{
        (a.unit, 1): ("đã tiếp nhận", False)
        for sent in PLAN
        if sent.sender not in {STRANGER, AUTO_REPLIER}
        for a in sent.attachments
    },
    ("G2C1", 1): ("bị trả lại", False),
    ("G11", 1): ("bị trả lại", False),
    ("G5C2", 1): ("tiếp nhận, có cảnh báo", False),
    ("G6C1", 1): ("bị trả lại", False),
    ("G6C1", 2): ("đã tiếp nhận", False),
    ("G7C2", 1): ("đã tiếp nhận", True),
}


def arrival(sent: Sent, order: int) -> dt.datetime:
    return dt.datetime(2025, 10, sent.day, 8, order % 60, tzinfo=ZONE)


@functools.cache
def form_bytes(folder: Path, attachment: Attachment) -> bytes:
    """The workbook of one attachment, written once: a form sent twice is the same bytes."""
    digest = hashlib.sha1(repr(attachment).encode()).hexdigest()[:12]
    path = folder / f"{attachment.unit}-{digest}.xlsx"
    write_contract_form(path, attachment.unit, dict(attachment.values))
    return path.read_bytes()


def raw_message(sent: Sent, forms: Path) -> bytes:
    files = [(a.file_name, form_bytes(forms, a), XLSX) for a in sent.attachments]
    if sent.zipped:
        # the office's own form as it is, its cell's inside a .zip
        first, *rest = files
        packed = zipped(**{name: content for name, content, _ in rest})
        files = [first, ("cac-chi-bo.zip", packed, "application/zip")]
    return mail(sent.sender, files, sent.subject, dict(sent.headers))


def fill_folder_inbox(root: Path, forms: Path) -> None:
    """The same forms a unit's officer would drop into inbox/<unit>/ instead, received at the
    same moments; the stranger's and the auto-reply's are nobody's submission."""
    for order, sent in enumerate(PLAN):
        if sent.sender in {STRANGER, AUTO_REPLIER}:
            continue
        stamp = arrival(sent, order).timestamp()
        for attachment in sent.attachments:
            folder = root / "inbox" / attachment.unit
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / attachment.file_name
            if path.exists() and path.read_bytes() == form_bytes(forms, attachment):
                continue  # sent twice: the same file
            path.write_bytes(form_bytes(forms, attachment))
            os.utime(path, (stamp, stamp))


def published(root: Path, name: str) -> dict[tuple[str, str], dict[str, str]]:
    with (root / "published" / PERIOD / f"{name}-{PERIOD}.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    key = "indicator_code" if "indicator_code" in rows[0] else None
    return {(row["unit_code"], row[key] if key else ""): row for row in rows}


def run_product(root: Path, env: dict[str, str]) -> str:
    options = ["--workspace", str(root)]
    result = tonghop("registry", "import", str(root / "registry.csv"), *options, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    result = tonghop("run", "--period", PERIOD, *options, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return result.stdout


def body_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def acknowledgements(handler: MailHandler) -> dict[tuple[str, int], list]:
    """Every acknowledgement received, by the unit and arrival number its subject names."""
    names = {unit.name: unit.code for unit in UNITS}
    found: dict[tuple[str, int], list] = {}
    for recipients, message in handler.messages:
        if message["X-Tonghop-Kind"] != "acknowledgement":
            continue
        head, words = message["Subject"].rsplit("): ", 1)
        name, number = head.split(" — ", 1)[1].rsplit(" (lần ", 1)
        found.setdefault((names[name], int(number)), []).append((recipients, words, message))
    return found


@pytest.fixture
def folder_figures(tmp_path: Path, prefect_server: None) -> dict:
    """What the same files give through the folder inbox, on a database of their own."""
    from prefect.settings import PREFECT_API_URL

    root = tmp_path / "folder-workspace"
    root.mkdir()
    (root / "registry.csv").write_text(registry_csv(), encoding="utf-8")
    forms = tmp_path / "forms"
    forms.mkdir(exist_ok=True)
    fill_folder_inbox(root, forms)
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("TONGHOP_SMTP", "TONGHOP_IMAP"))
    } | {
        "PREFECT_API_URL": PREFECT_API_URL.value(),
        "TONGHOP_DATABASE_URL": f"sqlite:///{tmp_path / 'folder.db'}",
        "COLUMNS": "250",
    }
    run_product(root, env)
    return {name: published(root, name) for name in ("consolidated", "status")}


def test_sixty_units_mail_their_forms_and_each_hears_back(
    tmp_path: Path,
    database_url: str,
    imap_server: ImapServer,
    smtp: tuple[MailHandler, int],
    folder_figures: dict,
) -> None:
    handler, port = smtp
    root = tmp_path / "workspace"
    root.mkdir()
    (root / "registry.csv").write_text(registry_csv(), encoding="utf-8")
    forms = tmp_path / "forms"
    forms.mkdir(exist_ok=True)
    for order, sent in enumerate(PLAN):
        imap_server.deliver(raw_message(sent, forms), internal_date=arrival(sent, order))
    env = mail_cli_env(port, database_url) | imap_env(imap_server)

    printed = run_product(root, env)

    assert len(UNITS) == 60
    assert f"Hộp thư: đã nhận {len(PLAN)} thư điện tử." in printed
    received = sum(len(sent.attachments) for sent in PLAN if sent.sender != AUTO_REPLIER)
    assert f"nhận {received - 2} tệp mới" in printed  # the stranger's and one duplicate not
    # the same figures as through the folder inbox, the stranger's form counted nowhere
    assert published(root, "consolidated") == folder_figures["consolidated"]
    assert published(root, "status") == folder_figures["status"]
    status = {code: row["status"] for (code, _), row in published(root, "status").items()}
    assert status["G14"] == status["G16"] == status["U2"] == "missing"
    assert status["G6C1"] == "accepted" and status["G2C1"] == "rejected"
    # the province itself, U2, G8C3, G8C5, G14 and G16 missing; G2C1 and G11 rejected
    assert Counter(status.values()) == {
        "accepted": 51,
        "accepted_with_warnings": 1,
        "rejected": 2,
        "missing": 6,
    }

    # exactly one answer per version, with its outcome, to the unit and its sender
    answered = acknowledgements(handler)
    assert set(answered) == set(VERSIONS)
    senders = {
        (a.unit, sent.subject): sent.sender.split("<")[-1].rstrip(">").lower()
        for sent in PLAN
        for a in sent.attachments
    }
    for (code, number), (words, late) in VERSIONS.items():
        ((recipients, said, message),) = answered[(code, number)]
        assert said == words, (code, number)
        sender = next(value for (unit, _), value in senders.items() if unit == code)
        assert sorted(recipients) == sorted({reach(BY_CODE[code]), sender}), code
        body = body_of(message)
        assert DEADLINE_NOTE in body
        assert ("chậm hạn" in body) == late, code
        assert bool(message.get_payload()) and (
            [part.get_filename() for part in message.iter_attachments()]
            == ([] if words == "đã tiếp nhận" else [f"{code}-{PERIOD}-lan-{number}.xlsx"])
        ), code
    # the stranger is refused and told why; the auto-reply is answered by no one
    mailed = handler.received()
    (refusal,) = mailed[STRANGER]
    assert refusal["X-Tonghop-Kind"] == "mail_refusal"
    assert "Chi bộ Cơ quan Số 14" in body_of(refusal)
    assert AUTO_REPLIER not in mailed
    assert [m["X-Tonghop-Kind"] for ms in mailed.values() for m in ms].count("mail_refusal") == 1
    # every message is moved out of the inbox, and a second run answers nothing again
    assert {m.folder for m in imap_server.messages()} == {"Đã xử lý"}
    handler.reset()
    again = tonghop("run", "--period", PERIOD, "--workspace", str(root), env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "nhận 0 tệp mới" in again.stdout
    assert [m for m in handler.messages if m[1]["X-Tonghop-Kind"] == "acknowledgement"] == []
