"""The `import_registry` flow: check a registry CSV (and its successor CSV) whole and store it as
the next registry version, in force from a date; the versions before it stay as they were."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from prefect import flow
from prefect.utilities.annotations import quote

from tonghop.context import local_now
from tonghop.restructuring import effective_date_vi, effective_default
from tonghop_flows.failures import explained
from tonghop_flows.parameters import HOME, WorkspaceParameter, run_name
from tonghop_flows.run import exclusive_run, started_run, with_database_retries
from tonghop_tasks.registry import StoredRegistry, read_registry_file, store_registry

# The outcome of an import: `problems` refused it whole (nothing stored), else the version made.
RegistryImport = StoredRegistry


@flow(
    name="import_registry",
    flow_run_name=run_name("nhập danh sách đơn vị", periodic=False),
    log_prints=True,
)
@explained
def import_registry(
    path: str,
    workspace: WorkspaceParameter = HOME,
    successors: str | None = None,
    effective_from: date | None = None,
) -> RegistryImport:
    """Import the registry at `path` (and the successor links at `successors`) as a version in
    force from `effective_from` (by default the first day of the quarter that just ended; the
    first import is in force from the beginning); nothing is stored when it has any problem."""
    with started_run(workspace, None, exclusive=False) as context:
        source = Path(path)
        now = local_now(context.settings.timezone)
        effective = effective_from or effective_default(now.date())
        units, links, problems = read_registry_file(
            source, Path(successors) if successors else None, effective
        )
        if problems:
            return RegistryImport(problems)
        with exclusive_run(context):
            stored = with_database_retries(store_registry, context.settings)(
                context.database_url, quote(units), quote(links), effective, now, source.name
            )
    if not stored.problems:
        print(registry_summary_vi(stored))
    return stored


def registry_summary_vi(stored: StoredRegistry) -> str:
    """What the import did, in one line for the operator."""
    if stored.version is None:
        return "Danh sách đơn vị không có gì thay đổi so với danh sách đang dùng; không lưu thêm."
    ended = f"; {stored.ended} đơn vị kết thúc hoạt động" if stored.ended else ""
    saved = f"Đã lưu danh sách đơn vị phiên bản {stored.version} ({stored.units} đơn vị{ended})"
    if stored.effective_from is None:
        return f"{saved}, áp dụng cho mọi kỳ báo cáo."
    return (
        f"{saved}, có hiệu lực {effective_date_vi(stored.effective_from)}; các kỳ kết thúc trước "
        "ngày đó vẫn tổng hợp theo danh sách cũ."
    )
