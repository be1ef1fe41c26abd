"""What an operator reads of a run in the Prefect UI before it starts and in every list: the
parameters of its run form, each with a Vietnamese title, what it is, its format and what an
empty value means (the form refuses a value its pattern does not allow, before any run starts),
and the name a run carries ("2026Q3 · tổng hợp · 30/11 06:00") instead of Prefect's random one.
Their defaults are words ("quý vừa kết thúc", "TONGHOP_HOME"), so that the deployment's
Parameters tab and the form show what a run without them does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from zoneinfo import ZoneInfo

from prefect.runtime import flow_run
from pydantic import Field
from pydantic.fields import FieldInfo

from tonghop.config import Settings
from tonghop.context import RunContext, resolve_run
from tonghop.periods import PERIOD_PATTERN


def _shown(title: str, description: str) -> FieldInfo:
    # Prefect names each field of the form after the parameter and takes its description from
    # the docstring; extra schema keys are applied last, so these are the ones the form shows.
    return Field(json_schema_extra={"title": title, "description": description})


# The defaults, in words the run form and the deployment's Parameters tab show as they are: the
# quarter a run is about when none is written, and the workspace of the machine that runs it.
# An empty text means the same as the flow's default.
JUST_ENDED = "quý vừa kết thúc"
IN_PROGRESS = "quý đang diễn ra"
HOME = "TONGHOP_HOME"

PeriodParameter = Annotated[
    str,
    Field(pattern=f"^(|{JUST_ENDED}|{IN_PROGRESS})$|{PERIOD_PATTERN}"),
    _shown(
        "Kỳ báo cáo",
        "Kỳ cần xử lý: một quý viết như 2025Q3 (năm, chữ Q hoa, số quý 1–4); nửa năm 2025H1; "
        f"cả năm 2025; hoặc nhiều quý liền nhau 2021Q2-2023Q2. Ghi «{JUST_ENDED}» hoặc "
        f"«{IN_PROGRESS}» để chạy cho quý đó; để trống: như mặc định của lịch.",
    ),
]
WorkspaceParameter = Annotated[
    str,
    _shown(
        "Thư mục làm việc",
        "Thư mục chứa inbox/, archive/, outbox/ và published/ trên máy chạy lịch, ví dụ "
        f"/srv/tonghop. Ghi {HOME} hoặc để trống: thư mục đặt trong biến môi trường {HOME} "
        "của máy đó.",
    ),
]


def period_of(text: str | None, *, upcoming: bool = False) -> tuple[str | None, bool]:
    """The period a run's parameter names (None: a default quarter) and whether that default is
    the quarter in progress rather than the one that just ended; empty is the flow's own
    default (`upcoming`)."""
    text = (text or "").strip()
    if text == JUST_ENDED:
        return None, False
    if text == IN_PROGRESS:
        return None, True
    return text or None, upcoming


def workspace_of(text: str | None) -> str | None:
    """The workspace a run's parameter names; None: TONGHOP_HOME."""
    text = (text or "").strip()
    return None if text in ("", HOME) else text


ResendParameter = Annotated[
    bool,
    _shown(
        "Gửi lại thư chưa xác nhận",
        "Bật khi một lần chạy bị gián đoạn lúc đang gửi thư và người nhận báo chưa nhận được: "
        "gửi lại cả những thư đã gửi đi mà chưa xác nhận được (người nhận có thể nhận hai "
        "lần). Mặc định tắt: những thư đó chỉ được liệt kê để kiểm tra.",
    ),
]
VersionParameter = Annotated[
    int,
    Field(ge=0),
    _shown(
        "Phiên bản",
        "Số phiên bản đã công bố cần gửi, ví dụ 2. Để 0: phiên bản mới nhất đã công bố.",
    ),
]


def run_name(kind: str, *, upcoming: bool = False, periodic: bool = True) -> Callable[[], str]:
    """The naming of a flow's runs: `<period> · <kind> · <day/month hour:minute>` in the
    operators' time zone for a run an operator or a schedule starts, the period alone for a
    step of a larger run (which is handed its context). `upcoming`: the default period is the
    quarter in progress, as the flow's own; not `periodic`: a run about no period."""

    def name() -> str:
        parameters = flow_run.parameters
        context = parameters.get("context")
        if isinstance(context, RunContext):
            # The run graph writes a step as "<flow> / <run name>", in a font without Vietnamese
            # letters: the period alone reads well there ("collect / 2025Q3").
            return str(context.period)
        started = flow_run.scheduled_start_time.astimezone(ZoneInfo(Settings().timezone))
        if not periodic:
            return f"{kind} · {started:%d/%m %H:%M}"
        period, in_progress = period_of(parameters.get("period"), upcoming=upcoming)
        if period is None:
            # A half-year's or a year's run names the one that just ended (its `length`).
            length = int(parameters.get("length") or 1)
            period = str(resolve_run(upcoming=in_progress, length=length).period)
        return f"{period.upper()} · {kind} · {started:%d/%m %H:%M}"

    return name
