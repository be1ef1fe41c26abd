"""Prefect tasks over the province's mailbox: take the new messages into the archive, give the
forms they carried their units once read, and move the messages into the processed folder once
their submissions are stored — in that order, so that a crash in between only makes the next
run see a recorded message again and move it."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from prefect import get_run_logger, task
from prefect.blocks.system import Secret
from prefect.cache_policies import NO_CACHE

from tonghop.collecting import ReceivedFile
from tonghop.config import Settings
from tonghop.context import local_now
from tonghop.formatting import format_count
from tonghop.mail_intake import registry_addresses, settle_mail
from tonghop.mailbox import (
    MailboxConfig,
    MailboxUnavailable,
    MailIntake,
    move_messages,
    opened_mailbox,
    take_messages,
)
from tonghop.reading import FormRead
from tonghop.registry import Unit
from tonghop.storage import transaction
from tonghop.submission_store import known_files, recorded_messages
from tonghop_tasks.names import unmarked

# A mailbox that does not answer is asked again after this long, twice, before the run goes on
# with the folder inbox alone.
MAILBOX_RETRIES, MAILBOX_RETRY_SECONDS = 2, 20


def mailbox_config(settings: Settings) -> MailboxConfig | None:
    """The mailbox the settings name, its password from the saved Prefect Secret block when one
    is named; None when no mailbox is configured."""
    if not settings.imap_host:
        return None
    if settings.imap_password_block:
        password = str(Secret.load(settings.imap_password_block).get())
    else:
        password = settings.imap_password.get_secret_value() if settings.imap_password else ""
    return MailboxConfig(
        host=settings.imap_host,
        port=settings.imap_port,
        security=settings.imap_security,
        username=settings.imap_username or "",
        password=password,
        folder=settings.imap_folder,
        done_folder=settings.imap_done_folder,
        max_message_bytes=settings.imap_max_message_bytes,
    )


@task(
    name="receive-mail",
    task_run_name=unmarked("Nhận thư từ hộp thư điện tử"),
    retries=MAILBOX_RETRIES,
    retry_delay_seconds=MAILBOX_RETRY_SECONDS,
    retry_condition_fn=lambda _task, _run, state: _unavailable(state),
    cache_policy=NO_CACHE,
)
def receive_mail(
    database_url: str,
    workspace: Path,
    archive: Path,
    period: str,
    config: MailboxConfig,
    units: list[Unit],
    own_addresses: list[str],
    timezone: str,
) -> MailIntake:
    """Keep every new message of the mailbox in the archive byte for byte, and its forms beside
    it to be read with the folder's files."""
    with transaction(database_url) as connection:
        recorded = recorded_messages(connection)
    addresses = set().union(*(registry_addresses(unit.email) for unit in units))
    intake = take_messages(
        config,
        workspace,
        archive,
        period,
        recorded,
        addresses,
        own_addresses,
        local_now(timezone),
        ZoneInfo(timezone),
    )
    forms = sum(len(message.files) for message in intake.messages)
    get_run_logger().info(
        "Hộp thư %s: %s thư mới (%s tệp báo cáo đính kèm)%s.",
        config.address,
        format_count(len(intake.messages)),
        format_count(forms),
        f"; {format_count(len(intake.recorded_uids))} thư đã ghi nhận ở lần chạy trước, chờ "
        f"chuyển sang «{config.done_folder}»"
        if intake.recorded_uids
        else "",
    )
    return intake


def _unavailable(state: object) -> bool:
    """Retry only when the server failed us, not when the product did."""
    try:
        state.result()  # type: ignore[attr-defined]
    except MailboxUnavailable:
        return True
    except Exception:  # anything else is a bug a retry will not fix
        return False
    return False


@task(
    name="place-mailed-forms",
    task_run_name=unmarked("Ghi nhận tệp gửi qua thư điện tử"),
    cache_policy=NO_CACHE,
)
def place_mailed_forms(
    database_url: str,
    intake: MailIntake,
    forms: list[FormRead],
    units: list[Unit],
    day: date,
    folder_files: list[ReceivedFile],
) -> tuple[list[ReceivedFile], list[FormRead], list[dict[str, object]]]:
    """Give each mailed form its unit (its C2, when the sender may report for it); refuse the
    rest in their message's answer; drop bytes a unit sent before, by mail or in the folder."""
    files = [item for message in intake.messages for item in message.files]
    by_id = {item.submission_id: form for item, form in zip(files, forms, strict=True)}
    with transaction(database_url) as connection:
        known = known_files(connection)
    known |= {(item.unit_code, item.sha256) for item in folder_files}
    placed, placed_forms, rows = settle_mail(intake.messages, by_id, units, known, day)
    refused = sum(row["disposition"] == "stranger" for row in rows)
    if refused:
        get_run_logger().warning(
            "%s thư gửi báo cáo của đơn vị mà địa chỉ gửi không có quyền báo cáo thay: không "
            "tiếp nhận, sẽ trả lời người gửi.",
            format_count(refused),
        )
    return placed, placed_forms, rows


@task(
    name="file-processed-mail",
    task_run_name=unmarked("Chuyển thư đã xử lý"),
    retries=MAILBOX_RETRIES,
    retry_delay_seconds=MAILBOX_RETRY_SECONDS,
    cache_policy=NO_CACHE,
)
def file_processed_mail(config: MailboxConfig, uids: list[str]) -> int:
    """Move the messages whose submissions are stored into the processed folder."""
    with opened_mailbox(config) as mailbox:
        move_messages(mailbox, uids, config.done_folder)
    get_run_logger().info(
        "Đã chuyển %s thư sang thư mục «%s».", format_count(len(uids)), config.done_folder
    )
    return len(uids)
