"""Sending e-mail, the one way the project does it: the SMTP server from the settings (a saved
prefect-email block or the TONGHOP_SMTP_* settings), one session reused for a whole batch, and
every message tried on its own up to a number of times, so that a batch ends with how each
message ended rather than stopping at the first failure."""

from __future__ import annotations

import logging
import smtplib
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message

from prefect_email import EmailServerCredentials
from pydantic import SecretStr

from tonghop.config import Settings
from tonghop.reminders import FAILED, SENT, MailNotConfigured

# A server that accepts the connection and then stalls must not hold the run forever.
SMTP_TIMEOUT_SECONDS = 60


def mail_configured(settings: Settings) -> bool:
    """Whether the settings name a mail server at all (a block, or an SMTP host)."""
    return bool(settings.email_block or settings.smtp_host)


def mail_server(settings: Settings) -> EmailServerCredentials:
    """The SMTP server to send through: the saved block named by `email_block`, else one made
    from the smtp_* settings; MailNotConfigured when neither is set."""
    if settings.email_block:
        try:
            return EmailServerCredentials.load(settings.email_block)
        except ValueError as error:
            raise MailNotConfigured(
                f"Không tải được khối cấu hình máy chủ thư «{settings.email_block}» "
                f"(Email Server Credentials) từ Prefect: {error}"
            ) from error
    if not settings.smtp_host:
        raise MailNotConfigured(
            "Chưa cấu hình máy chủ thư: đặt TONGHOP_SMTP_HOST (và TONGHOP_SMTP_PORT, "
            "TONGHOP_SMTP_SECURITY, TONGHOP_SMTP_USERNAME, TONGHOP_SMTP_PASSWORD khi cần) hoặc "
            "TONGHOP_EMAIL_BLOCK là tên khối Email Server Credentials đã lưu trong Prefect; "
            "chưa thư nào được gửi."
        )
    return EmailServerCredentials(
        smtp_server=settings.smtp_host,
        smtp_type=settings.smtp_security,
        smtp_port=settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password or SecretStr(""),
    )


@dataclass(frozen=True)
class Outgoing:
    """One message to send; `label` names it in the log (e.g. `thư đôn đốc đến … <…>`)."""

    message: Message
    label: str


@dataclass(frozen=True)
class Attempted:
    """How one message ended: sent after `attempts` tries, or failed with the Vietnamese
    `error`; `finished_at` (UTC) is when its last attempt ended."""

    attempts: int
    outcome: str
    error: str | None
    finished_at: datetime

    @property
    def sent(self) -> bool:
        return self.outcome == SENT


class _Connection:
    """One SMTP session reused for the whole batch, opened again after any failure."""

    def __init__(self, server: EmailServerCredentials) -> None:
        self._server = server
        self._smtp: smtplib.SMTP | None = None

    def get(self) -> smtplib.SMTP:
        if self._smtp is None:
            try:
                smtp = self._server.get_server()
            except (smtplib.SMTPException, OSError) as error:
                raise _Unreachable(error) from error
            if smtp.sock is not None:
                smtp.sock.settimeout(SMTP_TIMEOUT_SECONDS)
            self._smtp = smtp
        return self._smtp

    def discard(self) -> None:
        """Drop the session: after a failure its state is unknown, a fresh one is cheaper."""
        if self._smtp is None:
            return
        smtp, self._smtp = self._smtp, None
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


class _Unreachable(Exception):
    """The server could not be connected or logged in to."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


def _describe(error: BaseException, server: EmailServerCredentials) -> str:
    """The reason a send failed, for the operator."""
    if isinstance(error, _Unreachable):
        host = getattr(server.smtp_server, "value", server.smtp_server)
        return f"không kết nối được máy chủ thư {host}: {_describe(error.cause, server)}"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        answers = "; ".join(
            f"{code} {_text(message)}" for code, message in error.recipients.values()
        )
        return f"máy chủ thư từ chối người nhận ({answers})"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"máy chủ thư trả lời {error.smtp_code} {_text(error.smtp_error)}"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _text(message: bytes | str) -> str:
    return message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)


def _ended(attempts: int, outcome: str, error: str | None) -> Attempted:
    return Attempted(attempts, outcome, error, datetime.now(UTC))


def send_messages(
    messages: Iterable[Outgoing],
    server: EmailServerCredentials,
    attempts: int,
    retry_seconds: float,
    logger: logging.Logger | logging.LoggerAdapter,
) -> list[Attempted]:
    """Send every message over one SMTP session, each tried up to `attempts` times `retry_seconds`
    apart; return how each ended, in order. `messages` is consumed one at a time, so a generator
    keeps a single message's attachments in memory. Once a message could not reach the server at
    all, the rest end failed without being tried: none is dropped."""
    attempts = max(1, attempts)
    connection = _Connection(server)
    unreachable: str | None = None
    results = []
    try:
        for outgoing in messages:
            if unreachable is not None:
                # Every attempt of the previous message failed to connect: trying each of the
                # rest as many times would only make the operator wait for the same answer.
                results.append(_ended(0, FAILED, unreachable))
                continue
            error: BaseException | None = None
            for attempt in range(1, attempts + 1):
                try:
                    connection.get().send_message(outgoing.message)
                except (_Unreachable, smtplib.SMTPException, OSError) as failure:
                    error = failure
                    connection.discard()
                    logger.warning(
                        "Lần gửi %d/%d %s không thành công: %s",
                        attempt,
                        attempts,
                        outgoing.label,
                        _describe(failure, server),
                    )
                    if attempt < attempts:
                        time.sleep(retry_seconds)
                    continue
                results.append(_ended(attempt, SENT, None))
                logger.info("Đã gửi %s.", outgoing.label)
                break
            else:
                reason = _describe(error, server)
                results.append(_ended(attempts, FAILED, reason))
                if isinstance(error, _Unreachable):
                    unreachable = f"chưa gửi vì {reason}"
    finally:
        connection.discard()
    return results
