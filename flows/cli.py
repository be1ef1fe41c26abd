"""The `tonghop` command line (SPEC §8): each command runs a flow, or reads the database, and
prints a short Vietnamese summary; library logs stay quiet unless `--chi-tiet` is given."""

from __future__ import annotations

import logging
import os
import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tonghop.config import Settings, quiet_libraries

app = typer.Typer(
    help="Tổng hợp — thu thập, kiểm tra, tổng hợp và công bố báo cáo định kỳ của các cấp ủy.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
registry_app = typer.Typer(help="Danh sách đơn vị (registry).", no_args_is_help=True)
rules_app = typer.Typer(help="Quy tắc kiểm tra.", no_args_is_help=True)
app.add_typer(registry_app, name="registry")
app.add_typer(rules_app, name="rules")
console = Console()

WorkspaceOption = Annotated[
    Path | None,
    typer.Option("--workspace", help="Thư mục làm việc (mặc định TONGHOP_HOME hoặc ./workspace)."),
]
PeriodOption = Annotated[
    str | None,
    typer.Option("--period", help="Kỳ báo cáo, ví dụ 2025Q3 (mặc định: quý vừa kết thúc)."),
]
DEMO_MARKER = ".tonghop-demo"


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--chi-tiet", help="In cả nhật ký của Prefect.")] = False,
) -> None:
    """Quiet the libraries before anything imports them."""
    quiet_libraries()
    if not verbose:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
        os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
        logging.getLogger("great_expectations").setLevel(logging.ERROR)


def _settings(workspace: Path | None) -> Settings:
    return Settings(home=workspace) if workspace else Settings()


def _fail(message: str) -> None:
    console.print(f"[bold red]Lỗi:[/] {message}")
    raise typer.Exit(code=1)


@registry_app.command("import")
def registry_import(
    file: Annotated[Path, typer.Argument(help="Tệp CSV danh sách đơn vị.")],
    workspace: WorkspaceOption = None,
) -> None:
    """Kiểm tra và nhập danh sách đơn vị; danh sách có lỗi bị từ chối toàn bộ."""
    if not file.is_file():
        _fail(f"Không tìm thấy tệp «{file}».")
    from flows.import_registry import import_registry

    settings = _settings(workspace)
    with console.status("Đang kiểm tra và nhập danh sách đơn vị…"):
        problems = import_registry(str(file), str(settings.home))
    if problems:
        console.print(f"[bold red]Danh sách đơn vị bị từ chối[/] — {len(problems)} lỗi:")
        for problem in problems:
            console.print(f"  • {problem.message}")
        raise typer.Exit(code=1)
    console.print(f"[green]Đã nhập danh sách đơn vị[/] từ «{file.name}».")


@app.command("forms")
def forms(period: PeriodOption = None, workspace: WorkspaceOption = None) -> None:
    """Tạo mẫu biểu trống cho mọi đơn vị đang hoạt động vào outbox/<kỳ>/."""
    from flows.issue_forms import issue_forms

    settings = _settings(workspace)
    with console.status("Đang tạo mẫu biểu…"):
        count = issue_forms(period, str(settings.home))
    console.print(f"[green]Đã tạo {count} mẫu biểu[/] trong «{settings.outbox}».")


@app.command("run")
def run(period: PeriodOption = None, workspace: WorkspaceOption = None) -> None:
    """Thu thập, kiểm tra, lưu, tổng hợp và công bố một kỳ báo cáo."""
    from flows.quarterly_report import quarterly_report

    settings = _settings(workspace)
    with console.status("Đang thu thập và tổng hợp…"):
        report = quarterly_report(period, str(settings.home))
    _print_run(report)


def _print_run(report: object) -> None:
    collected, published = report.collected, report.published
    console.print(
        f"Kỳ {collected.period}: nhận {collected.received} tệp mới — "
        f"{collected.accepted} hợp lệ, {collected.warned} có cảnh báo, "
        f"{collected.rejected} bị trả lại."
    )
    console.print(f"Bảng tổng hợp: [bold]{published.workbook}[/]")
    console.print(f"Dữ liệu: {published.consolidated_csv}, {published.status_csv}")
    if published.feedback:
        folder = next(iter(published.feedback.values())).parent
        console.print(f"Phản hồi cho {len(published.feedback)} đơn vị: {folder}")


@app.command("status")
def status(period: PeriodOption = None, workspace: WorkspaceOption = None) -> None:
    """Tiến độ báo cáo của một kỳ theo đơn vị cấp trên trực tiếp."""
    from flows.parameters import resolve
    from tonghop.progress import progress_by_parent

    settings, chosen = resolve(str(workspace) if workspace else None, period)
    rows = progress_by_parent(settings.resolved_database_url, chosen, settings.deadline_days)
    table = Table(title=f"Tiến độ báo cáo {chosen.label_vi}")
    for header in ("Đơn vị cấp trên", "Phải nộp", "Đã nhận", "Bị trả lại", "Chưa nộp", "Quá hạn"):
        table.add_column(header, justify="left" if header == "Đơn vị cấp trên" else "right")
    for row in rows:
        table.add_row(row.parent_name, *(str(value) for value in row.counts))
    console.print(table)


@app.command("serve")
def serve() -> None:
    """Phục vụ các lịch chạy khai báo trong prefect.yaml (không cần worker)."""
    from flows.serving import serve_deployments

    serve_deployments()


@rules_app.command("build")
def rules_build() -> None:
    """Viết lại các bộ kiểm tra Great Expectations trong expectations/ từ bảng quy tắc."""
    from tonghop.validation import write_suites

    for path in write_suites():
        console.print(f"Đã viết {path}")


@app.command("demo")
def demo(workspace: WorkspaceOption = None) -> None:
    """Chạy thử trên dữ liệu mẫu giống Đảng bộ Khối ở báo cáo 001 và in kết quả."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from flows.import_registry import import_registry
    from flows.issue_forms import issue_forms
    from flows.quarterly_report import quarterly_report
    from tonghop.demo import write_demo_workspace
    from tonghop.periods import Period

    settings = _settings(workspace)
    home = settings.home
    if home.exists() and any(home.iterdir()) and not (home / DEMO_MARKER).exists():
        _fail(f"Thư mục «{home}» đã có dữ liệu không phải của bản chạy thử; chọn --workspace khác.")
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    (home / DEMO_MARKER).write_text("Thư mục do `tonghop demo` tạo; chạy lại sẽ xoá và tạo mới.\n")
    period = Period.just_ended(datetime.now(ZoneInfo(settings.timezone)).date())
    with console.status(f"Đang tạo dữ liệu mẫu cho {period.label_vi}…"):
        plan = write_demo_workspace(
            home, period, settings.deadline_days, timezone=settings.timezone
        )
    console.print(
        f"Dữ liệu mẫu: {len(plan.units)} đơn vị, {len(plan.submissions)} tệp báo cáo "
        f"({len(plan.missing)} đơn vị không nộp, {len(plan.late)} nộp muộn, "
        f"{sum(1 for s in plan.submissions if s.fault)} tệp cố ý sai)."
    )
    with console.status("Đang nhập danh sách đơn vị…"):
        problems = import_registry(str(home / "registry.csv"), str(home))
    if problems:
        _fail("danh sách đơn vị mẫu không hợp lệ: " + "; ".join(p.message for p in problems))
    with console.status("Đang tạo mẫu biểu trống…"):
        issue_forms(str(period), str(home))
    with console.status("Đang chạy quarterly_report (thu thập, kiểm tra, tổng hợp, công bố)…"):
        report = quarterly_report(str(period), str(home))
    _print_run(report)
    from tonghop.progress import province_headline

    console.print(province_headline(settings.resolved_database_url, period))


if __name__ == "__main__":
    sys.exit(app())
