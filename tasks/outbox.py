"""Prefect tasks of the outbox, for every kind of letter: plan a kind's letters against what
earlier runs did, send them (each letter's intent recorded before it goes and its outcome
after), record those that could not be tried, write them as `.eml` files when there is no mail
server, and leave the operator the run's list."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

from prefect import get_run_logger, task
from prefect.artifacts import MarkdownArtifact
from prefect.cache_policies import NO_CACHE
from prefect.states import State
from prefect_email import EmailServerCredentials

from tonghop.catalogue import catalogue_version
from tonghop.config import Settings
from tonghop.context import local_now
from tonghop.delivery import REPORT, build_deliveries
from tonghop.errors import TonghopError
from tonghop.form_letters import FORM, build_form_letters
from tonghop.formatting import format_count
from tonghop.mime import compose
from tonghop.outbox import (
    FAILED,
    Letter,
    LetterFile,
    MailKind,
    OutboxPlan,
    OutboxSummary,
    Outcome,
    artifact_markdown,
    outbox_states,
    plan,
    record_intent,
    record_outcome,
    record_unsent,
    write_letter_files,
)
from tonghop.periods import Period
from tonghop.portal.links import hand_out_links
from tonghop.registry import Unit
from tonghop.registry_store import load_units
from tonghop.reminders import REMINDER, UNIT_REMINDER, build_reminders, build_unit_reminders
from tonghop.storage import transaction
from tonghop.submission_store import period_status
from tonghop.versions import newest_published_version
from tonghop_tasks.artifacts import leave_artifact
from tonghop_tasks.mail import Mailer
from tonghop_tasks.names import unmarked


class NothingPublished(TonghopError):
    """The period has no published version to send."""


class LettersNotSent(TonghopError):
    """Some letters of a batch did not go. Raised by the sending task once every outcome is
    recorded, so that the task ends Failed — a dashboard must not count a failed delivery as
    completed — while its flow still reads every outcome from the error."""

    def __init__(self, outcomes: Sequence[Outcome]) -> None:
        failed = [outcome for outcome in outcomes if not outcome.sent]
        first = failed[0] if failed else None
        super().__init__(
            f"{format_count(len(failed))} trong {format_count(len(outcomes))} thư chưa gửi được"
            + (f"; thư đầu tiên đến {first.letter.to}: {first.error}" if first else "")
            + "."
        )
        self.outcomes = list(outcomes)

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.outcomes,))


def outcomes_of(state: State) -> list[Outcome]:
    """The outcomes a sending task's final state holds, whether it sent everything or not."""
    result = state.result(raise_on_failure=False)
    if isinstance(result, LettersNotSent):
        return result.outcomes
    if isinstance(result, BaseException):
        raise result
    return result


def _log_plan(kind: MailKind, letters: OutboxPlan) -> None:
    get_run_logger().info(
        "%s: %s thư cần gửi; %s thư đã gửi ở lần chạy trước, không gửi lại; %s thư chưa xác nhận.",
        kind.title,
        format_count(len(letters.to_send)),
        format_count(letters.already_sent),
        format_count(len(letters.unconfirmed)),
    )


@task(
    name="plan-reminders",
    task_run_name=unmarked("Lập danh sách thư đôn đốc"),
    cache_policy=NO_CACHE,
)
def plan_reminders(
    database_url: str,
    period: Period,
    units: Sequence[Unit],
    settings: Settings,
    forms_folder: Path,
    resend_unconfirmed: bool,
) -> tuple[OutboxPlan, OutboxPlan]:
    """The period's reminders from the registry `units` and the reporting status, against the
    outbox: the lists to parent units, and each pending unit's own reminder."""
    deadline_days = settings.deadline_days
    with transaction(database_url) as connection:
        status = period_status(connection, period, deadline_days)
        upper_states = outbox_states(connection, REMINDER, period, None)
        unit_states = outbox_states(connection, UNIT_REMINDER, period, None)
    today = local_now(settings.timezone).date()
    upper = plan(
        build_reminders(period, units, status, deadline_days, today),
        upper_states,
        resend_unconfirmed,
    )
    own = plan(
        build_unit_reminders(
            period, units, status, deadline_days, today, forms_folder, settings.mail_from
        ),
        unit_states,
        resend_unconfirmed,
    )
    _log_plan(REMINDER, upper)
    _log_plan(UNIT_REMINDER, own)
    return upper, own


@task(
    name="plan-report-letters",
    task_run_name=unmarked("Lập danh sách thư gửi báo cáo"),
    cache_policy=NO_CACHE,
)
def plan_report_letters(
    database_url: str,
    period: Period,
    version: int,
    reports: Mapping[str, Path],
    workbooks: Mapping[str, Path],
    resend_unconfirmed: bool,
) -> OutboxPlan:
    """The version's report deliveries (each unit its report and its workbook) from the
    registry's addresses, against the outbox."""
    with transaction(database_url) as connection:
        units = load_units(connection)
        states = outbox_states(connection, REPORT, period, version)
    letters = build_deliveries(period, version, units, reports, workbooks)
    planned = plan(letters, states, resend_unconfirmed)
    _log_plan(REPORT, planned)
    return planned


@task(
    name="plan-form-letters",
    task_run_name=unmarked("Lập danh sách thư gửi mẫu biểu"),
    cache_policy=NO_CACHE,
)
def plan_form_letters(
    database_url: str,
    period: Period,
    units: Sequence[Unit],
    forms: Mapping[str, Path],
    settings: Settings,
    resend_unconfirmed: bool,
) -> OutboxPlan:
    """Each unit's blank form by e-mail, against the outbox; with the portal's public address
    set, each letter carries the unit's personal link (made where the unit has none)."""
    with transaction(database_url) as connection:
        states = outbox_states(connection, FORM, period, None)
    links = {}
    if settings.web_public_url:
        issued = hand_out_links(
            database_url,
            [unit for unit in units if unit.code in forms],
            settings.portal_address,
            local_now(settings.timezone),
            settings.web_link_days,
            settings.portal_key(),
        )
        links = {link.unit.code: link.url for link in issued}
    letters = build_form_letters(
        period,
        units,
        forms,
        settings.deadline_days,
        catalogue_version(),
        settings.mail_from,
        settings.contact,
        links,
    )
    planned = plan(letters, states, resend_unconfirmed)
    _log_plan(FORM, planned)
    return planned


@task(
    name="find-published-version",
    task_run_name=unmarked("Tìm phiên bản đã công bố"),
    cache_policy=NO_CACHE,
)
def latest_published_version(database_url: str, period: Period) -> int:
    """The newest version of the period whose files are all written."""
    with transaction(database_url) as connection:
        version = newest_published_version(connection, period)
    if version is None:
        raise NothingPublished(
            f"{period.label_vi} chưa có phiên bản tổng hợp nào được công bố, nên chưa có báo cáo "
            "để gửi; chạy `tonghop run` cho kỳ này trước."
        )
    return version


@task(
    name="record-unsent-letters",
    task_run_name=unmarked("Ghi nhận thư không gửi được"),
    cache_policy=NO_CACHE,
)
def record_unsent_letters(
    database_url: str, letters: Sequence[Letter], reason: str, timezone: str
) -> list[Outcome]:
    """End every letter failed, untried, for one reason (the mail server cannot be used); the
    task fails with LettersNotSent, which holds the outcomes (`outcomes_of`)."""
    ended = local_now(timezone)
    outcomes = [Outcome(letter, FAILED, 0, reason, ended) for letter in letters]
    with transaction(database_url) as connection:
        record_unsent(connection, outcomes)
    if outcomes:
        raise LettersNotSent(outcomes)
    return outcomes


# No task retries: a retried batch would send again what already went; each message is retried
# on its own inside, and a rerun finds every letter's intent and outcome in the outbox.
@task(name="send-letters", task_run_name=unmarked("Gửi thư"), cache_policy=NO_CACHE)
def send_letters(
    database_url: str,
    letters: Sequence[Letter],
    server: EmailServerCredentials,
    mail_from: str,
    attempts: int,
    retry_seconds: float,
    timezone: str,
) -> list[Outcome]:
    """Send every letter over one SMTP session, in order, and return how each ended. Each one's
    intent is recorded before it goes and its outcome right after, so a run that dies midway
    leaves at most one letter unconfirmed. A letter without an address or with an attached file
    gone from disk ends failed with the reason: none is dropped. When any letter failed, the
    task fails with LettersNotSent, which holds every outcome (`outcomes_of`)."""
    zone = ZoneInfo(timezone)
    outcomes = []
    with Mailer(server, attempts, retry_seconds, get_run_logger()) as mailer:
        for letter in letters:
            message = None
            if not letter.deliverable:
                reason = letter.undeliverable or "không có địa chỉ thư điện tử"
            else:
                try:
                    # Composed one at a time: a province's attachments need not sit in memory.
                    message = compose(letter, mail_from)
                except OSError as error:
                    # Someone moved or deleted a published file: say which, send the rest.
                    reason = (
                        f"không đọc được tệp gửi kèm «{getattr(error, 'filename', '') or ''}» "
                        f"({error.strerror or error})"
                    )
            if message is None:
                outcome = Outcome(letter, FAILED, 0, reason, local_now(timezone))
                with transaction(database_url) as connection:
                    record_unsent(connection, [outcome])
                outcomes.append(outcome)
                continue
            with transaction(database_url) as connection:
                message_id = record_intent(connection, letter, local_now(timezone))
            tried = mailer.send(message, f"{letter.about} đến {letter.to}")
            ended = tried.finished_at.astimezone(zone).replace(tzinfo=None)
            outcome = Outcome(letter, tried.state, tried.attempts, tried.error, ended)
            with transaction(database_url) as connection:
                record_outcome(connection, message_id, outcome)
            outcomes.append(outcome)
    sent = sum(outcome.sent for outcome in outcomes)
    get_run_logger().info(
        "%s: đã gửi %s/%s thư%s.",
        letters[0].kind.title if letters else "Thư",
        format_count(sent),
        format_count(len(outcomes)),
        f"; {format_count(len(outcomes) - sent)} thư chưa gửi được" if sent < len(outcomes) else "",
    )
    if sent < len(outcomes):
        raise LettersNotSent(outcomes)
    return outcomes


@task(
    name="write-unsent-letters",
    task_run_name=unmarked("Ghi thư chưa gửi thành tệp .eml"),
    cache_policy=NO_CACHE,
)
def write_unsent_letters(
    letters: Sequence[Letter], folder: Path, mail_from: str, timezone: str
) -> tuple[list[LetterFile], list[Outcome]]:
    """With no mail server, write each letter as the `.eml` file it would have been sent as,
    into `folder`; nothing is recorded in the outbox, so they all go once a server is set."""
    written, unwritten = write_letter_files(letters, folder, mail_from, local_now(timezone))
    get_run_logger().info(
        "Đã ghi %s thư chưa gửi thành tệp .eml trong «%s».", format_count(len(written)), folder
    )
    return written, unwritten


@task(
    name="create-outbox-artifact",
    task_run_name=unmarked("Tạo danh sách thư đã gửi"),
    cache_policy=NO_CACHE,
)
def create_outbox_artifact(summary: OutboxSummary, outermost_run_id: str | None = None) -> None:
    """Who was sent what in this run, every failure with its reason, and what was left; also
    on the outermost run `outermost_run_id` when given."""
    leave_artifact(
        MarkdownArtifact(
            key=f"{summary.kind.artifact_key}-{summary.period.lower()}",
            markdown=artifact_markdown(summary),
            description=f"{summary.kind.title} {summary.label}",
        ),
        outermost_run_id,
    )
