"""The portal in a real browser: Debian's chromium driven by Playwright, with JavaScript off,
against the portal served by uvicorn with the real collection behind it. A unit opens its link,
downloads its form, fills it with openpyxl, uploads it and reads "Đã tiếp nhận"; a wrong form
shows each of its problems; an upper level sees its subtree's progress change; an operator
signs in and downloads the published workbook through the link of a Prefect artifact. Each page
is photographed into docs/ as the run sees it."""

from __future__ import annotations

import io
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import uvicorn
from openpyxl import load_workbook

from tests.conftest import free_port, latest_artifact
from tests.portal_support import (
    GOOD_VALUES,
    OPERATOR,
    OPERATOR_PASSWORD,
    filled_form,
    portal_app,
    portal_settings,
    unit_links,
)
from tests.test_end_to_end import PERIOD

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs"


@pytest.fixture
def served(imported: Path, monkeypatch: pytest.MonkeyPatch):
    """The portal of the workspace on a free port; the runs started in the test (the upload's
    collection, the quarterly report) link their artifacts to it."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("TONGHOP_WEB_PUBLIC_URL", base)
    settings = portal_settings(imported, web_public_url=base)
    server = uvicorn.Server(
        uvicorn.Config(portal_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the portal did not start"
        time.sleep(0.05)
    yield settings, base
    server.should_exit = True
    thread.join(timeout=30)


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "Debian's chromium is missing (.ci/run installs it)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


def visit(browser):
    """A browser window with JavaScript off: every page must work without it."""
    context = browser.new_context(
        java_script_enabled=False,
        accept_downloads=True,
        locale="vi-VN",
        viewport={"width": 1200, "height": 900},
    )
    return context.new_page()


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"cong-thong-tin-{name}.png"), full_page=True)


def upload(page, path: Path) -> None:
    page.set_input_files("input[name=tep]", str(path))
    page.get_by_role("button", name="Gửi báo cáo").click()
    page.wait_for_url(re.compile(r".*/don-vi/lan-nop/.*"))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_unit_an_upper_level_and_an_operator_in_chromium(served, browser, tmp_path: Path) -> None:
    settings, base = served
    links = unit_links(settings, "G1C2", "U1", base=base)

    # The upper level first: nothing has been collected yet.
    upper = visit(browser)
    upper.goto(links["U1"])
    upper.get_by_role("link", name=re.compile("Xem chi tiết từng đơn vị")).click()
    assert upper.locator("h1").inner_text() == "Tiến độ báo cáo Quý III năm 2025"
    totals = upper.locator("table.progress tfoot tr").inner_text().split()
    assert totals[2:] == ["4", "0", "0", "0", "4", "0"]  # must report, accepted … late
    shot(upper, "tien-do-truoc")

    # A cell opens its link, downloads its form, fills it and uploads it.
    cell = visit(browser)
    cell.goto(links["G1C2"])
    assert cell.locator("h1").inner_text() == "Chi bộ Thôn Hai"
    assert "trực thuộc Đảng bộ Xã Một" in cell.locator(".lead").inner_text()
    shot(cell, "don-vi")
    with cell.expect_download() as downloading:
        cell.get_by_role("link", name=re.compile("Tải mẫu biểu")).click()
    blank = Path(downloading.value.path()).read_bytes()
    assert load_workbook(io.BytesIO(blank))["BaoCao"]["C2"].value == "G1C2"
    good = tmp_path / "Báo cáo quý III.xlsx"
    good.write_bytes(filled_form(blank, GOOD_VALUES))
    upload(cell, good)
    assert cell.locator("h1").inner_text() == "Đã tiếp nhận"
    assert "«Báo cáo quý III.xlsx», lần gửi thứ 1" in cell.locator(".outcome").inner_text()
    shot(cell, "da-tiep-nhan")

    # A wrong form: each problem on the page, and its feedback workbook to download.
    wrong = tmp_path / "sai.xlsx"
    wrong.write_bytes(filled_form(blank, GOOD_VALUES | {"members_attended": 30}, C2="G3"))
    cell.get_by_role("link", name="Về trang của đơn vị").click()
    upload(cell, wrong)
    assert cell.locator("h1").inner_text() == "Bị trả lại"
    problems = cell.locator("table.problems tbody tr").all_inner_texts()
    rules = {line.split()[0] for line in problems}
    assert "F4" in rules and len(problems) >= 2
    shot(cell, "bi-tra-lai")
    with cell.expect_download() as downloading:
        cell.get_by_role("link", name=re.compile("Tải tệp phản hồi")).click()
    assert downloading.value.suggested_filename == f"G1C2-{PERIOD}-lan-2.xlsx"
    cell.get_by_role("link", name="Về trang của đơn vị").click()
    history = cell.locator("section.history tbody tr").all_inner_texts()
    assert len(history) == 2 and "Bị trả lại" in history[0] and "Đã tiếp nhận" in history[1]
    shot(cell, "lich-su")

    # The upload collected the whole inbox: the upper level's page has changed.
    upper.reload()
    totals = upper.locator("table.progress tfoot tr").inner_text().split()
    # G1C2's form came in 2026, long after the 2025Q3 deadline: accepted, and late.
    assert totals[2:] == ["4", "3", "0", "1", "0", "1"]
    attention = upper.locator("table.attention tbody tr").all_inner_texts()
    assert len(attention) == 2
    assert "Chi bộ Trường Tiểu học" in attention[0] and "Bị trả lại" in attention[0]
    assert "Chi bộ Thôn Hai" in attention[1] and "Nộp quá hạn" in attention[1]
    shot(upper, "tien-do-sau")

    # An operator follows the link of the run's artifact to the published workbook.
    from tonghop_flows.quarterly_report import quarterly_report

    def published_link() -> str:
        # Away from Playwright's event loop, which runs in this thread.
        quarterly_report(PERIOD, str(settings.workspace))
        key = f"so-lieu-tong-hop-{PERIOD.lower()}"
        return latest_artifact(key, workspace=settings.workspace)

    with ThreadPoolExecutor(1) as elsewhere:
        artifact = elsewhere.submit(published_link).result()
    link = re.search(r"https?://[^)\s]+", artifact).group(0)
    assert link == f"{base}/van-hanh/tep/{PERIOD}/tong-hop-{PERIOD}.xlsx"
    operator = visit(browser)
    operator.goto(link)
    assert operator.locator("h1").inner_text() == "Cần đăng nhập"
    operator.goto(f"{base}/dang-nhap")
    operator.get_by_label("Tên đăng nhập").fill(OPERATOR)
    operator.get_by_label("Mật khẩu").fill(OPERATOR_PASSWORD)
    operator.get_by_role("button", name="Đăng nhập").click()
    shot(operator, "van-hanh")
    operator.get_by_role("link", name="Quý III năm 2025", exact=True).click()
    shot(operator, "tep-cong-bo")
    published = settings.layout.published_folder(PERIOD) / f"tong-hop-{PERIOD}.xlsx"
    # The artifact's link itself, in the signed-in browser (its cookies)…
    fetched = operator.context.request.get(link)
    assert fetched.ok and fetched.body() == published.read_bytes()
    # … and the same file from the list of the period's files.
    with operator.expect_download() as downloading:
        operator.get_by_role("link", name=f"tong-hop-{PERIOD}.xlsx").click()
    assert Path(downloading.value.path()).read_bytes() == published.read_bytes()

    # The Data Docs, with their scripts on: everything comes from the portal itself (a closed
    # network has nothing else), the index lists the runs and the status icons are drawn.
    docs = browser.new_context(locale="vi-VN", viewport={"width": 1400, "height": 900})
    elsewhere_requests: list[str] = []

    def only_the_portal(route) -> None:
        if route.request.url.startswith(base):
            route.continue_()
        else:
            elsewhere_requests.append(route.request.url)
            route.abort()

    docs.route("**/*", only_the_portal)
    reader = docs.new_page()
    reader.goto(f"{base}/dang-nhap")
    reader.get_by_label("Tên đăng nhập").fill(OPERATOR)
    reader.get_by_label("Mật khẩu").fill(OPERATOR_PASSWORD)
    reader.get_by_role("button", name="Đăng nhập").click()
    reader.get_by_role("link", name=re.compile("kết quả kiểm tra dữ liệu", re.IGNORECASE)).click()
    runs = reader.locator("table.ge-index-page-validation-results-table tbody tr")
    runs.first.wait_for()
    rows = runs.all_inner_texts()
    assert len(rows) >= 2 and all(f"{PERIOD} · thu thập" in row for row in rows)
    assert any("Kiểm tra từng báo cáo" in row for row in rows)
    # Loaded and checked in one evaluation: Playwright's wait_for_function polls by evaluating
    # a string inside the page, which the portal's Content-Security-Policy (no 'unsafe-eval')
    # refuses whenever the font is not there at the first try.
    icons = "900 16px 'Font Awesome 6 Free'"
    assert reader.evaluate(
        f'document.fonts.load("{icons}").then(() => document.fonts.check("{icons}"))'
    )
    icon = reader.locator("i.fas").first
    assert icon.evaluate("i => getComputedStyle(i, '::before').content") not in ("none", "")
    shot(reader, "data-docs-muc-luc")
    reader.locator("table.ge-index-page-validation-results-table tbody tr").first.click()
    reader.wait_for_url(re.compile(r".*/validations/.*\.html"))
    assert "Kết quả kiểm tra" in reader.locator("h4").first.inner_text()
    assert "Số quy tắc đã kiểm tra" in reader.locator("body").inner_text()
    shot(reader, "data-docs-lan-kiem-tra")
    assert elsewhere_requests == []
