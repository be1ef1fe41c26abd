"""Blank forms by e-mail: every active unit receives its own pre-filled form with a cover letter
(the deadline as a date, how to send it back, that it must stay .xlsx, whom to call), at its
address or its nearest ancestor's; once per unit, period and form version."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import MailHandler, mail_env
from tonghop.form_letters import build_form_letters, fingerprint
from tonghop.periods import Period
from tonghop.registry import Unit

Q3 = Period(2025, 3)
REGISTRY = """code,name,parent_code,kind,sector,valid_from,valid_to,email
P,Tỉnh ủy Thử nghiệm,,province,,,,vanphong@example.vn
U1,Huyện ủy Một,P,upper,,,,hu1@example.vn
G1,Đảng bộ Xã Một,U1,grassroots_committee,commune,,,
G1C1,Chi bộ Thôn Một,G1,cell,,,,thon1@example.vn
G1C2,Chi bộ Thôn Hai,G1,cell,,,,
G1C3,Chi bộ Thôn Ba,G1,cell,,2020-01-01,2025-06-30,thon3@example.vn
"""


def _units() -> list[Unit]:
    return [
        Unit("P", "Tỉnh ủy Thử nghiệm", None, "province", None, None, None, "vp@example.vn"),
        Unit("U1", "Huyện ủy Một", "P", "upper", None, None, None, "hu1@example.vn"),
        Unit("G1", "Đảng bộ Xã Một", "U1", "grassroots_committee", "commune", None, None, None),
        Unit("C1", "Chi bộ Thôn Một", "G1", "cell", None, None, None, "thon1@example.vn"),
    ]


def _forms(tmp_path: Path, codes: list[str]) -> dict[str, Path]:
    forms = {}
    for code in codes:
        forms[code] = tmp_path / f"{code}-{Q3}.xlsx"
        forms[code].write_bytes(b"PK\x03\x04 " + code.encode())
    return forms


def test_each_unit_gets_its_own_form_with_a_cover_letter(tmp_path: Path) -> None:
    forms = _forms(tmp_path, ["P", "U1", "G1", "C1"])
    letters = build_form_letters(
        Q3, _units(), forms, 10, "abc", "baocao@example.vn", "đồng chí Lan, điện thoại 0237 123"
    )

    assert [(letter.about_code, letter.recipient.email) for letter in letters] == [
        ("P", "vp@example.vn"),
        ("U1", "hu1@example.vn"),
        ("G1", "hu1@example.vn"),  # no address: reached through U1
        ("C1", "thon1@example.vn"),
    ]
    cell = letters[3]
    assert cell.attachments == (forms["C1"],)
    assert (
        cell.subject == "Mẫu biểu báo cáo Quý III năm 2025 của Chi bộ Thôn Một — hạn gửi 10/10/2025"
    )
    body = cell.body
    assert body.startswith("Kính gửi: Cấp ủy Chi bộ Thôn Một (Đảng bộ Xã Một)\n")
    assert "tệp «C1-2025Q3.xlsx» gửi kèm, đã ghi sẵn mã đơn vị C1" in body
    assert "gửi lại chậm nhất ngày 10/10/2025, bằng cách trả lời thư này" in body
    assert "(hoặc gửi đến địa chỉ baocao@example.vn)" in body
    assert "giữ nguyên định dạng .xlsx" in body and "trang «BaoCao»" in body
    assert "Khi cần hỗ trợ, đề nghị liên hệ đồng chí Lan, điện thoại 0237 123." in body
    assert body.rstrip().endswith(
        "Ban Tuyên giáo Tỉnh ủy Thử nghiệm\nHệ thống Tổng hợp (thư tự động)"
    )
    assert "đề nghị chuyển đến" not in body

    committee = letters[2]
    assert committee.about == "mẫu biểu Quý III năm 2025 của Đảng bộ Xã Một"
    assert (
        "thư này được gửi đến Huyện ủy Một là cấp ủy cấp trên; đề nghị chuyển đến Đảng bộ Xã Một"
        in committee.body
    )
    assert letters[0].body.startswith("Kính gửi: Ban Thường vụ Tỉnh ủy Thử nghiệm\n")


def test_a_new_form_version_or_address_is_a_new_letter() -> None:
    same = fingerprint("2025Q3", "C1", "abc", "thon1@example.vn")
    assert same == fingerprint("2025Q3", "C1", "abc", "THON1@example.vn")
    assert same != fingerprint("2025Q3", "C1", "abd", "thon1@example.vn")  # catalogue changed
    assert same != fingerprint("2025Q3", "C1", "abc", "vanthu@example.vn")
    assert same != fingerprint("2025Q4", "C1", "abc", "thon1@example.vn")


@pytest.fixture
def registered(tmp_path, database_url, smtp, monkeypatch, prefect_server) -> Path:
    from tonghop_flows.import_registry import import_registry

    monkeypatch.setenv("TONGHOP_DATABASE_URL", database_url)
    monkeypatch.setenv("TONGHOP_READ_WORKERS", "1")
    monkeypatch.setenv("TONGHOP_CONTACT", "đồng chí Lan, Ban Tuyên giáo, điện thoại 0237 123")
    monkeypatch.delenv("TONGHOP_EMAIL_BLOCK", raising=False)
    for name, value in mail_env(smtp[1]).items():
        monkeypatch.setenv(name, value)
    (tmp_path / "registry.csv").write_text(REGISTRY, encoding="utf-8")
    assert import_registry(str(tmp_path / "registry.csv"), str(tmp_path)).problems == []
    return tmp_path


def test_issue_forms_mails_every_active_unit_its_form_once(
    registered: Path, smtp: tuple[MailHandler, int]
) -> None:
    from tonghop_flows.issue_forms import issue_forms

    handler, _ = smtp
    issued = issue_forms(str(Q3), str(registered))

    # G1C3 ended before the period's last day: no form, no letter.
    assert issued.count == 5
    assert [(o.about_code, o.recipient, o.sent) for o in issued.mail.outcomes] == [
        ("P", "vanphong@example.vn", True),
        ("U1", "hu1@example.vn", True),
        ("G1", "hu1@example.vn", True),
        ("G1C1", "thon1@example.vn", True),
        ("G1C2", "hu1@example.vn", True),
    ]
    by_to = handler.received()
    (thon1,) = by_to["thon1@example.vn"]
    assert thon1["Subject"].startswith("Mẫu biểu báo cáo Quý III năm 2025 của Chi bộ Thôn Một")
    body = thon1.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert (
        "Khi cần hỗ trợ, đề nghị liên hệ đồng chí Lan, Ban Tuyên giáo, điện thoại 0237 123." in body
    )
    ((name, content),) = [(p.get_filename(), p.get_content()) for p in thon1.iter_attachments()]
    form = issued.folder / "G1C1-2025Q3.xlsx"
    assert name == form.name and content == form.read_bytes()
    assert len(by_to["hu1@example.vn"]) == 3  # its own, and the two units it forwards to

    # Issued again: the forms are rewritten, nobody is sent the same form twice.
    handler.messages.clear()
    again = issue_forms(str(Q3), str(registered))
    assert again.mail.outcomes == () and again.mail.already_sent == 5
    assert handler.messages == []


def test_each_form_letter_carries_the_unit_s_own_portal_link(
    registered: Path, smtp: tuple[MailHandler, int], monkeypatch
) -> None:
    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from tests.portal_support import page_text, portal_app
    from tonghop.config import Settings
    from tonghop_flows.cli import app as cli
    from tonghop_flows.issue_forms import issue_forms

    handler, _ = smtp
    monkeypatch.setenv("TONGHOP_WEB_BASE_URL", "https://tonghop.example.vn")
    issue_forms(str(Q3), str(registered))

    def link_in(message) -> str:
        body = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
        assert "Cổng thông tin Tổng hợp" in body
        (line,) = [line for line in body.splitlines() if line.startswith("https://")]
        return line

    by_to = handler.received()
    (thon1,) = by_to["thon1@example.vn"]
    link = link_in(thon1)
    assert link.startswith("https://tonghop.example.vn/u/") and len(link.split("/u/")[1]) == 43
    # Each unit its own link, even where one office receives several units' forms.
    links = {link_in(message) for message in by_to["hu1@example.vn"]}
    assert len(links) == 3 and link not in links

    # The link opens the unit's own page, and the operator can give it again: the same one.
    settings = Settings(workspace=registered)
    client = TestClient(portal_app(settings), base_url="https://tonghop.example.vn")
    page = client.get(link)
    assert page.status_code == 200 and "Chi bộ Thôn Một" in page_text(page.text)
    printed = CliRunner().invoke(
        cli, ["web", "links", "--workspace", str(registered), "--unit", "G1C1"]
    )
    assert printed.exit_code == 0, printed.output
    assert printed.stdout.strip() == f"G1C1,{link}"
