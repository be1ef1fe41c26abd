"""The e-mail that reaches the operators when something needs a person: a Prefect notification
block, "Thư báo cho cán bộ vận hành", that the project's automations (flows/automations.py) send
through when a scheduled run fails or crashes and when a collection finds a surge of rejected
forms. The Prefect server sends it itself, so the block is a collection the server loads (the
`prefect.collections` entry point in pyproject.toml); an operator creates one in the UI's Blocks
page, choosing the mail server saved as an Email Server Credentials block."""

from __future__ import annotations

import re
import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import anyio
from prefect.blocks.abstract import NotificationBlock, NotificationError
from prefect_email import EmailServerCredentials
from pydantic import Field

from tonghop_tasks.mail import open_session


class OperatorMail(NotificationBlock):
    """Thư điện tử báo cho cán bộ vận hành của Tổng hợp khi một lần chạy theo lịch thất bại
    hoặc có nhiều báo cáo bị trả lại."""

    _block_type_name = "Thư báo cho cán bộ vận hành"
    _block_type_slug = "tonghop-thu-bao-van-hanh"
    _description = (
        "Thư báo cho cán bộ vận hành khi lần chạy theo lịch thất bại hoặc nhiều báo cáo bị trả "
        "lại. Đặt tên khối: tonghop-canh-bao."
    )

    server: EmailServerCredentials = Field(
        title="Máy chủ thư",
        description="Khối Email Server Credentials của máy chủ thư gửi đi (SMTP).",
    )
    sender: str = Field(
        title="Địa chỉ gửi",
        description="Địa chỉ thư đứng tên người gửi, ví dụ tonghop@tinhuy.vn.",
    )
    recipients: str = Field(
        title="Người nhận",
        description=(
            "Địa chỉ thư của các cán bộ vận hành nhận thư báo, cách nhau bằng dấu phẩy, ví dụ "
            "vanhanh1@tinhuy.vn, vanhanh2@tinhuy.vn."
        ),
        min_length=3,
    )

    @property
    def addresses(self) -> list[str]:
        """The recipients, one address each."""
        return [address for address in re.split(r"[,;\s]+", self.recipients) if address]

    async def notify(self, body: str, subject: str | None = None) -> None:
        """Send `body` to every recipient in one message."""
        message = EmailMessage()
        message["Subject"] = subject or "Tổng hợp: thư báo cho cán bộ vận hành"
        message["From"] = self.sender
        message["To"] = ", ".join(self.addresses)
        message["Date"] = formatdate(localtime=True)
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        message["X-Tonghop-Kind"] = "operator-alert"
        message.set_content(body)
        try:
            await anyio.to_thread.run_sync(self._send, message)
        except (smtplib.SMTPException, OSError) as error:
            if self._raise_on_failure:
                raise NotificationError(log=f"{type(error).__name__}: {error}") from error
            self.logger.error("Không gửi được thư báo cho cán bộ vận hành: %s", error)

    def _send(self, message: EmailMessage) -> None:
        smtp = open_session(self.server)
        try:
            smtp.send_message(message)
        finally:
            smtp.quit()
