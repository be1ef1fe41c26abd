"""Prefect tasks that publish a period's outputs and leave artifacts an operator reads in the UI."""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import replace
from pathlib import Path

from prefect import get_run_logger, task
from prefect.artifacts import (
    MarkdownArtifact,
    TableArtifact,
    create_link_artifact,
    create_markdown_artifact,
)
from prefect.cache_policies import NO_CACHE

from tonghop.carry_over import NOTHING_CARRIED, CarryOver
from tonghop.catalogue import RATES, label_vi, load_catalogue
from tonghop.consolidation import Consolidation
from tonghop.formatting import format_count, format_percent
from tonghop.layout import (
    CHART_NAMES,
    CHARTS_DIR,
    PublicationFolders,
    chart_file_name,
    commit_stage,
    disk_full_explained,
    find_reports,
)
from tonghop.periods import Period
from tonghop.portal.addresses import OutputAddresses
from tonghop.publishing import PublishedFiles, publish, published_files
from tonghop.run_summary import progress_table
from tonghop_tasks.artifacts import leave_artifact
from tonghop_tasks.names import unmarked
from tonghop_tasks.retrying import worth_retrying

RATE_CODES = {rate.code for rate in RATES}


@task(
    name="publish-outputs",
    task_run_name=unmarked("Ghi bảng tổng hợp, tệp CSV và phản hồi"),
    retries=2,
    retry_delay_seconds=5,
    retry_condition_fn=worth_retrying,
    cache_policy=NO_CACHE,
)
def publish_outputs(
    consolidation: Consolidation,
    folders: PublicationFolders,
    rewrite: bool,
    carry: CarryOver = NOTHING_CARRIED,
    pool: Executor | None = None,
) -> PublishedFiles:
    """Write the version's workbook and CSVs (unless already published), the upper levels' own
    workbooks (copied from the version before where `carry` says so) and the feedback
    workbooks into the version's staging folder; given a process `pool`, the workbooks there."""
    with disk_full_explained(folders, consolidation.period, consolidation.version):
        files = publish(consolidation, folders, rewrite=rewrite, carry=carry, pool=pool)
    get_run_logger().info(
        "Phiên bản %d: %s; %s tệp phản hồi.",
        files.version,
        files.workbook.name,
        format_count(len(files.feedback)),
    )
    return files


def _shown(code: str, number: float | None) -> str:
    return format_percent(number) if code in RATE_CODES else format_count(number)


@task(
    name="commit-publication",
    task_run_name=unmarked("Công bố các tệp"),
    retries=2,
    retry_delay_seconds=5,
    cache_policy=NO_CACHE,
)
def commit_publication(folders: PublicationFolders) -> None:
    """Move the version's staged files into place: until now none of them was visible."""
    moved = commit_stage(folders)
    get_run_logger().info("Đã công bố %s tệp vào %s.", format_count(len(moved)), folders.final)


@task(
    name="find-published", task_run_name=unmarked("Tìm các tệp đã công bố"), cache_policy=NO_CACHE
)
def find_published(out_dir: Path, period: Period, version: int) -> PublishedFiles:
    """The files of a version published by an earlier run, when this run has nothing new."""
    files = published_files(out_dir, period, version)
    return replace(files, reports=find_reports(out_dir, period, version))


@task(
    name="create-run-artifacts",
    task_run_name=unmarked("Tạo bảng số liệu, tiến độ và liên kết kết quả"),
    cache_policy=NO_CACHE,
)
def create_run_artifacts(
    consolidation: Consolidation,
    files: PublishedFiles,
    addresses: OutputAddresses,
    outermost_run_id: str | None = None,
) -> None:
    """The province's figures, the reporting progress, the rejected units and why and what
    changed — also on the outermost run, which tells the operator the whole story — and, on
    this run, the drafted reports and links to the outputs (through the portal when there is
    one, else as paths)."""
    period = consolidation.period
    key = str(period).lower()
    units = consolidation.units.set_index("code")
    root = units["level"].idxmin()
    root_values = consolidation.values[consolidation.values["unit_code"] == root]
    numbers = dict(zip(root_values["indicator_code"], root_values["number"], strict=True))
    codes = [ind.code for ind in load_catalogue() if ind.kind != "text"] + sorted(RATE_CODES)
    summary = [
        TableArtifact(
            key=f"tong-hop-tinh-{key}",
            table=[
                {"Chỉ tiêu": label_vi(code), "Giá trị": _shown(code, numbers.get(code))}
                for code in codes
            ],
            description=(
                f"Số liệu toàn {units.loc[root, 'name']}, {period.label_vi} "
                f"(phiên bản {consolidation.version})"
            ),
        ),
        TableArtifact(
            key=f"tien-do-bao-cao-{key}",
            table=progress_table(consolidation.status, consolidation.units),
            description=(
                f"Tiến độ báo cáo {period.label_vi} theo đơn vị cấp trên trực tiếp: tổng cộng, "
                "rồi các đơn vị còn đơn vị trực thuộc chưa nộp hoặc bị trả lại"
            ),
        ),
        MarkdownArtifact(
            key=f"don-vi-bi-tra-lai-{key}",
            markdown=_rejected_markdown(consolidation),
            description="Các đơn vị bị trả lại và lý do",
        ),
    ]
    changes = consolidation.changes
    if changes is not None:
        summary.append(
            MarkdownArtifact(
                key=f"thay-doi-{key}",
                markdown=(
                    f"# Phiên bản {consolidation.version} — {period.label_vi}\n\n"
                    f"So với phiên bản {changes.previous}: {format_count(len(changes.units))} đơn "
                    f"vị thay đổi báo cáo được tính, {format_count(len(changes.values))} số liệu "
                    f"tổng hợp thay đổi. Chi tiết ở trang «Những thay đổi» của "
                    f"{addresses.markdown(files.workbook.name, files.workbook)}."
                ),
                description="Những thay đổi so với phiên bản trước",
            )
        )
    for artifact in summary:
        leave_artifact(artifact, outermost_run_id)
    if files.reports:
        create_markdown_artifact(
            key=f"bao-cao-{key}",
            markdown=_reports_markdown(consolidation, files, addresses),
            description=f"Dự thảo báo cáo và biểu đồ, {period.label_vi}",
        )
    for name, path in (
        ("so-lieu-tong-hop", files.workbook),
        ("consolidated-csv", files.consolidated_csv),
        ("status-csv", files.status_csv),
    ):
        address = addresses.url(path)
        if address is not None:
            create_link_artifact(
                key=f"{name}-{key}",
                link=address,
                link_text=path.name,
                description=f"{path.name} ({period.label_vi})",
            )
        else:
            create_markdown_artifact(
                key=f"{name}-{key}",
                markdown=f"{path.name}: {addresses.markdown(path.name, path)}",
                description=f"{path.name} ({period.label_vi}); đường dẫn để mở trên máy chủ",
            )


def _rejected_markdown(consolidation: Consolidation) -> str:
    """Each rejected unit with the errors of its latest file."""
    units = consolidation.units.set_index("code")
    status = consolidation.status.merge(
        units[["name"]], left_on="unit_code", right_index=True, how="left"
    )
    rejected = status[status["status"] == "rejected"]
    problems = consolidation.problems
    lines = [f"# Đơn vị bị trả lại báo cáo — {consolidation.period.label_vi}", ""]
    if rejected.empty:
        lines.append("Không có đơn vị nào bị trả lại báo cáo.")
    for row in rejected.itertuples():
        lines.append(f"## {row.name} ({row.unit_code})")
        own = problems[(problems["unit_code"] == row.unit_code) & (problems["severity"] == "error")]
        # A problem found twice in the same file is said once.
        for rule, message in dict.fromkeys(zip(own["rule"], own["message"], strict=True)):
            lines.append(f"- **{rule}**: {message}")
        lines.append("")
    return "\n".join(lines)


def _reports_markdown(
    consolidation: Consolidation, files: PublishedFiles, addresses: OutputAddresses
) -> str:
    """Each drafted report (HTML to read, Word to edit) and its charts, as links."""
    names = consolidation.units.set_index("code")["name"]
    lines = ["| Đơn vị | Báo cáo | Biểu đồ |", "| --- | --- | --- |"]
    for code, docx in files.reports.items():
        html = docx.with_suffix(".html")
        charts = [
            chart
            for name in CHART_NAMES
            if (
                chart := docx.parent
                / CHARTS_DIR
                / chart_file_name(name, consolidation.period, code, consolidation.version)
            ).exists()
        ]
        chart_links = ", ".join(addresses.markdown(chart.stem, chart) for chart in charts)
        lines.append(
            f"| {names.get(code, code)} | {addresses.markdown('HTML', html)} · "
            f"{addresses.markdown('Word', docx)} | {chart_links} |"
        )
    return "\n".join(lines)
