"""The MIME of every automatic e-mail: a UTF-8 text, its attachments and the headers Tổng hợp
puts on each message, built from an outbox letter, and the bytes of a message as they go on the
wire (and into an `.eml` file when there is no server to send it to)."""

from __future__ import annotations

import io
from email.charset import QP, Charset
from email.generator import BytesGenerator
from email.header import Header
from email.message import Message
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tonghop.outbox import Letter

# The `application/…` subtypes of the attached files, by suffix.
_SUBTYPES = {
    ".docx": "vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pdf": "pdf",
}


def utf8_text(body: str) -> MIMEText:
    """A plain-text part in UTF-8, quoted-printable: it passes servers that do not announce
    8BITMIME and stays readable."""
    charset = Charset("utf-8")
    charset.body_encoding = QP
    return MIMEText(body, "plain", charset)


def attachment(path: Path, name: str | None = None) -> MIMEApplication:
    """A file as an attachment of its media type; a name outside ASCII is written as RFC 2231
    UTF-8 (`filename*=utf-8''…`), which every current reader decodes."""
    name = name or path.name
    part = MIMEApplication(path.read_bytes(), _SUBTYPES.get(path.suffix.lower(), "octet-stream"))
    # An ASCII name stays a plain parameter: older readers show it even without RFC 2231.
    filename: str | tuple[str, str, str] = name if name.isascii() else ("utf-8", "", name)
    part.add_header("Content-Disposition", "attachment", filename=filename)
    return part


def address(message: Message, subject: str, mail_from: str, name: str, email: str) -> None:
    """Set the headers every automatic e-mail of Tổng hợp carries.

    Built with the compat32 classes on purpose: Python 3.11's EmailMessage folds a long
    Vietnamese subject into encoded words with the spaces between them outside the words, and
    every reader then drops those spaces (RFC 2047 §6.2); `Header` keeps them inside."""
    message["Subject"] = Header(subject, "utf-8")
    message["From"] = mail_from
    message["To"] = formataddr((name, email))
    message["Date"] = formatdate(localtime=True)
    # Without a domain make_msgid asks the resolver for this host's name, which may hang.
    message["Message-ID"] = make_msgid(domain=mail_from.rpartition("@")[2] or "localhost")
    # RFC 3834: mail servers and people's rules know not to auto-reply to it.
    message["Auto-Submitted"] = "auto-generated"


def compose(letter: Letter, mail_from: str) -> Message:
    """The e-mail of a deliverable letter: its text alone, or the text then every attachment.
    Reads the attached files; OSError when one is gone. ValueError for a letter without an
    address."""
    recipient = letter.recipient
    if recipient is None or not recipient.email:
        raise ValueError(f"letter about {letter.about_code} has no address")
    message: Message
    if letter.attachments:
        message = MIMEMultipart("mixed")
        message.attach(utf8_text(letter.body))
        for path in letter.attachments:
            message.attach(attachment(path))
    else:
        message = utf8_text(letter.body)
    address(message, letter.subject, mail_from, recipient.name, recipient.email)
    if letter.cc:
        message["Cc"] = ", ".join(letter.cc)
    # Lets a unit's mail rules (and the operator's) sort answers from reports and reminders.
    message["X-Tonghop-Kind"] = letter.kind.name
    return message


def wire_bytes(message: Message) -> bytes:
    """The message as smtplib's `send_message` puts it after DATA (before dot-stuffing): the
    same generator, CRLF line ends. A message written to a file with it is byte for byte the
    one that would have been sent; Tổng hợp never puts a Bcc on its messages, which
    `send_message` would drop."""
    with io.BytesIO() as flat:
        BytesGenerator(flat).flatten(message, linesep="\r\n")
        return flat.getvalue()
