"""Sending e-mail, the one way the project does it: the SMTP server from the settings (a saved
prefect-email block or the TONGHOP_SMTP_* settings), one session reused for a whole batch, and
every message tried on its own up to a number of times, so that a batch ends with how each
message ended rather than stopping at the first failure. The outbox (tasks/outbox.py) is its
one caller."""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message

from prefect_email import EmailServerCredentials
from prefect_email.credentials import SMTPType
from pydantic import SecretStr

from tonghop.config import Settings
from tonghop.outbox import FAILED, SENT, MailNotConfigured

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
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
    if not (password.isascii() and (settings.smtp_username or "").isascii()):
        # smtplib sends the login as ASCII only and would fail mid-run with an encoding error.
        raise MailNotConfigured(
            "Tên đăng nhập hoặc mật khẩu máy chủ thư (TONGHOP_SMTP_USERNAME, "
            "TONGHOP_SMTP_PASSWORD) có chữ có dấu hoặc ký tự ngoài bảng ASCII; máy chủ thư chỉ "
            "nhận các ký tự ASCII khi đăng nhập. Đổi sang mật khẩu không dấu rồi chạy lại; chưa "
            "thư nào được gửi."
        )
    return EmailServerCredentials(
        smtp_server=settings.smtp_host,
        smtp_type=settings.smtp_security,
        smtp_port=settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password or SecretStr(""),
    )


@dataclass(frozen=True)
class Attempted:
    """How one message ended: sent after `attempts` tries, or failed with the Vietnamese
    `error`; `finished_at` (UTC) is when its last attempt ended."""

    attempts: int
    state: str
    error: str | None
    finished_at: datetime

    @property
    def sent(self) -> bool:
        return self.state == SENT


class _Unreachable(Exception):
    """The server could not be connected or logged in to."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


def _text(message: bytes | str) -> str:
    return message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)


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


def open_session(server: EmailServerCredentials) -> smtplib.SMTP:
    """A logged-in session to the block's server, as its `get_server` opens one but with a
    timeout on every step: `get_server` has none, and a server that stalls during the login
    would hold the run forever."""
    host = getattr(server.smtp_server, "value", server.smtp_server)
    security = SMTPType(server.smtp_type)
    port = server.smtp_port or security.value
    timeout = SMTP_TIMEOUT_SECONDS
    if security == SMTPType.INSECURE:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    else:
        context = (
            ssl.create_default_context()
            if server.verify
            else ssl._create_unverified_context(protocol=ssl.PROTOCOL_TLS_CLIENT)
        )
        if security == SMTPType.SSL:
            smtp = smtplib.SMTP_SSL(host, port, context=context, timeout=timeout)
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
            smtp.starttls(context=context)
    if server.username:
        smtp.login(server.username, server.password.get_secret_value())
    return smtp


class Mailer:
    """One SMTP session reused for a whole batch (opened again after any failure), sending one
    message at a time, each tried up to `attempts` times `retry_seconds` apart. Once a message
    could not reach the server at all, the rest end failed without being tried: trying each as
    many times would only make the operator wait for the same answer."""

    def __init__(
        self,
        server: EmailServerCredentials,
        attempts: int,
        retry_seconds: float,
        logger: logging.Logger | logging.LoggerAdapter,
    ) -> None:
        self._server = server
        self._attempts = max(1, attempts)
        self._retry_seconds = retry_seconds
        self._logger = logger
        self._smtp: smtplib.SMTP | None = None
        self._unreachable: str | None = None

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._discard()

    def _session(self) -> smtplib.SMTP:
        if self._smtp is None:
            try:
                self._smtp = open_session(self._server)
            except (smtplib.SMTPException, OSError) as error:
                raise _Unreachable(error) from error
        return self._smtp

    def _discard(self) -> None:
        """Drop the session: after a failure its state is unknown, a fresh one is cheaper."""
        if self._smtp is None:
            return
        smtp, self._smtp = self._smtp, None
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()

    def send(self, message: Message, label: str) -> Attempted:
        """Send one message, `label` naming it in the log (`thư … đến … <…>`); how it ended."""
        if self._unreachable is not None:
            return Attempted(0, FAILED, self._unreachable, datetime.now(UTC))
        error: BaseException | None = None
        for attempt in range(1, self._attempts + 1):
            try:
                self._session().send_message(message)
            except (_Unreachable, smtplib.SMTPException, OSError) as failure:
                error = failure
                self._discard()
                # Each letter's line is below the operator's level: the run sums them up, and
                # its list (the outbox artifact) gives each letter's outcome and reason.
                self._logger.debug(
                    "Lần gửi %d/%d %s không thành công: %s",
                    attempt,
                    self._attempts,
                    label,
                    _describe(failure, self._server),
                )
                if attempt < self._attempts:
                    time.sleep(self._retry_seconds)
                continue
            self._logger.debug("Đã gửi %s.", label)
            return Attempted(attempt, SENT, None, datetime.now(UTC))
        reason = _describe(error, self._server)
        if isinstance(error, _Unreachable):
            self._unreachable = f"chưa gửi vì {reason}"
        return Attempted(self._attempts, FAILED, reason, datetime.now(UTC))
