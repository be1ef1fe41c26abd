"""The province's mailbox over IMAP (SPEC §3, §8), through imap-tools: open it as configured,
list what waits in its folder with each message's size and arrival time (INTERNALDATE), fetch a
message's bytes exactly as stored (or its header alone, for one too large to download), take
every new message into the archive byte for byte with its forms, and move messages into the
processed folder once what they carried is stored.

What a message means is decided in tonghop/mail_intake.py, and when it is moved by the flow
(after the store); every message is read with BODY.PEEK, so that reading alone never marks it."""

from __future__ import annotations

import imaplib
import re
import socket
import ssl
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from imap_tools import BaseMailBox, MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.errors import ImapToolsError, MailboxLoginError

from tonghop.collecting import ReceivedFile
from tonghop.errors import TonghopError
from tonghop.formatting import format_bytes, format_datetime
from tonghop.layout import mail_archive_copy, mail_attachment_copy, write_atomically
from tonghop.mail_intake import (
    AUTOMATIC,
    FORMS,
    NO_FORM,
    OVERSIZED,
    ParsedMessage,
    ReceivedMessage,
    attachment_problems,
    checksum,
    parse_message,
    refusal_text,
    reply_addresses,
)

_LISTED = re.compile(
    rb"UID (?P<uid>\d+)|RFC822\.SIZE (?P<size>\d+)|INTERNALDATE \"(?P<date>[^\"]+)\""
)
_PORTS = {"SSL": 993, "STARTTLS": 143, "INSECURE": 143}
TIMEOUT_SECONDS = 60
_CONNECTION_ERRORS = (
    imaplib.IMAP4.error,
    ImapToolsError,
    ConnectionError,
    TimeoutError,
    ssl.SSLError,
    socket.gaierror,
)


class MailboxUnavailable(TonghopError):
    """The mailbox cannot be opened or read; the message says why, in Vietnamese."""


@dataclass(frozen=True)
class MailboxConfig:
    """Where the province's mailbox is and how to log in; `done_folder` receives each message
    once what it carried is stored, and a message over `max_message_bytes` is never downloaded."""

    host: str
    port: int | None
    security: str
    username: str
    password: str
    folder: str
    done_folder: str
    max_message_bytes: int

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port or _PORTS[self.security]} ({self.username})"


@dataclass(frozen=True)
class Listed:
    """A message waiting in the folder: its UID, size and arrival time (timezone-aware)."""

    uid: str
    size: int
    arrived: datetime


@contextmanager
def opened_mailbox(config: MailboxConfig) -> Iterator[BaseMailBox]:
    """The mailbox logged in with its folder selected; MailboxUnavailable, with the reason in
    Vietnamese, when it cannot be."""
    port = config.port or _PORTS[config.security]
    try:
        if config.security == "SSL":
            mailbox: BaseMailBox = MailBox(
                config.host, port, ssl_context=ssl.create_default_context(), timeout=TIMEOUT_SECONDS
            )
        elif config.security == "STARTTLS":
            mailbox = MailBoxStartTls(
                config.host, port, ssl_context=ssl.create_default_context(), timeout=TIMEOUT_SECONDS
            )
        else:
            mailbox = MailBoxUnencrypted(config.host, port, timeout=TIMEOUT_SECONDS)
    except ssl.SSLError as error:
        raise MailboxUnavailable(
            f"Không kết nối an toàn được đến hộp thư {config.address}: chứng chỉ của máy chủ "
            f"không được tin cậy hoặc máy chủ không hỗ trợ {config.security} ({error})."
        ) from error
    except (OSError, imaplib.IMAP4.error) as error:
        raise MailboxUnavailable(
            f"Không kết nối được đến hộp thư {config.address}: {error}."
        ) from error
    try:
        try:
            mailbox.login(config.username, config.password, initial_folder=config.folder)
        except MailboxLoginError as error:
            raise MailboxUnavailable(
                f"Hộp thư {config.address} từ chối đăng nhập: sai tên đăng nhập hoặc mật khẩu "
                "(TONGHOP_IMAP_USERNAME, TONGHOP_IMAP_PASSWORD)."
            ) from error
        except ImapToolsError as error:
            raise MailboxUnavailable(
                f"Hộp thư {config.address} không mở được thư mục «{config.folder}» "
                f"(TONGHOP_IMAP_FOLDER): {error}."
            ) from error
        yield mailbox
    except _CONNECTION_ERRORS as error:
        # Only the connection's own errors: a full disk while keeping a message is not one.
        raise MailboxUnavailable(f"Mất kết nối với hộp thư {config.address}: {error}.") from error
    finally:
        with suppress(OSError, imaplib.IMAP4.error, ImapToolsError):
            mailbox.logout()  # the connection is gone either way


def listed_messages(mailbox: BaseMailBox) -> list[Listed]:
    """Every message in the selected folder, oldest UID first."""
    status, data = mailbox.client.uid("SEARCH", "ALL")
    _check(status, data, "SEARCH")
    uids = data[0].split() if data and data[0] else []
    if not uids:
        return []
    status, data = mailbox.client.uid(
        "FETCH", b",".join(uids).decode(), "(RFC822.SIZE INTERNALDATE)"
    )
    _check(status, data, "FETCH")
    listed = []
    for line in data:
        if not isinstance(line, bytes):
            continue
        found: dict[str, bytes] = {}
        for match in _LISTED.finditer(line):
            found.update({key: value for key, value in match.groupdict().items() if value})
        if {"uid", "size", "date"} <= found.keys():
            arrived = datetime.strptime(found["date"].decode(), "%d-%b-%Y %H:%M:%S %z")
            listed.append(Listed(found["uid"].decode(), int(found["size"]), arrived))
    return sorted(listed, key=lambda item: int(item.uid))


def fetched(mailbox: BaseMailBox, uid: str, header_only: bool = False) -> bytes:
    """A message's bytes exactly as the server stores them (or its header alone), unmarked."""
    section = "BODY.PEEK[HEADER]" if header_only else "BODY.PEEK[]"
    status, data = mailbox.client.uid("FETCH", uid, f"({section})")
    _check(status, data, "FETCH")
    for item in data:
        if isinstance(item, tuple):
            return item[1]
    raise MailboxUnavailable(f"Máy chủ thư không trả về nội dung thư UID {uid}.")


def move_messages(mailbox: BaseMailBox, uids: Sequence[str], folder: str) -> None:
    """Move the messages into `folder`, creating it when missing."""
    if not uids:
        return
    if not mailbox.folder.exists(folder):
        mailbox.folder.create(folder)
    mailbox.move(list(uids), folder)


def _check(status: str, data: list, command: str) -> None:
    if status != "OK":
        raise MailboxUnavailable(f"Máy chủ thư từ chối lệnh {command}: {data!r}.")


@dataclass(frozen=True)
class MailIntake:
    """What one run took from the mailbox: the new messages, and the UIDs of messages whose
    bytes are recorded already (a run died before moving them): those only wait to be moved."""

    messages: list[ReceivedMessage]
    recorded_uids: list[str]

    @property
    def uids(self) -> list[str]:
        """Every message to move once the run's submissions are stored."""
        return [message.uid for message in self.messages] + self.recorded_uids


def take_messages(
    config: MailboxConfig,
    workspace: Path,
    archive: Path,
    period: str,
    recorded: set[str],
    registry_addresses: set[str],
    own_addresses: Sequence[str],
    seen_at: datetime,
    timezone: ZoneInfo,
) -> MailIntake:
    """Keep every message of the folder not `recorded` before (by checksum) in the archive,
    byte for byte, before anything else; then its forms beside it, to be read like any file.
    Received at its INTERNALDATE in the operators' time zone, never later than `seen_at`. A
    message over the size limit is not downloaded: its header is kept as the evidence. Only
    those who can be told something useful are answered: registry addresses, and anyone who
    sent a form."""
    messages: list[ReceivedMessage] = []
    recorded_uids: list[str] = []
    taken = set(recorded)
    with opened_mailbox(config) as mailbox:
        for listed in listed_messages(mailbox):
            oversized = listed.size > config.max_message_bytes
            raw = fetched(mailbox, listed.uid, header_only=oversized)
            sha = checksum(raw)
            if sha in taken:
                recorded_uids.append(listed.uid)
                continue
            taken.add(sha)
            kept = mail_archive_copy(archive, sha)
            if not kept.exists():
                write_atomically(kept, lambda path, raw=raw: path.write_bytes(raw))
            received_at = min(listed.arrived.astimezone(timezone).replace(tzinfo=None), seen_at)
            parsed = parse_message(raw)
            row = {
                "id": sha[:32],
                "sha256": sha,
                "period": period,
                "message_id": parsed.message_id,
                "sender": parsed.sender,
                "subject": parsed.subject,
                "received_at": received_at,
                "size_bytes": listed.size,
                "archive_path": kept.relative_to(workspace).as_posix(),
                "disposition": FORMS,
                "form_count": 0,
                "refusal": None,
                "processed_at": seen_at,
            }
            files: tuple[ReceivedFile, ...] = ()
            if oversized:
                row["disposition"] = OVERSIZED
                row["refusal"] = refusal_text([_too_large(listed.size, config, received_at)])
            elif parsed.automatic:
                row["disposition"] = AUTOMATIC
            elif not parsed.forms:
                row["disposition"] = NO_FORM
                if parsed.sender in registry_addresses or parsed.other_attachments:
                    row["refusal"] = refusal_text(_no_form(parsed, received_at))
            else:
                files = _kept_forms(parsed, archive, workspace, sha, received_at)
                said = attachment_problems(parsed, beside_forms=True)
                row["refusal"] = refusal_text(said) if said else None
            if reply_addresses(parsed.sender, own_addresses) is None or parsed.automatic:
                row["refusal"] = None  # never answer our own or a robot's mail: no mail loops
            messages.append(
                ReceivedMessage(
                    listed.uid, row, parsed.from_address, parsed.envelope_address, files
                )
            )
    return MailIntake(messages, recorded_uids)


def _kept_forms(
    parsed: ParsedMessage, archive: Path, workspace: Path, message_sha: str, received_at: datetime
) -> tuple[ReceivedFile, ...]:
    """Each form of the message, archived beside it under its checksum to be read."""
    files = []
    for attachment in parsed.forms:
        sha = checksum(attachment.content)
        copy = mail_attachment_copy(archive, message_sha, sha)
        if not copy.exists():
            write_atomically(copy, lambda path, data=attachment.content: path.write_bytes(data))
        files.append(
            ReceivedFile(
                submission_id=uuid.uuid4().hex,
                unit_code="",
                file_name=attachment.name,
                raw_file_name=None,
                sha256=sha,
                size_bytes=len(attachment.content),
                received_at=received_at,
                archive_path=copy.relative_to(workspace).as_posix(),
                sender=parsed.sender,
            )
        )
    return tuple(files)


def _too_large(size: int, config: MailboxConfig, received_at: datetime) -> str:
    return (
        f"thư nhận lúc {format_datetime(received_at)} có dung lượng {format_bytes(size)}, vượt "
        f"giới hạn {format_bytes(config.max_message_bytes)} nên hệ thống không tải về và không "
        "đọc; đề nghị gửi lại thư chỉ kèm tệp báo cáo .xlsx (không kèm ảnh hay tài liệu khác)"
    )


def _no_form(parsed: ParsedMessage, received_at: datetime) -> list[str]:
    said = attachment_problems(parsed)
    return [
        f"thư nhận lúc {format_datetime(received_at)} không kèm tệp báo cáo (.xlsx) nào, nên "
        "không có báo cáo nào được tiếp nhận từ thư này",
        *said,
        "đề nghị trả lời thư này, đính kèm tệp báo cáo Excel (.xlsx) của đơn vị (giữ nguyên "
        "trang tính BaoCao)",
    ]
