"""The `tonghop` command line (SPEC §8): each command runs a flow, or reads the database, and
prints a short Vietnamese summary; library logs stay quiet unless `--chi-tiet` is given.

Everything it says is Vietnamese, its help and its usage errors included: Typer's headings and
Click's standard `--help` line are given in Vietnamese here, and a mistyped command line is
answered in Vietnamese too. `--workspace` goes before or after the command."""

from __future__ import annotations

import logging
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer import rich_utils
from typer.core import TyperCommand, TyperGroup

from tonghop.config import quiet_libraries

if TYPE_CHECKING:  # imported where used: the command line starts before the heavy libraries
    from tonghop.audit import KnownUnit
    from tonghop.config import Settings
    from tonghop.context import RunContext
    from tonghop.periods import Period

HELP_OPTION_VI = "Hiện hướng dẫn này rồi thoát."
_OPTIONS_VI = "[TÙY CHỌN]"
_SUBCOMMAND_VI = "LỆNH [THAM SỐ]..."
USAGE_VI = "Cách dùng:"
# Typer reads its help's headings from these module constants each time it prints a help.
rich_utils.ARGUMENTS_PANEL_TITLE = "Tham số"
rich_utils.OPTIONS_PANEL_TITLE = "Tùy chọn"
rich_utils.COMMANDS_PANEL_TITLE = "Lệnh"
rich_utils.ERRORS_PANEL_TITLE = "Lỗi"
rich_utils.ABORTED_TEXT = "Đã dừng."
rich_utils.DEFAULT_STRING = "[mặc định: {}]"
rich_utils.REQUIRED_LONG_STRING = "[bắt buộc]"
rich_utils.ENVVAR_STRING = "[biến môi trường: {}]"
rich_utils.RICH_HELP = "Xem [blue]'{command_path} {help_option}'[/] để biết cách dùng."


class _Vietnamese:
    """What Click writes in English in every help: the `--help` line and `Usage:`."""

    def get_help_option(self, ctx: typer.Context) -> object:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = HELP_OPTION_VI
        return option

    def get_usage(self, ctx: typer.Context) -> str:
        return super().get_usage(ctx).replace("Usage:", USAGE_VI, 1)  # type: ignore[misc]


class Command(_Vietnamese, TyperCommand):
    """A command whose help reads in Vietnamese."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.options_metavar = _OPTIONS_VI


class Group(_Vietnamese, TyperGroup):
    """A group of commands whose help reads in Vietnamese."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.options_metavar = _OPTIONS_VI
        self.subcommand_metavar = _SUBCOMMAND_VI


_typer_format_error = rich_utils.rich_format_error


def _format_error_vi(error: Exception) -> None:
    """Typer's error panel, its message in Vietnamese."""
    worded = usage_error_vi(error)
    error.format_message = lambda: worded  # type: ignore[attr-defined]
    _typer_format_error(error)


# Typer prints a command-line mistake through this function, looked up when it happens.
rich_utils.rich_format_error = _format_error_vi
# --workspace given before the command (the command's own wins); set by `main` each run.
_GLOBAL_OPTIONS: dict[str, Path | None] = {"workspace": None}


app = typer.Typer(
    cls=Group,
    help="Tổng hợp: thu thập, kiểm tra, tổng hợp và công bố báo cáo định kỳ của các cấp ủy.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
registry_app = typer.Typer(
    cls=Group,
    help="Nhập danh sách đơn vị (registry).",
    no_args_is_help=True,
)
rules_app = typer.Typer(
    cls=Group,
    help="Quản lý các quy tắc kiểm tra.",
    no_args_is_help=True,
)
app.add_typer(registry_app, name="registry")
app.add_typer(rules_app, name="rules")
web_app = typer.Typer(
    cls=Group,
    help="Cổng thông tin: đơn vị gửi báo cáo và xem kết quả, cấp trên xem tiến độ, cán bộ vận "
    "hành tải kết quả công bố.",
    invoke_without_command=True,
)
app.add_typer(web_app, name="web")
console = Console()
# What is said beside an output a script reads (`web links`): on standard error.
notes = Console(stderr=True)

WorkspaceOption = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        help="Thư mục làm việc; mặc định là TONGHOP_HOME, nếu không có thì ./workspace.",
    ),
]
PeriodOption = Annotated[
    str | None,
    typer.Option("--period", help="Kỳ báo cáo, ví dụ 2025Q3; mặc định là quý vừa kết thúc."),
]


@app.callback()
def main(
    workspace: WorkspaceOption = None,
    verbose: Annotated[
        bool, typer.Option("--chi-tiet", help="In cả nhật ký của Prefect ra màn hình.")
    ] = False,
) -> None:
    """Tổng hợp: thu thập, kiểm tra, tổng hợp và công bố báo cáo định kỳ của các cấp ủy."""
    _GLOBAL_OPTIONS["workspace"] = workspace
    quiet_libraries()
    if not verbose:
        # The terminal shows a spinner and a summary; Prefect's logs, tracebacks of failed runs
        # included, still reach its UI.
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
        os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
        logging.getLogger("great_expectations").setLevel(logging.ERROR)


def _context(
    workspace: Path | None, period: str | None = None, *, upcoming: bool = False
) -> RunContext:
    """The command's run context, resolved once: flows it starts are given its workspace and
    period explicitly, and the commands that only read use it directly."""
    from tonghop.context import resolve_run

    return resolve_run(workspace or _global_workspace(), period, upcoming=upcoming)


def _global_workspace() -> Path | None:
    """`--workspace` as given before the command, if it was."""
    return _GLOBAL_OPTIONS["workspace"]


def _settings() -> Settings:
    """The settings, with the workspace given before the command, if any."""
    from tonghop.config import Settings

    workspace = _global_workspace()
    return Settings(workspace=workspace) if workspace else Settings()


def _fail(message: str) -> None:
    console.print(f"[bold red]Lỗi:[/] {message}")
    raise typer.Exit(code=1)


@registry_app.command("import", cls=Command)
def registry_import(
    file: Annotated[Path, typer.Argument(help="Tệp CSV chứa danh sách đơn vị cần nhập.")],
    workspace: WorkspaceOption = None,
    successors: Annotated[
        Path | None,
        typer.Option(
            "--ke-thua",
            help="Tệp CSV đơn vị kế thừa (code,successor_code,share,date) khi sáp nhập, chia "
            "tách, chuyển đơn vị.",
        ),
    ] = None,
    effective_from: Annotated[
        str | None,
        typer.Option(
            "--tu-ngay",
            help="Ngày danh sách mới có hiệu lực (năm-tháng-ngày); mặc định ngày đầu của quý "
            "vừa kết thúc. Các kỳ kết thúc trước ngày này vẫn tổng hợp theo danh sách cũ.",
        ),
    ] = None,
) -> None:
    """Kiểm tra và nhập danh sách đơn vị thành một phiên bản mới; danh sách có lỗi bị từ chối
    toàn bộ, các phiên bản trước được giữ nguyên."""
    from datetime import date

    for given in (file, successors):
        if given is not None and not given.is_file():
            _fail(f"Không tìm thấy tệp «{escape(str(given))}».")
    effective = None
    if effective_from:
        try:
            effective = date.fromisoformat(effective_from)
        except ValueError:
            _fail(f"Ngày «{escape(effective_from)}» không đúng dạng năm-tháng-ngày (2025-07-01).")
    from tonghop_flows.import_registry import import_registry, registry_summary_vi

    context = _context(workspace)
    with console.status("Đang kiểm tra và nhập danh sách đơn vị…"):
        result = import_registry(
            str(file),
            str(context.workspace.root),
            str(successors) if successors else None,
            effective,
        )
    if result.problems:
        console.print(f"[bold red]Danh sách đơn vị bị từ chối[/] — {len(result.problems)} lỗi:")
        for problem in result.problems:
            # Escaped: a unit name may hold square brackets, which rich takes for markup.
            console.print(f"  • {escape(problem.message)}")
        raise typer.Exit(code=1)
    console.print(f"[green]{escape(registry_summary_vi(result))}[/]")


ResendOption = Annotated[
    bool,
    typer.Option(
        "--gui-lai-thu-chua-xac-nhan",
        help="Gửi lại cả những thư một lần chạy bị gián đoạn đã gửi mà chưa xác nhận được.",
    ),
]


@app.command(
    "forms",
    cls=Command,
    help="Tạo mẫu biểu trống cho mọi đơn vị đang hoạt động vào outbox/<kỳ>/ và gửi thư đến "
    "từng đơn vị, mỗi phiên bản mẫu biểu một lần.",
)
def forms(
    period: PeriodOption = None, workspace: WorkspaceOption = None, resend: ResendOption = False
) -> None:
    """Tạo mẫu biểu trống cho mọi đơn vị đang hoạt động vào outbox/<kỳ>/ và gửi thư đến từng
    đơn vị (mỗi phiên bản mẫu biểu một lần)."""
    from tonghop.outbox import MailNotSent
    from tonghop_flows.issue_forms import issue_forms

    context = _context(workspace, period, upcoming=True)
    try:
        with console.status("Đang tạo và gửi mẫu biểu…"):
            issued = issue_forms(str(context.period), str(context.workspace.root), resend)
    except MailNotSent as error:
        _print_mail([error.summary])
        _fail(escape(str(error)))
    console.print(f"[green]Đã tạo {issued.count} mẫu biểu[/] trong «{issued.folder}».")
    _print_mail([issued.mail])


RunPeriodOption = Annotated[
    str | None,
    typer.Option(
        "--period",
        help="Kỳ báo cáo: một quý (2025Q3), sáu tháng (2025H1), một năm (2025) hoặc một giai "
        "đoạn (2021Q2-2023Q2), tổng hợp từ các quý đã lưu; mặc định là quý vừa kết thúc.",
    ),
]


@app.command("run", cls=Command)
def run(
    period: RunPeriodOption = None, workspace: WorkspaceOption = None, resend: ResendOption = False
) -> None:
    """Thu thập, kiểm tra, lưu, tổng hợp và công bố một kỳ báo cáo."""
    from tonghop_flows.quarterly_report import PublishedNotDelivered, quarterly_report

    context = _context(workspace, period)
    try:
        with console.status("Đang thu thập và tổng hợp…"):
            report = quarterly_report(str(context.period), str(context.workspace.root), resend)
    except PublishedNotDelivered as error:
        # What was published is printed as usual; the failures follow and the exit code is 1.
        _print_run(error.report)
        _fail(escape(str(error)))
    _print_run(report)


def _print_run(report: object) -> None:
    collected = report.collected
    if collected is None:
        # A longer period: combined from the stored quarters, nothing collected.
        for published in (report.published, *report.corrections):
            _print_publication(published)
        _print_mail(report.deliveries)
        return
    console.print(
        f"Kỳ {collected.period}: nhận {collected.received} tệp mới — "
        f"{collected.accepted} hợp lệ, {collected.warned} có cảnh báo, "
        f"{collected.rejected} bị trả lại."
    )
    if collected.messages:
        console.print(f"Hộp thư: đã nhận {collected.messages} thư điện tử.")
    if collected.mailbox_problem:
        console.print(f"[yellow]{escape(collected.mailbox_problem)}[/]")
    if collected.skipped:
        console.print(
            f"[yellow]Bỏ qua {len(collected.skipped)} mục trong hộp thư đến[/] không thuộc đơn "
            "vị nào (không đọc):"
        )
        for entry in collected.skipped:
            console.print(f"  • «{escape(entry.name)}»: {escape(entry.reason)}.")
    if collected.data_docs:
        console.print(f"Kết quả kiểm tra (Great Expectations Data Docs): {collected.data_docs}")
    # Answers never fail a run: their failures are listed here, not in the error message.
    _print_mail(collected.answers, failures_below=False)
    for published in (report.published, *report.corrections):
        _print_publication(published)
    _print_mail(report.deliveries)


def _print_publication(published: object) -> None:
    if published.newly_published:
        console.print(
            f"Bảng tổng hợp (phiên bản {published.version}): [bold]{published.workbook}[/]"
        )
    else:
        console.print(
            f"Không có thay đổi so với phiên bản {published.version} đã công bố: "
            f"[bold]{published.workbook}[/]"
        )
    console.print(f"Dữ liệu: {published.consolidated_csv}, {published.status_csv}")
    if published.feedback:
        folder = next(iter(published.feedback.values())).parent
        console.print(f"Phản hồi cho {len(published.feedback)} đơn vị: {folder}")
    if published.reports:
        first = next(iter(published.reports.values()))
        console.print(
            f"Dự thảo báo cáo (Word và HTML) cho {len(published.reports)} đơn vị, ví dụ: {first}"
        )


# Past this many letters of one kind, a command prints counts (and the failures' reasons in its
# error message) rather than one line each.
MAX_MAIL_LINES = 10


def _print_mail(summaries: Sequence[object], *, failures_below: bool = True) -> None:
    """One line per letter sent or not, or counts when there are many (then each failure
    with its reason, unless the run's error message lists them `failures_below`); with no
    mail server, how many letters were written as `.eml` files and where (each file when they
    are few); what an interrupted run left unconfirmed."""
    from tonghop.outbox import unconfirmed_message

    for summary in summaries:
        heading = f"{summary.kind.title} {summary.label}"
        if summary.not_configured:
            console.print(f"[yellow]{escape(summary.not_configured)}[/]")
            if len(summary.letter_files) <= MAX_MAIL_LINES:
                for letter_file in summary.letter_files:
                    letter = letter_file.letter
                    console.print(
                        f"  • {escape(letter_file.path.name)}: {escape(letter.about)} đến "
                        f"{escape(letter.to)}"
                    )
        if len(summary.outcomes) > MAX_MAIL_LINES:
            failed = len(summary.failed)
            below = " (lý do ở dưới)." if failures_below else ":"
            console.print(
                f"{heading}: đã gửi {len(summary.sent)} thư"
                + (f", [bold red]chưa gửi được {failed} thư[/]{below}" if failed else ".")
            )
            shown = [] if failures_below else summary.failed
        else:
            shown = summary.outcomes
        for outcome in shown:
            sent = f"{outcome.letter.about} đến {outcome.letter.to}"
            if outcome.sent:
                console.print(f"[green]Đã gửi[/] {escape(sent)}.")
            else:
                console.print(
                    f"[bold red]Chưa gửi được[/] {escape(sent)}: {escape(outcome.error or '')}"
                )
        if summary.already_sent:
            console.print(
                f"{heading}: {summary.already_sent} thư đã gửi ở lần chạy trước, không gửi lại."
            )
        if summary.unconfirmed:
            console.print(f"[yellow]{escape(unconfirmed_message(summary))}[/]")


UnitOption = Annotated[str, typer.Option("--unit", help="Mã của đơn vị cần xem, ví dụ CB01.")]


@app.command(
    "status",
    cls=Command,
    help="Hiện tiến độ báo cáo của một kỳ theo đơn vị cấp trên trực tiếp, cùng các đơn vị chưa "
    "nộp, bị trả lại hoặc nộp quá hạn.",
)
def status(
    period: PeriodOption = None,
    workspace: WorkspaceOption = None,
    parent: Annotated[
        str | None,
        typer.Option("--cap-tren", help="Chỉ xem các đơn vị trực thuộc đơn vị cấp trên có mã này."),
    ] = None,
) -> None:
    """Tiến độ báo cáo của một kỳ theo đơn vị cấp trên trực tiếp, và các đơn vị chưa nộp, bị
    trả lại hoặc nộp quá hạn."""
    from tonghop.formatting import format_count
    from tonghop.progress import SITUATION_LABELS_VI, progress_by_parent

    context = _context(workspace, period)
    settings, chosen = context.settings, context.period
    progress = progress_by_parent(settings.resolved_database_url, chosen, settings.deadline_days)
    rows = progress.lines
    if parent is not None:
        rows = [row for row in rows if row.parent_code == parent]
        if not rows:
            _fail(f"Không có đơn vị nào trực thuộc đơn vị mã «{parent}» trong kỳ {chosen}.")
    table = Table(title=f"Tiến độ báo cáo {chosen.label_vi}")
    # the words of the workbook's «Tiến độ báo cáo»
    headers = ("Đơn vị cấp trên", "Phải báo cáo", "Đã tiếp nhận", "Bị trả lại", "Chưa nộp")
    for header in (*headers, "Nộp quá hạn"):
        table.add_column(header, justify="left" if header == "Đơn vị cấp trên" else "right")
    for row in rows:
        table.add_row(escape(row.parent_name), *(format_count(value) for value in row.counts))
    if parent is None:
        # every expected unit, the top unit's own report included: the workbook's figures
        table.add_section()
        table.add_row(
            "[bold]Tổng cộng[/]", *(f"[bold]{format_count(v)}[/]" for v in progress.total)
        )
    console.print(table)
    outstanding = [(row, unit) for row in rows for unit in row.outstanding]
    if not outstanding:
        console.print("Tất cả các đơn vị đã nộp báo cáo đúng hạn và được tiếp nhận.")
        return
    details = Table(title="Đơn vị chưa nộp, bị trả lại hoặc nộp quá hạn")
    for header in ("Đơn vị cấp trên", "Mã đơn vị", "Tên đơn vị", "Tình trạng"):
        details.add_column(header)
    for row, unit in outstanding:
        details.add_row(
            escape(row.parent_name),
            escape(unit.code),
            escape(unit.name),
            SITUATION_LABELS_VI[unit.situation],
        )
    console.print(details)


def _known_unit(settings: Settings, code: str, period: Period) -> KnownUnit:
    """The unit as the database knows it in the registry in force for the period (or gone from
    it but with files received); stops with a message when the code never existed."""
    from tonghop.audit import known_unit
    from tonghop.storage import transaction

    with transaction(settings.resolved_database_url) as connection:
        found = known_unit(connection, code, period.last_day)
    if found is None:
        _fail(f"Không có đơn vị mã «{escape(code)}» trong danh sách đơn vị.")
    return found


def _unit_title(found: KnownUnit) -> str:
    """`Name (CODE)`, or only the code of a unit the registry no longer has (nor its name)."""
    if found.unit is None:
        return f"[bold]Đơn vị mã {escape(found.code)}[/]"
    return f"[bold]{escape(found.unit.name)}[/] ({escape(found.code)})"


def _print_not_counted(found: KnownUnit, period: Period) -> None:
    """Say plainly when the current registry no longer has the unit, or has it inactive in the
    period: what it sent is kept and shown, but its figures do not count when consolidated."""
    from tonghop.formatting import format_date
    from tonghop.registry import span_vi

    if found.counts_in(period):
        return
    if found.unit is None:
        why = f"Đơn vị mã «{escape(found.code)}» không còn trong danh sách đơn vị hiện hành"
    else:
        why = (
            "Theo danh sách đơn vị hiện hành, đơn vị không hoạt động vào ngày cuối kỳ "
            f"({format_date(period.last_day)}; thời gian hiệu lực: {span_vi(found.unit)})"
        )
    console.print(
        f"[yellow]{why}: các tệp báo cáo đã nhận vẫn được lưu giữ và xem được ở đây, nhưng số "
        "liệu của đơn vị không được tính khi tổng hợp kỳ này.[/]"
    )


@app.command("history", cls=Command)
def history(
    unit: UnitOption, period: PeriodOption = None, workspace: WorkspaceOption = None
) -> None:
    """Liệt kê mọi phiên bản báo cáo một đơn vị đã gửi trong kỳ: lúc nhận, kết quả, lỗi."""
    from tonghop.audit import unit_history
    from tonghop.consolidation import STATUS_LABELS_VI
    from tonghop.formatting import format_count, format_datetime
    from tonghop.problems import SEVERITY_LABELS_VI
    from tonghop.storage import transaction

    context = _context(workspace, period)
    settings, chosen = context.settings, context.period
    known = _known_unit(settings, unit, chosen)
    with transaction(settings.resolved_database_url) as connection:
        found = unit_history(connection, unit, chosen)
    submissions = found.submissions
    console.print(
        f"{_unit_title(known)}, {chosen.label_vi}: {len(submissions)} phiên bản báo cáo đã nhận."
    )
    _print_not_counted(known, chosen)
    if submissions.empty:
        return
    table = Table()
    for header in ("#", "Tệp", "Nhận lúc", "Dung lượng", "SHA-256", "Kết quả", "Được tính"):
        table.add_column(header, justify="right" if header in ("#", "Dung lượng") else "left")
    for number, row in enumerate(submissions.itertuples(), start=1):
        # An entry refused unopened (a link, a folder) has no bytes and no archive copy.
        kept = bool(row.archive_path)
        table.add_row(
            str(number),
            escape(row.file_name),
            format_datetime(row.received_at),
            f"{format_count(row.size_bytes)} B" if kept else "—",
            row.sha256[:12] + "…" if kept else "(không mở)",
            STATUS_LABELS_VI.get(row.outcome, row.outcome),
            "✓" if row.counts else "",
        )
    console.print(table)
    for number, row in enumerate(submissions.itertuples(), start=1):
        problems = found.problems[found.problems["submission_id"] == row.id]
        if problems.empty:
            continue
        console.print(f"Phiên bản {number} ({escape(row.file_name)}):")
        for problem in problems.itertuples():
            severity = SEVERITY_LABELS_VI.get(problem.severity, problem.severity)
            console.print(f"  • [{problem.rule}, {severity}] {escape(problem.message)}")


@app.command("show", cls=Command)
def show(unit: UnitOption, period: PeriodOption = None, workspace: WorkspaceOption = None) -> None:
    """Hiện số liệu đang được tính của một đơn vị trong kỳ và tệp báo cáo chứa số liệu đó."""
    from tonghop.audit import counted_values
    from tonghop.catalogue import RATES, label_vi, load_catalogue
    from tonghop.formatting import format_datetime
    from tonghop.storage import transaction

    context = _context(workspace, period)
    settings, chosen = context.settings, context.period
    known = _known_unit(settings, unit, chosen)
    with transaction(settings.resolved_database_url) as connection:
        found = counted_values(connection, unit, chosen)
    console.print(f"{_unit_title(known)}, {chosen.label_vi}")
    _print_not_counted(known, chosen)
    submission = found.submission
    if submission is None:
        console.print(
            "Chưa có báo cáo nào của đơn vị được tiếp nhận trong kỳ này; xem "
            f"`tonghop history --unit {escape(unit)} --period {chosen}`."
        )
    else:
        console.print(
            f"Số liệu lấy từ tệp «{escape(submission['file_name'])}», nhận lúc "
            f"{format_datetime(submission['received_at'])}, SHA-256 {submission['sha256']}, "
            f"lưu tại {escape(submission['archive_path'])}."
        )
    own = found.values.set_index("indicator_code")
    published = found.published.set_index("indicator_code")
    table = Table()
    table.add_column("Mã chỉ tiêu")
    table.add_column("Chỉ tiêu")
    table.add_column("Đơn vị báo cáo", justify="right")
    if found.published_version is not None:
        table.add_column(f"Tổng hợp (phiên bản {found.published_version})", justify="right")
    rate_codes = [rate.code for rate in RATES]
    codes = [indicator.code for indicator in load_catalogue()] + rate_codes
    for code in codes:
        own_value = _shown_value(own, code, rate=code in rate_codes)
        published_value = _shown_value(published, code, rate=code in rate_codes)
        if not own_value and not published_value:
            continue
        cells = [code, escape(label_vi(code)), escape(own_value)]
        if found.published_version is not None:
            cells.append(escape(published_value))
        table.add_row(*cells)
    console.print(table)


def _shown_value(frame: object, code: str, *, rate: bool) -> str:
    """A stored figure as a Vietnamese reader writes it; texts shortened to one line."""
    from tonghop.formatting import format_count, format_percent, is_blank

    if code not in frame.index:
        return ""
    row = frame.loc[code]
    if not is_blank(row["text"]):
        text = " ".join(str(row["text"]).split())
        return text if len(text) <= 80 else text[:79] + "…"
    if is_blank(row["number"]):
        return ""
    return format_percent(row["number"]) if rate else format_count(row["number"])


@app.command(
    "remind",
    cls=Command,
    help="Gửi thư đôn đốc đến cấp ủy cấp trên về các đơn vị trực thuộc chưa nộp hoặc bị trả lại "
    "báo cáo; thư đã gửi ở lần chạy trước không gửi lại.",
)
def remind(
    period: PeriodOption = None, workspace: WorkspaceOption = None, resend: ResendOption = False
) -> None:
    """Gửi thư đôn đốc đến cấp ủy cấp trên về các đơn vị trực thuộc chưa nộp hoặc bị trả lại
    báo cáo; thư đã gửi ở lần chạy trước không gửi lại."""
    from tonghop_flows.remind import RemindersNotSent
    from tonghop_flows.remind import remind as remind_flow

    context = _context(workspace, period)
    try:
        with console.status("Đang gửi thư đôn đốc…"):
            reminded = remind_flow(str(context.period), str(context.workspace.root), resend)
    except RemindersNotSent as error:
        _print_mail(error.reminded.summaries)
        _fail(escape(str(error)))
    _print_mail(reminded.summaries)
    if not any(s.outcomes or s.already_sent or s.unconfirmed for s in reminded.summaries):
        console.print(f"Kỳ {reminded.upper.period}: không có đơn vị nào cần đôn đốc.")


@app.command("serve", cls=Command)
def serve() -> None:
    """Phục vụ các lịch chạy theo hạn nộp và múi giờ trong cấu hình, không cần worker; thiết lập
    luôn thư báo cho cán bộ vận hành khi đã có khối TONGHOP_ALERT_BLOCK."""
    from tonghop_flows.automations import AlertBlockMissing
    from tonghop_flows.serving import serve_deployments

    settings = _settings()
    try:
        _print_automations(settings)
    except AlertBlockMissing as error:
        console.print(f"[yellow]{escape(str(error))}[/]")
    serve_deployments(settings)


@app.command("automations", cls=Command)
def automations() -> None:
    """Thiết lập thư báo cho cán bộ vận hành khi một lần chạy theo lịch thất bại hoặc có nhiều
    báo cáo bị trả lại (qua khối TONGHOP_ALERT_BLOCK đã tạo trong trang Blocks)."""
    _print_automations(_settings())


def _print_automations(settings: Settings) -> None:
    from tonghop_flows.automations import apply_automations

    names = apply_automations(settings)
    console.print(
        f"Đã thiết lập thư báo qua khối «{escape(settings.alert_block)}»: "
        + "; ".join(f"«{escape(name)}»" for name in names)
        + "."
    )


@web_app.callback()
def web(
    context: typer.Context,
    workspace: WorkspaceOption = None,
    period: Annotated[
        str | None,
        typer.Option("--period", help="Kỳ đang thu thập; mặc định là quý vừa kết thúc."),
    ] = None,
) -> None:
    """Chạy cổng thông tin (địa chỉ, cổng và địa chỉ công khai trong cấu hình TONGHOP_WEB_*)."""
    if context.invoked_subcommand is not None:
        return
    import uvicorn

    from tonghop.periods import Period
    from tonghop.portal.app import PortalConfig, create_app
    from tonghop_flows.collect import collect

    run = _context(workspace, period)
    settings, root = run.settings, str(run.workspace.root)
    run.workspace.ensure()
    fixed = Period.parse(period) if period else None

    def collect_uploaded(open_period: Period) -> None:
        collect(period=str(open_period), workspace=root)

    portal = create_app(PortalConfig(settings, collect_uploaded, fixed))
    console.print(f"Cổng thông tin: {escape(settings.portal_address)} (dừng bằng Ctrl+C).")
    # Behind the reverse proxy (README), the client's address comes from X-Forwarded-For of
    # the proxies uvicorn trusts (FORWARDED_ALLOW_IPS, 127.0.0.1 by default).
    uvicorn.run(
        portal,
        host=settings.web_host,
        port=settings.web_port,
        proxy_headers=True,
        log_level="warning",
        server_header=False,
    )


@web_app.command("links", cls=Command)
def web_links(
    workspace: WorkspaceOption = None,
    units: Annotated[
        list[str] | None,
        typer.Option("--unit", help="Chỉ đơn vị có mã này; lặp lại tùy chọn để chọn nhiều đơn vị."),
    ] = None,
    rotate: Annotated[
        bool, typer.Option("--cap-moi", help="Cấp đường liên kết mới và hủy đường liên kết cũ.")
    ] = False,
    revoke: Annotated[
        bool, typer.Option("--huy", help="Hủy đường liên kết của các đơn vị ghi ở --unit.")
    ] = False,
    csv_file: Annotated[
        Path | None,
        typer.Option("--csv", help="Ghi thêm tệp CSV (mã, tên, thư điện tử, đường liên kết)."),
    ] = None,
) -> None:
    """In đường liên kết riêng của từng đơn vị (dòng «mã_đơn_vị,đường_liên_kết»), cấp mới cho
    đơn vị chưa có; --cap-moi cấp lại, --huy huỷ."""
    from tonghop.context import local_now
    from tonghop.portal.links import hand_out_links, revoke_unit_links, write_links_csv
    from tonghop.registry_store import load_units
    from tonghop.storage import transaction

    context = _context(workspace)
    settings = context.settings
    now = local_now(settings.timezone)
    with transaction(context.database_url) as connection:
        registry = load_units(connection)
    by_code = {unit.code: unit for unit in registry}
    unknown = [code for code in units or [] if code not in by_code]
    if unknown:
        _fail(f"Không có đơn vị mã {escape(', '.join(unknown))} trong danh sách đơn vị.")
    if revoke:
        if not units:
            _fail("Cần chỉ rõ đơn vị bằng --unit để huỷ đường liên kết.")
        revoke_unit_links(context.database_url, units, now)
        notes.print(f"Đã huỷ đường liên kết của {len(units)} đơn vị.")
        return
    chosen = (
        [by_code[code] for code in dict.fromkeys(units)]
        if units
        else [unit for unit in registry if unit.active_on(now.date())]
    )
    issued = hand_out_links(
        context.database_url,
        chosen,
        settings.portal_address,
        now,
        settings.web_link_days,
        settings.portal_key(),
        rotate=rotate,
    )
    # The lines alone on standard output, for a script or a mail merge; notes go to stderr.
    for link in issued:
        print(f"{link.unit.code},{link.url}")
    if csv_file is not None:
        write_links_csv(csv_file, issued)
        notes.print(f"Đã ghi {len(issued)} đường liên kết vào «{escape(str(csv_file))}» (giữ kín).")
    if not settings.web_public_url:
        notes.print(
            "[yellow]Chưa đặt TONGHOP_WEB_BASE_URL: đường liên kết dùng địa chỉ nội bộ "
            f"{escape(settings.portal_address)}.[/]"
        )


@web_app.command("password", cls=Command)
def web_password() -> None:
    """Tạo mã băm mật khẩu của một cán bộ vận hành, để ghi vào TONGHOP_WEB_OPERATORS."""
    from tonghop.portal.access import hash_password

    password = typer.prompt("Mật khẩu", hide_input=True, confirmation_prompt=True)
    console.print(hash_password(password), markup=False, highlight=False)


@app.command("deployments", cls=Command)
def deployments(
    output: Annotated[Path, typer.Option("--ghi-vao", help="Tệp prefect.yaml sẽ được ghi.")] = Path(
        "prefect.yaml"
    ),
) -> None:
    """Ghi tệp prefect.yaml cho `prefect deploy --all` theo hạn nộp và múi giờ trong cấu hình."""
    from tonghop_flows.serving import prefect_yaml

    output.write_text(prefect_yaml(_settings()), encoding="utf-8")
    console.print(f"Đã ghi {output}.")


@rules_app.command("build", cls=Command)
def rules_build() -> None:
    """Viết lại các bộ kiểm tra Great Expectations trong expectations/ từ bảng quy tắc."""
    from tonghop.validation import write_suites

    for path in write_suites():
        console.print(f"Đã viết {path}")


@app.command("demo", cls=Command)
def demo(
    workspace: WorkspaceOption = None,
    restructure: Annotated[
        bool,
        typer.Option(
            "--restructure",
            help="Chạy thử cả một năm có sắp xếp lại tổ chức giữa năm (giải thể một huyện ủy, "
            "hợp nhất hai đảng ủy khối) rồi tổng hợp báo cáo năm.",
        ),
    ] = False,
) -> None:
    """Chạy thử trên dữ liệu mẫu giống Đảng bộ Khối ở báo cáo 001 và in kết quả."""

    from tonghop.demo import write_demo_workspace
    from tonghop.layout import DEMO_MARKER, DEMO_REGISTRY
    from tonghop_flows.import_registry import import_registry
    from tonghop_flows.issue_forms import issue_forms
    from tonghop_flows.quarterly_report import quarterly_report

    context = _context(workspace)
    settings, home = context.settings, context.workspace.root
    if home.exists() and any(home.iterdir()) and not (home / DEMO_MARKER).exists():
        _fail(f"Thư mục «{home}» đã có dữ liệu không phải của bản chạy thử; chọn --workspace khác.")
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    (home / DEMO_MARKER).write_text("Thư mục do `tonghop demo` tạo; chạy lại sẽ xoá và tạo mới.\n")
    if restructure:
        _demo_restructured_year(context)
        return
    period = context.period  # the quarter that just ended
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
        imported = import_registry(str(home / DEMO_REGISTRY), str(home))
    if imported.problems:
        _fail(
            "danh sách đơn vị mẫu không hợp lệ: "
            + escape("; ".join(problem.message for problem in imported.problems))
        )
    with console.status("Đang tạo mẫu biểu trống…"):
        issued = issue_forms(str(period), str(home))
    console.print(f"Đã tạo {issued.count} mẫu biểu trống trong «{issued.folder}».")
    _print_mail([issued.mail])
    with console.status("Đang chạy quarterly_report (thu thập, kiểm tra, tổng hợp, công bố)…"):
        report = quarterly_report(str(period), str(home))
    _print_run(report)
    from tonghop.progress import province_headline

    console.print(province_headline(context.database_url, period))
    _print_unsent([issued.mail, *report.collected.answers, *report.deliveries])


def _demo_restructured_year(context: RunContext) -> None:
    """The last whole year of the demo organisation, restructured at mid-year: each quarter's
    forms collected and published under the registry then in force, then the year across the
    change (SPEC §1, §2)."""
    from datetime import date

    from tonghop.context import local_now
    from tonghop.demo import demo_units, write_demo_workspace
    from tonghop.demo.restructure import after_change, before_change, write_successors_csv
    from tonghop.layout import DEMO_REGISTRY
    from tonghop.periods import Period
    from tonghop.progress import province_headline
    from tonghop_flows.import_registry import import_registry, registry_summary_vi
    from tonghop_flows.quarterly_report import quarterly_report

    settings, home = context.settings, context.workspace.root
    year = Period.ended_before(local_now(settings.timezone).date(), 4)
    change = date(year.year, 7, 1)
    before = before_change(demo_units())
    after, successors = after_change(before, change)
    for quarter in year.quarters():
        units = before if quarter.last_day < change else after
        with console.status(f"Đang tạo dữ liệu mẫu cho {quarter.label_vi}…"):
            write_demo_workspace(
                home, quarter, settings.deadline_days, units=units, timezone=settings.timezone
            )
        if quarter.first_day == change or quarter == year.quarters()[0]:
            links = None
            if quarter.first_day == change:
                links = home / "ke-thua.csv"
                write_successors_csv(links, successors)
            with console.status("Đang nhập danh sách đơn vị…"):
                imported = import_registry(
                    str(home / DEMO_REGISTRY),
                    str(home),
                    str(links) if links else None,
                    change if links else None,
                )
            if imported.problems:
                _fail(escape("; ".join(problem.message for problem in imported.problems)))
            console.print(escape(registry_summary_vi(imported)))
        with console.status(f"Đang tổng hợp {quarter.label_vi}…"):
            report = quarterly_report(str(quarter), str(home))
        collected = report.collected
        console.print(
            f"{quarter.label_vi}: nhận {collected.received} tệp — {collected.accepted} hợp lệ, "
            f"{collected.rejected} bị trả lại; {province_headline(context.database_url, quarter)}"
        )
    with console.status(f"Đang tổng hợp báo cáo {year.label_vi} từ các quý…"):
        report = quarterly_report(str(year), str(home))
    _print_run(report)
    console.print(province_headline(context.database_url, year))


def _print_unsent(summaries: Sequence[object]) -> None:
    """Where the letters a run could not send for want of a mail server are, as `.eml` files:
    one line per folder, with how many of each kind."""
    from tonghop.formatting import format_count

    by_folder: dict[Path, dict[str, int]] = {}
    for summary in summaries:
        if summary.letter_files:
            kinds = by_folder.setdefault(summary.unsent_folder, {})
            title = summary.kind.title.lower()
            kinds[title] = kinds.get(title, 0) + len(summary.letter_files)
    for folder, kinds in by_folder.items():
        counts = ", ".join(f"{format_count(count)} {title}" for title, count in kinds.items())
        console.print(
            f"Thư chưa gửi (chưa cấu hình máy chủ thư): {format_count(sum(kinds.values()))} tệp "
            f".eml trong «{escape(str(folder))}» ({counts})."
        )


def cli() -> None:
    """The `tonghop` command: an operator reads a failure's Vietnamese message, not a
    traceback (`--chi-tiet` shows Prefect's logs, where the traceback is kept)."""
    from tonghop.errors import TonghopError

    try:
        app()
    except TonghopError as error:
        console.print(f"[bold red]Lỗi:[/] {escape(str(error))}")
        sys.exit(1)
    except Exception as error:  # a defect: say so plainly, the details are in Prefect's logs
        console.print(
            f"[bold red]Lỗi ngoài dự kiến[/] ({type(error).__name__}: {escape(str(error))}). "
            "Không có kết quả dở dang nào được công bố; chạy lại với --chi-tiet để xem chi tiết "
            "và báo cho người quản trị hệ thống."
        )
        sys.exit(2)


def usage_error_vi(error: Exception) -> str:
    """A command-line mistake in Vietnamese (Click, inside Typer, words them in English)."""
    kind = type(error).__name__
    param = getattr(error, "param", None)
    name = param.opts[0] if param is not None and getattr(param, "opts", None) else ""
    if kind == "NoSuchOption":
        text = f"Không có tùy chọn {error.option_name}."  # type: ignore[attr-defined]
        possibilities = getattr(error, "possibilities", None)
        if possibilities:
            text += f" Có phải là {', '.join(sorted(possibilities))}?"
        return text
    if kind == "MissingParameter":
        if getattr(param, "param_type_name", "") == "argument":
            return f"Thiếu tham số {name.upper()}."
        return f"Thiếu tùy chọn {name}."
    if kind == "BadParameter":
        return f"Giá trị không hợp lệ cho {name}: {getattr(error, 'message', error)}"
    message = error.format_message() if hasattr(error, "format_message") else str(error)
    if message.startswith("No such command"):
        command = message.split("'")[1] if "'" in message else ""
        suggestion = (
            message.split("Did you mean '")[1].split("'")[0] if "Did you mean" in (message) else ""
        )
        return f"Không có lệnh «{command}»." + (
            f" Có phải là «{suggestion}»?" if suggestion else ""
        )
    if message.startswith("Got unexpected extra argument"):
        return f"Thừa tham số: {message.split('(', 1)[-1].rstrip(').')}."
    return message


if __name__ == "__main__":
    cli()
