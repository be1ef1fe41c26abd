"""The portal over HTTP, on SQLite and PostgreSQL, with the real collection behind it: a unit's
upload is answered at once with the result recorded in the same tables and archive as every
file (and acknowledged by mail too), and every kind of bad input or abuse is refused with a
clear Vietnamese page — nothing lost, nothing counted twice, nothing of another unit shown."""

from __future__ import annotations

import threading
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.corpus.make_corpus import CORPUS_DIR
from tests.portal_support import (
    GOOD_VALUES,
    OPERATOR,
    OPERATOR_PASSWORD,
    csrf_of,
    filled_form,
    page_text,
    portal_app,
    portal_settings,
    unit_links,
)
from tests.test_end_to_end import PERIOD
from tonghop.storage import transaction
from tonghop_flows.import_registry import import_registry


def submissions_of(settings, unit_code: str) -> list[dict]:
    with transaction(settings.resolved_database_url) as connection:
        rows = connection.execute(
            text("select * from submission where unit_code = :u order by arrival"),
            {"u": unit_code},
        )
        return [dict(row) for row in rows.mappings()]


@pytest.fixture
def portal(imported: Path):
    settings = portal_settings(imported, web_attempts_per_minute=5, web_max_upload_bytes=200_000)
    return settings, portal_app(settings)


def signed_in(app, link: str) -> tuple[TestClient, str]:
    """A browser that opened the unit's link: its client and the CSRF token of its pages."""
    client = TestClient(app)
    opened = client.get(link, follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == "/don-vi"
    home = client.get("/don-vi")
    assert home.status_code == 200
    return client, csrf_of(home.text)


def upload(client: TestClient, csrf: str, content: bytes, name: str = "bao-cao.xlsx"):
    return client.post(
        "/don-vi/nop",
        data={"csrf": csrf},
        files={"tep": (name, content, "application/octet-stream")},
    )


def test_a_unit_uploads_and_reads_the_answer_that_counts(portal) -> None:
    settings, app = portal
    links = unit_links(settings, "G1C2")
    client, csrf = signed_in(app, links["G1C2"])
    home = page_text(client.get("/don-vi").text)
    assert "Chi bộ Thôn Hai" in home and "trực thuộc Đảng bộ Xã Một" in home
    assert "Quý III năm 2025" in home and "10/10/2025" in home
    assert "Đơn vị chưa gửi báo cáo nào trong kỳ này." in home

    blank = client.get("/don-vi/mau-bieu")
    assert blank.status_code == 200
    assert "G1C2-2025Q3.xlsx" in blank.headers["content-disposition"]
    answer = upload(client, csrf, filled_form(blank.content, GOOD_VALUES), "Báo cáo quý 3.xlsx")
    assert answer.status_code == 200, page_text(answer.text)
    shown = page_text(answer.text)
    assert "Đã tiếp nhận" in shown and "«Báo cáo quý 3.xlsx», lần gửi thứ 1" in shown

    # The same truth as every other file: recorded, archived, counted, acknowledged.
    [stored] = submissions_of(settings, "G1C2")
    assert stored["outcome"] == "accepted" and stored["file_name"] == "Báo cáo quý 3.xlsx"
    assert (settings.workspace / stored["archive_path"]).is_file()
    assert (settings.layout.inbox / "G1C2" / "Báo cáo quý 3.xlsx").is_file()
    letters = list((settings.layout.outbox / PERIOD / "thu-chua-gui").glob("bao-nhan-G1C2-*.eml"))
    assert len(letters) == 1
    letter = message_from_bytes(letters[0].read_bytes(), policy=default_policy)
    assert letter["Subject"].endswith("Chi bộ Thôn Hai (lần 1): đã tiếp nhận")
    history = page_text(client.get("/don-vi").text)
    assert "Báo cáo quý 3.xlsx" in history and "Đã tiếp nhận ✓" in history

    # The same bytes again are not a new version: the answer given stands.
    resent = upload(client, csrf, _same_bytes(settings, stored), "lan-nua.xlsx")
    assert "trùng từng byte với tệp đơn vị đã gửi trước đó (lần 1)" in page_text(resent.text)
    assert not (settings.layout.inbox / "G1C2" / "lan-nua.xlsx").exists()
    assert [row["file_name"] for row in submissions_of(settings, "G1C2")] == ["Báo cáo quý 3.xlsx"]


def _same_bytes(settings, stored: dict) -> bytes:
    return (settings.workspace / stored["archive_path"]).read_bytes()


def test_a_wrong_form_shows_each_problem_and_its_feedback(portal) -> None:
    settings, app = portal
    links = unit_links(settings, "G1C2")
    client, csrf = signed_in(app, links["G1C2"])
    blank = client.get("/don-vi/mau-bieu").content
    wrong = dict(GOOD_VALUES, members_attended=20, sessions_total=3)
    answer = upload(client, csrf, filled_form(blank, wrong))
    shown = page_text(answer.text)
    assert "Bị trả lại" in shown
    [stored] = submissions_of(settings, "G1C2")
    assert stored["outcome"] == "rejected" and stored["error_count"] >= 2
    with transaction(settings.resolved_database_url) as connection:
        messages = connection.execute(
            text("select message from problem where submission_id = :id"), {"id": stored["id"]}
        ).scalars()
        for message in messages:
            assert " ".join(message.split()) in shown
    feedback = client.get(f"/don-vi/phan-hoi/{stored['id']}")
    assert feedback.status_code == 200 and feedback.content[:2] == b"PK"

    # Another unit's form (F4), a CSV renamed .xlsx and a decompression bomb: each refused
    # for this unit alone, each kept and answered.
    other = filled_form(blank, GOOD_VALUES, C2="G3")
    assert "khác với đơn vị nộp báo cáo" in page_text(upload(client, csrf, other).text)
    csv = b"unit,members\nG1C2,10\n"
    assert "Bị trả lại" in page_text(upload(client, csrf, csv, "so-lieu.xlsx").text)
    bomb = (CORPUS_DIR / "bomb-high-ratio.xlsx").read_bytes()
    assert "Bị trả lại" in page_text(upload(client, csrf, bomb, "bom.xlsx").text)
    outcomes = [row["outcome"] for row in submissions_of(settings, "G1C2")]
    assert outcomes == ["rejected"] * 4
    assert submissions_of(settings, "G3")[0]["file_name"] == "bao-cao.xlsx"  # G3's own only


def test_links_sessions_and_pages_of_others_are_refused(portal) -> None:
    settings, app = portal
    links = unit_links(settings, "G1C2", "U1", "G3")
    stranger = TestClient(app)
    wrong = stranger.get("/u/" + "A" * 43)
    assert wrong.status_code == 404 and "không đúng hoặc đã hết hiệu lực" in page_text(wrong.text)

    # A rotated link is answered exactly as a guessed one; the visits it opened end.
    client, _ = signed_in(app, links["G3"])
    renewed = unit_links(settings, "G3")
    old = TestClient(app).get(links["G3"])
    assert (old.status_code, page_text(old.text)) == (wrong.status_code, page_text(wrong.text))
    assert client.get("/don-vi").status_code == 401
    signed_in(app, renewed["G3"])

    # A cell sees nothing above or beside it; an upper level sees its subtree only.
    cell, _ = signed_in(app, links["G1C2"])
    assert cell.get("/tien-do/U1").status_code == 404
    assert cell.get("/tien-do/G3").status_code == 404
    upper, _ = signed_in(app, links["U1"])
    assert upper.get("/tien-do/G1").status_code == 200
    assert upper.get("/tien-do/P").status_code == 404
    assert upper.get("/van-hanh").status_code == 401
    assert upper.get(f"/van-hanh/tep/{PERIOD}/tong-hop-{PERIOD}.xlsx").status_code == 401

    # Too many wrong links from one address: refused for a while, even the right one.
    for _ in range(settings.web_attempts_per_minute):
        stranger.get("/u/" + "B" * 43)
    blocked = stranger.get(renewed["G3"])
    assert blocked.status_code == 429 and "chờ một phút" in page_text(blocked.text)


def test_forms_that_change_state_need_the_page_s_token(portal) -> None:
    settings, app = portal
    links = unit_links(settings, "G1C2")
    client, _ = signed_in(app, links["G1C2"])
    blank = client.get("/don-vi/mau-bieu").content
    for token in ("", "0" * 64):
        refused = upload(client, token, filled_form(blank, GOOD_VALUES))
        assert refused.status_code == 403
        assert "không xuất phát từ trang của cổng thông tin" in page_text(refused.text)
    assert client.post("/dang-xuat", data={"csrf": "x"}).status_code == 403
    assert not any((settings.layout.inbox / "G1C2").glob("*"))
    assert submissions_of(settings, "G1C2") == []


def test_uploads_too_large_tricky_names_hostile_texts_and_at_once(portal) -> None:
    settings, app = portal
    links = unit_links(settings, "G1C2")
    client, csrf = signed_in(app, links["G1C2"])
    blank = client.get("/don-vi/mau-bieu").content

    # Over the limit: refused by its declared length, and while streaming without one.
    big = b"PK" + b"\0" * (settings.web_max_upload_bytes + 100_000)
    refused = upload(client, csrf, big)
    assert refused.status_code == 413 and "lớn hơn giới hạn" in page_text(refused.text)

    def chunks():
        yield b'--x\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n' + csrf.encode()
        yield b'\r\n--x\r\nContent-Disposition: form-data; name="tep"; filename="a.xlsx"\r\n'
        yield b"Content-Type: application/octet-stream\r\n\r\n"
        for _ in range(40):
            yield b"\0" * 10_000
        yield b"\r\n--x--\r\n"

    streamed = client.post(
        "/don-vi/nop",
        content=chunks(),
        headers={"content-type": "multipart/form-data; boundary=x"},
    )
    assert streamed.status_code == 413
    assert not any((settings.layout.inbox / "G1C2").glob("*"))

    # A name that tries to leave the folder stays inside it; HTML in a unit's name (from the
    # registry) is shown as text.
    answer = upload(client, csrf, filled_form(blank, GOOD_VALUES), "..\\../../<b>x</b>.xlsx")
    assert answer.status_code == 200
    [kept] = list((settings.layout.inbox / "G1C2").iterdir())
    assert kept.parent == settings.layout.inbox / "G1C2"
    assert not set("/\\<>") & set(kept.name) and kept.name.endswith(".xlsx")
    hostile = "<script>alert(1)</script>"
    registry = (settings.workspace / "registry.csv").read_text(encoding="utf-8")
    renamed = settings.workspace / "registry-moi.csv"
    renamed.write_text(registry.replace("Chi bộ Thôn Hai", f'"Chi bộ {hostile}"'), "utf-8")
    assert import_registry(str(renamed), str(settings.workspace)).problems == []
    home = client.get("/don-vi").text
    assert hostile not in home and "Chi bộ &lt;script&gt;alert(1)&lt;/script&gt;" in home

    # Two uploads at once from one unit: both recorded, each answered with its own version.
    forms = [
        filled_form(blank, GOOD_VALUES | {"members": 12 + n, "members_attended": 11 + n})
        for n in (1, 2)
    ]
    answers: list = [None, None]

    def send(index: int) -> None:
        answers[index] = upload(client, csrf, forms[index], f"dong-thoi-{index}.xlsx")

    threads = [threading.Thread(target=send, args=(index,)) for index in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for index, answer in enumerate(answers):
        assert answer.status_code == 200 and f"«dong-thoi-{index}.xlsx»" in page_text(answer.text)
    stored = submissions_of(settings, "G1C2")
    assert sorted(row["file_name"] for row in stored[1:]) == [
        "dong-thoi-0.xlsx",
        "dong-thoi-1.xlsx",
    ]
    assert len({row["arrival"] for row in stored}) == 3


def test_operators_sign_in_and_open_only_published_files(portal) -> None:
    settings, app = portal
    from tonghop_flows.quarterly_report import quarterly_report

    quarterly_report(PERIOD, str(settings.workspace))
    client = TestClient(app)
    assert client.get("/van-hanh").status_code == 401
    wrong = client.post("/dang-nhap", data={"ten": OPERATOR, "mat_khau": "sai"})
    assert wrong.status_code == 401 and "không đúng" in page_text(wrong.text)
    unknown = client.post("/dang-nhap", data={"ten": "ai-do", "mat_khau": OPERATOR_PASSWORD})
    assert page_text(unknown.text) == page_text(wrong.text)
    signed = client.post("/dang-nhap", data={"ten": OPERATOR, "mat_khau": OPERATOR_PASSWORD})
    assert signed.status_code == 200 and "Quý III năm 2025" in page_text(signed.text)
    files = client.get(f"/van-hanh/ky/{PERIOD}")
    assert f"tong-hop-{PERIOD}.xlsx" in files.text and "phan-hoi/" in files.text
    workbook = client.get(f"/van-hanh/tep/{PERIOD}/tong-hop-{PERIOD}.xlsx")
    published = settings.layout.published_folder(PERIOD) / f"tong-hop-{PERIOD}.xlsx"
    assert workbook.content == published.read_bytes()
    for trick in ("../../tonghop.db", "..%2F..%2Ftonghop.db", "/etc/passwd", ".dang-ghi-x/a"):
        assert client.get(f"/van-hanh/tep/{PERIOD}/{trick}").status_code == 404
    docs = client.get("/van-hanh/data-docs/index.html")
    assert docs.status_code == 200 and "<html" in docs.text.lower()

    # An upper level downloads its own workbook, of its subtree; nobody else's.
    links = unit_links(settings, "U1", "G1C2")
    upper, _ = signed_in(app, links["U1"])
    home = upper.get("/don-vi").text
    own = f"/bang-tong-hop/U1/{PERIOD}/1"
    assert own in home and "Tải bảng tổng hợp số liệu của đơn vị (.xlsx)" in page_text(home)
    download = upper.get(own)
    path = settings.layout.published_folder(PERIOD) / f"tong-hop-{PERIOD}-U1.xlsx"
    assert download.status_code == 200 and download.content == path.read_bytes()
    assert f"tong-hop-{PERIOD}-U1.xlsx" in download.headers["content-disposition"]
    assert upper.get(f"/bang-tong-hop/P/{PERIOD}/1").status_code == 404
    cell, _ = signed_in(app, links["G1C2"])
    assert cell.get(own).status_code == 404
