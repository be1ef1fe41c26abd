"""The IMAP server of the tests of submissions by e-mail (tests/imap_server.py), used as the
product will use it, through imap-tools: a login over IMAPS and one upgraded with STARTTLS, both
trusting only the server's self-signed certificate; a wrong password refused; a unit's message
with a Vietnamese subject and a workbook attached read back byte for byte with the arrival time
it was delivered with; and a message moved into a folder named in ASCII or in Vietnamese."""

from __future__ import annotations

import datetime as dt
import email.policy
import io
import re
import ssl
import time
from email.message import EmailMessage
from email.utils import format_datetime
from zoneinfo import ZoneInfo

import pytest
from imap_tools import MailBox, MailBoxStartTls
from imap_tools.errors import MailboxLoginError
from openpyxl import Workbook

from tests.imap_server import ImapServer, StoredMessage, to_imap_name

SUBJECT = "Báo cáo quý III/2025 – Huyện ủy Một (bản chính thức)"
ATTACHMENT = "Báo cáo quý III - Huyện ủy Một.xlsx"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ARRIVED = dt.datetime(2025, 10, 6, 8, 30, 15, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


def logged_in(server: ImapServer) -> MailBox:
    """The mailbox over IMAPS, as the collector will open it."""
    return MailBox(server.host, server.imaps_port, ssl_context=server.ssl_context()).login(
        server.user, server.password
    )


def workbook() -> bytes:
    wb = Workbook()
    sheet = wb.active
    sheet.title = "Biểu 01"
    sheet.append(["Chỉ tiêu", "Số lượng"])
    sheet.append(["Đảng viên mới kết nạp", 14])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def submission(attached: bytes) -> bytes:
    """A unit's e-mail as its mail client sends it: CRLF line ends, a UTF-8 subject, a text
    and the workbook."""
    message = EmailMessage()
    message["From"] = "Văn phòng Huyện ủy Một <vanphong@huyenuy1.example.vn>"
    message["To"] = "baocao@tonghop.test"
    message["Subject"] = SUBJECT
    message["Date"] = format_datetime(ARRIVED)
    message["Message-ID"] = "<bao-cao-q3@huyenuy1.example.vn>"
    message.set_content("Kính gửi Ban Tuyên giáo,\nHuyện ủy Một gửi báo cáo quý III.\n")
    message.add_attachment(
        attached, maintype="application", subtype=XLSX.partition("/")[2], filename=ATTACHMENT
    )
    return message.as_bytes(policy=email.policy.SMTP)


def test_a_login_over_imaps_trusts_the_servers_own_certificate(
    imap_server: ImapServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with logged_in(imap_server) as mailbox:
        assert mailbox.client.sock.version() in {"TLSv1.2", "TLSv1.3"}
        assert mailbox.folder.get() == "INBOX"
    # Trusted as its own CA, not by accident: the machine's CAs alone refuse it.
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    with pytest.raises(ssl.SSLCertVerificationError):
        MailBox(imap_server.host, imap_server.imaps_port, ssl_context=ssl.create_default_context())


def test_a_login_upgraded_with_starttls(
    imap_server: ImapServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = imap_server
    # Trusted the other way a client can be told: the variable OpenSSL reads.
    monkeypatch.setenv("SSL_CERT_FILE", str(server.cafile))
    context = ssl.create_default_context()
    with MailBoxStartTls(server.host, server.imap_port, ssl_context=context).login(
        server.user, server.password
    ) as mailbox:
        assert isinstance(mailbox.client.sock, ssl.SSLSocket)
        assert mailbox.folder.get() == "INBOX"


def test_a_wrong_password_is_refused(imap_server: ImapServer) -> None:
    server = imap_server
    mailbox = MailBox(server.host, server.imaps_port, ssl_context=server.ssl_context())
    with pytest.raises(MailboxLoginError, match="AUTHENTICATIONFAILED") as refused:
        mailbox.login(server.user, "mat-khau-sai")
    assert refused.value.command_result[0] == "NO"
    mailbox.client.shutdown()
    # The right one still opens the mailbox, and at once: Dovecot's penalty after a failure
    # would hold every login from 127.0.0.1 for 2 s or more.
    started = time.monotonic()
    with logged_in(server) as mailbox:
        assert mailbox.folder.get() == "INBOX"
    assert time.monotonic() - started < 1.5


def test_a_submission_comes_back_byte_for_byte_with_its_arrival_time(
    imap_server: ImapServer,
) -> None:
    attached = workbook()
    raw = submission(attached)
    uid = imap_server.deliver(raw, internal_date=ARRIVED)
    with logged_in(imap_server) as mailbox:
        [message] = mailbox.fetch(mark_seen=False)
        assert message.uid == str(uid)
        assert message.subject == SUBJECT
        [attachment] = message.attachments
        assert (attachment.filename, attachment.content_type) == (ATTACHMENT, XLSX)
        assert attachment.payload == attached
        # imap-tools keeps neither the bytes as sent nor INTERNALDATE: its IMAP client does.
        status, data = mailbox.client.uid("FETCH", str(uid), "(INTERNALDATE BODY.PEEK[])")
    assert status == "OK"
    header, body = data[0]
    assert body == raw
    internal_date = re.search(rb'INTERNALDATE "([^"]+)"', header)
    assert internal_date, header
    arrived = dt.datetime.strptime(internal_date[1].decode(), "%d-%b-%Y %H:%M:%S %z")
    assert arrived == ARRIVED
    # Read without being marked: still unseen, as the collector will need it.
    assert imap_server.messages() == [StoredMessage("INBOX", uid, frozenset())]


@pytest.mark.parametrize(
    ("folder", "on_the_wire"),
    [("Da-xu-ly", "Da-xu-ly"), ("Đã xử lý", "&ARAA4w- x&Hu0- l&AP0-")],
)
def test_a_message_moves_into_a_folder(
    imap_server: ImapServer, folder: str, on_the_wire: str
) -> None:
    uid = imap_server.deliver(submission(workbook()))
    with logged_in(imap_server) as mailbox:
        assert not mailbox.folder.exists(folder)
        mailbox.folder.create(folder)
        mailbox.move(str(uid), folder)
        assert folder in [listed.name for listed in mailbox.folder.list()]
        status, listed = mailbox.client.list()
    assert status == "OK"
    # The name in modified UTF-7 (RFC 3501 §5.1.3), as both imap-tools and the fixture write it.
    assert to_imap_name(folder) == on_the_wire
    assert on_the_wire in [line.rpartition(b' "/" ')[2].decode().strip('"') for line in listed]
    assert [(message.folder, message.flags) for message in imap_server.messages()] == [
        (folder, frozenset())
    ]
    assert imap_server.messages("INBOX") == []
