"""The automations that bring a person when something needs one, declared here like the
deployments (flows/serving.py) and applied to the Prefect server by `tonghop automations` and
at every `tonghop serve`: an e-mail to the operators when a scheduled run fails, crashes or
times out, and when a collection rejects a surge of forms. Both send through the notification
block "Thư báo cho cán bộ vận hành" (tasks/notifications.py) named by TONGHOP_ALERT_BLOCK, which
the operator creates once in the UI's Blocks page. Runs started by hand on the command line are
not mailed: the operator sees them end."""

from __future__ import annotations

import asyncio
from uuid import UUID

from prefect import get_client
from prefect.events import emit_event
from prefect.events.actions import SendNotification
from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture

from tonghop.config import Settings
from tonghop.context import RunContext
from tonghop.errors import TonghopError
from tonghop.formatting import format_count, format_percent
from tonghop.run_summary import rejection_surge
from tonghop_tasks.notifications import OperatorMail

FAILED_RUN = "Tổng hợp: lần chạy theo lịch thất bại"
REJECTIONS_SURGE = "Tổng hợp: nhiều báo cáo bị trả lại"
# The event a collection emits when it found a surge of rejections; its resource is the period.
SURGE_EVENT = "tonghop.collection.rejections-surge"
# The flows an operator schedules (flows/serving.py): the runs of their deployments are watched.
WATCHED_FLOWS = ["issue_forms", "collect", "quarterly_report", "remind"]

FAILED_SUBJECT = (
    "[Tổng hợp] {{ flow_run.name }}: "
    "{% if flow_run.state.name == 'Crashed' %}bị dừng đột ngột"
    "{% elif flow_run.state.name == 'TimedOut' %}quá thời gian{% else %}thất bại{% endif %}"
)
FAILED_BODY = """\
Lần chạy «{{ flow_run.name }}» của lịch {{ deployment.name }} \
{% if flow_run.state.name == 'Crashed' %}bị dừng đột ngột: máy chạy `tonghop serve` bị tắt, \
hết bộ nhớ hoặc tiến trình bị dừng giữa chừng. Kiểm tra máy đó rồi bấm Retry trên trang lần \
chạy.{% elif flow_run.state.name == 'TimedOut' %}chạy quá thời gian cho phép và đã bị dừng.\
{% else %}đã thất bại.{% endif %}

{{ flow_run.state.message }}

{% if flow_run|ui_url %}Xem lần chạy: {{ flow_run|ui_url }}
{% endif %}Mọi lần chạy của Tổng hợp đều chạy lại được an toàn: không có gì được lưu, công bố \
hay gửi hai lần.

Thư tự động của hệ thống Tổng hợp; không cần trả lời thư này.
"""
SURGE_SUBJECT = (
    "[Tổng hợp] {{ event.payload.period }}: {{ event.payload.rejected }} báo cáo bị trả lại "
    "trong một lần thu thập"
)
SURGE_BODY = """\
Lần thu thập «{{ event.payload.run_name }}» nhận {{ event.payload.received }} tệp báo cáo \
{{ event.payload.period_label }}, trong đó {{ event.payload.rejected }} tệp bị trả lại \
({{ event.payload.share }}) — nhiều hơn mức cảnh báo (từ {{ event.payload.minimum }} tệp và \
{{ event.payload.minimum_share }} số tệp nhận được).

Nhiều đơn vị cùng bị trả lại thường do mẫu biểu gửi đi có lỗi hoặc một quy tắc kiểm tra không \
đúng, không phải do từng đơn vị. Xem danh sách tệp bị trả lại và lý do trong mục «Tệp báo cáo \
nhận lúc …» của lần chạy{% if flow_run|ui_url %}: {{ flow_run|ui_url }}{% endif %}.

Thư tự động của hệ thống Tổng hợp; không cần trả lời thư này.
"""


class AlertBlockMissing(TonghopError):
    """The notification block the automations send through is not saved in Prefect."""


def declared_automations(block_id: UUID) -> list[AutomationCore]:
    """The project's automations, sending through the block saved with `block_id`."""
    return [
        AutomationCore(
            name=FAILED_RUN,
            description=(
                "Gửi thư cho cán bộ vận hành khi một lần chạy theo lịch của Tổng hợp thất bại, "
                "bị dừng đột ngột hoặc quá thời gian."
            ),
            trigger=EventTrigger(
                expect={
                    "prefect.flow-run.Failed",
                    "prefect.flow-run.Crashed",
                    "prefect.flow-run.TimedOut",
                },
                match={"prefect.resource.id": "prefect.flow-run.*"},
                # Only runs of a deployment: a step of a run fails with it, and one e-mail says
                # so; a run started on the command line is watched by the one who started it.
                match_related=[
                    {"prefect.resource.role": "flow", "prefect.resource.name": WATCHED_FLOWS},
                    {"prefect.resource.role": "deployment"},
                ],
                posture=Posture.Reactive,
                threshold=1,
            ),
            actions=[
                SendNotification(
                    block_document_id=block_id, subject=FAILED_SUBJECT, body=FAILED_BODY
                )
            ],
        ),
        AutomationCore(
            name=REJECTIONS_SURGE,
            description=(
                "Gửi thư cho cán bộ vận hành khi một lần thu thập có nhiều báo cáo bị trả lại "
                "(TONGHOP_ALERT_REJECTED, TONGHOP_ALERT_REJECTED_SHARE)."
            ),
            trigger=EventTrigger(
                expect={SURGE_EVENT},
                match={"prefect.resource.id": "tonghop.period.*"},
                posture=Posture.Reactive,
                threshold=1,
            ),
            actions=[
                SendNotification(block_document_id=block_id, subject=SURGE_SUBJECT, body=SURGE_BODY)
            ],
        ),
    ]


def apply_automations(settings: Settings) -> list[str]:
    """Create the project's automations on the Prefect server, replacing those of the same
    names (applying twice changes nothing); returns their names. AlertBlockMissing when the
    block TONGHOP_ALERT_BLOCK is not saved."""
    # The block type, so that the Blocks page offers it even on a server started before the
    # project was installed beside it.
    OperatorMail.register_type_and_schema()
    try:
        block = OperatorMail.load(settings.alert_block)
    except ValueError as error:
        raise AlertBlockMissing(
            f"Chưa có khối «{settings.alert_block}» (Thư báo cho cán bộ vận hành) trong "
            "Prefect: tạo khối này trong trang Blocks (chọn máy chủ thư, địa chỉ gửi và người "
            "nhận) rồi chạy lại `tonghop automations`. Chưa có thư báo nào được thiết lập."
        ) from error
    automations = declared_automations(block._block_document_id)

    async def apply() -> None:
        async with get_client() as client:
            for automation in automations:
                for existing in await client.read_automations_by_name(automation.name):
                    await client.delete_automation(existing.id)
                await client.create_automation(automation)

    asyncio.run(apply())
    return [automation.name for automation in automations]


def announce_rejections(context: RunContext, run_name: str, received: int, rejected: int) -> bool:
    """Emit the surge event when a collection rejected many of the files it received (the
    settings say how many); whether it did."""
    settings = context.settings
    if not rejection_surge(
        received, rejected, settings.alert_rejected, settings.alert_rejected_share
    ):
        return False
    period = context.period
    emit_event(
        event=SURGE_EVENT,
        resource={
            "prefect.resource.id": f"tonghop.period.{period}",
            "prefect.resource.name": period.label_vi,
        },
        payload={
            "period": str(period),
            "period_label": period.label_vi,
            "run_name": run_name,
            "received": format_count(received),
            "rejected": format_count(rejected),
            "share": format_percent(rejected / received),
            "minimum": format_count(settings.alert_rejected),
            "minimum_share": format_percent(settings.alert_rejected_share),
        },
    )
    return True
