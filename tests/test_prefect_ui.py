"""The operator's day in the real Prefect UI: a Prefect server with its UI on 127.0.0.1, `tonghop
serve` serving the deployments (and applying the automations, through the operators' mail block),
a real SMTP server (aiosmtpd) and Debian's chromium driven by Playwright. A wrong period is
refused before any run starts, by the API and in the custom run form; the quarterly run from
its deployment tells its story in the log and its artifacts, and its collection's surge of
rejections mails the operators; a reminder run the mail server refuses fails with what to do
first, no traceback, and an e-mail to the operators; once the server accepts again, Retry in the
browser finishes the same run and sends each letter once. Each page is photographed into docs/
at 1,600 pixels wide, the width the artifact tables are made to fit."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import MailHandler, free_port, mail_env
from tests.test_demo import _small_registry
from tonghop.demo import write_demo_workspace
from tonghop.periods import Period

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs"
BIN = Path(sys.executable).parent
PERIOD = Period(2025, 3)
OPERATOR = "vanhanh@example.vn"
WIDTH = 1600


def _wait_for(check, what: str, timeout: float = 180, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(every)


def _stop(process: subprocess.Popen) -> None:
    """End a process this test started, and the children it started (its own group)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Prefect server with its UI, of this module alone, as an operator starts it."""
    home = tmp_path_factory.mktemp("prefect-ui")
    port = free_port()
    address = f"http://127.0.0.1:{port}"
    env = os.environ | {
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": f"{address}/api",
        "PREFECT_UI_URL": address,
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }
    log = (home / "server.log").open("w")
    process = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(f"{address}/api/health", timeout=2) as answer:
                return answer.status == 200
        except OSError:
            return False

    try:
        _wait_for(healthy, "the Prefect server", timeout=240)
        yield address
    finally:
        _stop(process)
        log.close()


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "Debian's chromium is missing (.ci/run installs it)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


def _api(address: str):
    """Prefect's settings pointing this process's client at the UI's server."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    return temporary_settings({PREFECT_API_URL: f"{address}/api"})


def _beside(address: str, call):
    """`call()` with Prefect's client pointed at the UI's server, in a thread of its own: the
    browser's sync API keeps an event loop in this one, where Prefect would turn async."""

    def run():
        with _api(address):
            return call()

    with ThreadPoolExecutor(max_workers=1) as elsewhere:
        return elsewhere.submit(run).result()


def _read(address: str, call):
    """The result of `call(client)` against the UI's server."""
    from prefect.client.orchestration import get_client

    async def read():
        async with get_client() as client:
            return await call(client)

    return _beside(address, lambda: asyncio.run(read()))


def _photograph(page, name: str, *, full_page: bool = True) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"prefect-{name}.png"), full_page=full_page)


def _open(page, url: str, text: str) -> None:
    """Open a page of the UI (a JavaScript application) and wait until it shows `text`."""
    page.goto(url)
    page.get_by_text(text, exact=False).first.wait_for(timeout=60_000)
    page.wait_for_timeout(1500)  # the run graph draws itself


def _alerts(handler: MailHandler) -> list:
    return [
        message
        for recipients, message in handler.messages
        if OPERATOR in recipients and message["X-Tonghop-Kind"] == "operator-alert"
    ]


def _operator_log(address: str, run_id) -> list:
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    logs = _read(
        address,
        lambda client: client.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id]))
        ),
    )
    return [log for log in sorted(logs, key=lambda log: log.timestamp) if log.level >= logging.INFO]


def _log_until(address: str, run_id, ready) -> list:
    """The run's log at the operator's level once `ready(log)`: its process sends its last
    lines as it ends, after the run's final state."""

    def found():
        logs = _operator_log(address, run_id)
        return logs if logs and ready(logs) else None

    return _wait_for(found, "the run's log", timeout=60)


def test_an_operators_quarter_in_the_prefect_ui(
    ui_server: str, smtp: tuple[MailHandler, int], tmp_path: Path, browser
) -> None:
    from prefect.deployments import run_deployment
    from prefect.exceptions import PrefectHTTPStatusError
    from prefect_email import EmailServerCredentials

    from tonghop_tasks.notifications import OperatorMail

    handler, port = smtp
    root = tmp_path / "workspace"
    plan = write_demo_workspace(root, PERIOD, 10, seed=7, units=_small_registry(), workers=1)
    env = (
        os.environ
        | mail_env(port)
        | {
            "PREFECT_API_URL": f"{ui_server}/api",
            "TONGHOP_HOME": str(root),
            "TONGHOP_DATABASE_URL": f"sqlite:///{root / 'tonghop.db'}",
            "TONGHOP_READ_WORKERS": "1",
            # This demo's 10 rejected forms of 176 are a surge here: the operators are mailed.
            "TONGHOP_ALERT_REJECTED": "5",
            "TONGHOP_ALERT_REJECTED_SHARE": "0.05",
            "TONGHOP_SEND_ATTEMPTS": "1",
        }
    )
    imported = subprocess.run(
        [str(BIN / "tonghop"), "registry", "import", str(root / "registry.csv")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert imported.returncode == 0, imported.stdout + imported.stderr

    # The operators' mail, made as README says: the mail server saved as an Email Server
    # Credentials block, then, in the Blocks page, "Thư báo cho cán bộ vận hành" naming it.
    _beside(
        ui_server,
        lambda: EmailServerCredentials(
            smtp_server="127.0.0.1", smtp_port=port, smtp_type="INSECURE"
        ).save("may-chu-thu"),
    )
    context = browser.new_context(viewport={"width": WIDTH, "height": 1200}, locale="vi-VN")
    page = context.new_page()
    _open(page, f"{ui_server}/blocks/catalog/tonghop-thu-bao-van-hanh/create", "Người nhận")
    page.locator("input").first.fill("tonghop-canh-bao")
    page.locator(".block-document-input .p-select-button__control").click()
    page.keyboard.press("ArrowDown")  # opens the list of saved mail servers
    page.get_by_text("may-chu-thu").first.click()
    sender, recipients = page.locator("textarea").all()[:2]
    sender.fill("tonghop@example.vn")
    recipients.fill(f"{OPERATOR}, truongphong@example.vn")
    _photograph(page, "khoi-thu-bao")
    page.get_by_role("button", name="Create").click()
    page.get_by_text("tonghop-canh-bao").first.wait_for(timeout=30_000)
    saved = _beside(ui_server, lambda: OperatorMail.load("tonghop-canh-bao"))
    assert saved.addresses == [OPERATOR, "truongphong@example.vn"]
    assert saved.server.smtp_port == port

    serve_log = (tmp_path / "serve.log").open("w")
    serving = subprocess.Popen(
        [str(BIN / "tonghop"), "serve"],
        env=env,
        stdout=serve_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _operators_quarter(ui_server, handler, plan, page, run_deployment, PrefectHTTPStatusError)
    finally:
        _stop(serving)
        serve_log.close()
        context.close()
    assert (
        "Đã thiết lập thư báo qua khối «tonghop-canh-bao»" in (tmp_path / "serve.log").read_text()
    )


def _operators_quarter(address, handler, plan, page, run_deployment, http_error) -> None:
    async def deployment(client):
        try:
            return await client.read_deployment_by_name("quarterly_report/quarterly-report")
        except Exception:
            return None

    quarterly = _wait_for(lambda: _read(address, deployment), "the served deployments")
    _wait_for(
        lambda: len(_read(address, lambda client: client.read_automations())) == 2,
        "the automations",
    )

    # --- a wrong period is refused before any run starts ----------------------------------
    def refused(client):
        return client.create_flow_run_from_deployment(
            quarterly.id, parameters={"period": "III/2026"}
        )

    with pytest.raises(http_error, match="Validation failed for field 'period'"):
        _read(address, refused)
    _open(page, f"{address}/deployments/deployment/{quarterly.id}/run", "Kỳ báo cáo")
    form = page.locator("textarea").first
    assert form.input_value() == "quý vừa kết thúc"  # the default, in words
    _photograph(page, "chay-tuy-chinh")
    form.fill("III/2026")
    page.get_by_role("button", name="Submit").click()
    page.get_by_text("Validation failed for field 'period'").first.wait_for(timeout=30_000)
    page.wait_for_timeout(1500)  # the notice slides in
    # The refusal is a notice in the window's corner, which a full-page picture leaves out.
    _photograph(page, "ky-bao-cao-sai", full_page=False)
    runs = _read(address, lambda client: client.read_flow_runs())
    assert not any(run.parameters.get("period") == "III/2026" for run in runs)

    _open(page, f"{address}/deployments/deployment/{quarterly.id}", "Parameters")
    page.get_by_text("Parameters", exact=True).first.click()
    page.get_by_text("quý vừa kết thúc").first.wait_for(timeout=30_000)
    assert page.get_by_text("TONGHOP_HOME").count() and page.get_by_text("/workspace").count()
    _photograph(page, "tham-so-lich")

    # --- the quarterly run, started from its deployment -----------------------------------
    run = _beside(
        address,
        lambda: run_deployment(
            "quarterly_report/quarterly-report", parameters={"period": "2025Q3"}, timeout=900
        ),
    )
    assert run.state.is_completed(), run.state.message
    assert run.name.startswith("2025Q3 · tổng hợp · ")
    lines = [
        log.message
        for log in _log_until(
            address, run.id, lambda logs: logs[-1].message.startswith("Đã soạn dự thảo báo cáo")
        )
    ]
    assert lines[0] == f"Quý III năm 2025: đã nhận {len(plan.submissions)} tệp báo cáo mới."
    assert any(line.startswith("Đã công bố phiên bản 1 của Quý III năm 2025") for line in lines)
    assert lines[-1].startswith("Đã soạn dự thảo báo cáo cho 3 đơn vị; đã gửi 3 thư")
    assert not any("Finished in state" in line for line in lines)
    (surge,) = _wait_for(lambda: _alerts(handler), "the operators' mail about the surge")
    assert surge["Subject"] == "[Tổng hợp] 2025Q3: 10 báo cáo bị trả lại trong một lần thu thập"
    body = surge.get_body(("plain",)).get_content()
    assert "nhận 176 tệp báo cáo Quý III năm 2025, trong đó 10 tệp bị trả lại (5,7%)" in body

    _open(page, f"{address}/runs/flow-run/{run.id}", "đã nhận")
    _photograph(page, "lan-chay-tong-hop")
    page.get_by_text("Artifacts", exact=True).first.click()
    page.get_by_text("tom-tat-2025q3").first.wait_for(timeout=30_000)
    for key in ("tong-hop-tinh", "tien-do-bao-cao", "don-vi-bi-tra-lai", "gui-bao-cao"):
        assert page.get_by_text(f"{key}-2025q3").count(), key
    _photograph(page, "ket-qua-lan-chay")
    artifacts = {
        artifact.key: artifact
        for artifact in _read(address, lambda client: client.read_artifacts())
        if artifact.flow_run_id == run.id
    }
    for key, name, text in (
        ("tien-do-bao-cao-2025q3", "tien-do-bao-cao", "Tổng cộng"),
        ("tom-tat-2025q3", "tom-tat", "tóm tắt lần chạy"),
    ):
        _open(page, f"{address}/artifacts/artifact/{artifacts[key].id}", text)
        # The table fits the window: nothing to scroll sideways.
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
        _photograph(page, name)

    # --- a reminder run the mail server refuses ---------------------------------------------
    handler.messages.clear()
    handler.refused = {unit.email for unit in plan.units if unit.email}
    failed = _beside(
        address,
        lambda: run_deployment("remind/remind", parameters={"period": "2025Q3"}, timeout=900),
    )
    assert failed.state.is_failed()
    assert failed.state.message.startswith("Cần làm: Sửa địa chỉ thư hoặc cấu hình máy chủ thư")
    shown = _log_until(
        address, failed.id, lambda logs: any(log.level >= logging.ERROR for log in logs)
    )
    errors = [log.message for log in shown if log.level >= logging.ERROR]
    assert len(errors) == 1, errors
    assert errors[0] == failed.state.message
    assert "thư đôn đốc báo cáo Quý III năm 2025 chưa gửi được" in errors[0].splitlines()[0]
    assert not any("Traceback" in log.message for log in shown)
    (alert,) = _wait_for(lambda: _alerts(handler), "the operators' mail about the failure")
    assert alert["Subject"] == f"[Tổng hợp] {failed.name}: thất bại"
    body = alert.get_body(("plain",)).get_content()
    assert f"Lần chạy «{failed.name}» của lịch remind đã thất bại." in body
    assert "Cần làm: Sửa địa chỉ thư hoặc cấu hình máy chủ thư" in body
    assert f"{address}/runs/flow-run/{failed.id}" in body
    sent_before = len(handler.messages)
    assert sent_before == 1  # the alert alone: every reminder was refused

    _open(page, f"{address}/runs/flow-run/{failed.id}", "chưa gửi được")
    _photograph(page, "lan-chay-that-bai")

    # --- fixed, then Retry on the failed run's page: the same run ends, each letter once ----
    handler.refused = set()
    page.get_by_role("button", name="Retry").first.click()
    confirm = page.get_by_role("dialog").get_by_role("button", name="Retry")
    if confirm.count():
        confirm.click()

    def finished():
        state = _read(address, lambda client: client.read_flow_run(failed.id)).state
        return state if state.is_final() and state.is_completed() else None

    _wait_for(finished, "the retried run", timeout=600, every=2)
    reminders = [
        message
        for recipients, message in handler.messages
        if message["X-Tonghop-Kind"] in ("reminder", "unit_reminder")
    ]
    assert reminders
    assert len({(m["To"], m["Subject"]) for m in reminders}) == len(reminders)
