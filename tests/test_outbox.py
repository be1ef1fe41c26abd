"""The outbox under every kind of letter: what an earlier database recorded in the tables the
outbox replaced is moved into it and still counts, and letters go through a server that wants
STARTTLS or SSL and a login, with a self-signed certificate the machine is told to trust."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from tests.conftest import MailHandler, free_port
from tests.imap_server import self_signed_certificate
from tonghop.config import Settings
from tonghop.delivery import REPORT
from tonghop.mime import compose
from tonghop.outbox import SENT, Letter, Recipient, outbox_states, plan
from tonghop.periods import Period
from tonghop.reminders import REMINDER
from tonghop.storage import create_schema, make_engine
from tonghop_tasks.mail import Mailer, mail_server

# The tables before the outbox, as a database made then has them.
OLD_TABLES = """
create table reminder (
    period varchar(8) not null, parent_code varchar(64) not null, recipient text,
    fingerprint char(64) not null, attempts integer not null, outcome varchar(8) not null,
    error text, sent_at timestamp not null
);
create table report_delivery (
    period varchar(8) not null, version integer not null, unit_code varchar(64) not null,
    recipient text, fingerprint char(64) not null, attempts integer not null,
    outcome varchar(8) not null, error text, sent_at timestamp not null
)
"""
OLD_ROWS = (
    "insert into reminder values ('2025Q3', 'U1', 'hu1@example.vn', :a, 3, 'failed', '550', "
    "'2025-10-07 08:00:00')",
    "insert into reminder values ('2025Q3', 'U1', 'hu1@example.vn', :a, 1, 'sent', null, "
    "'2025-10-07 09:00:00')",
    "insert into reminder values ('2025Q3', 'U2', 'hu2@example.vn', :b, 3, 'failed', '550', "
    "'2025-10-07 09:00:00')",
    "insert into report_delivery values ('2025Q3', 2, 'P', 'vp@example.vn', :c, 1, 'sent', "
    "null, '2025-10-12 07:00:00')",
)


def test_an_older_database_keeps_what_it_sent_in_the_outbox(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.begin() as connection:
        for statement in OLD_TABLES.split(";"):
            connection.execute(text(statement))
        for insert in OLD_ROWS:
            connection.execute(text(insert), {"a": "a" * 64, "b": "b" * 64, "c": "c" * 64})

    create_schema(engine)
    create_schema(engine)  # a second start finds nothing left to move

    with engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        assert {"reminder", "report_delivery"}.isdisjoint(tables)
        rows = connection.execute(
            text(
                "select kind, period, version, about_code, recipient, state, attempts, error, "
                "queued_at from outbox_message order by kind, queued_at, about_code"
            )
        ).all()
        q3 = Period(2025, 3)
        reminders = outbox_states(connection, REMINDER, q3, None)
        reports = outbox_states(connection, REPORT, q3, 2)
        assert outbox_states(connection, REPORT, q3, 1) == {}
    engine.dispose()
    # Times as each database returns them through plain SQL, to the minute.
    assert [(*row[:-1], str(row[-1])[:16]) for row in rows] == [
        (
            "reminder",
            "2025Q3",
            None,
            "U1",
            "hu1@example.vn",
            "failed",
            3,
            "550",
            "2025-10-07 08:00",
        ),
        ("reminder", "2025Q3", None, "U1", "hu1@example.vn", "sent", 1, None, "2025-10-07 09:00"),
        (
            "reminder",
            "2025Q3",
            None,
            "U2",
            "hu2@example.vn",
            "failed",
            3,
            "550",
            "2025-10-07 09:00",
        ),
        ("report", "2025Q3", 2, "P", "vp@example.vn", "sent", 1, None, "2025-10-12 07:00"),
    ]
    # What was sent stays sent; what failed is sent again.
    assert reminders == {"a" * 64: SENT, "b" * 64: "failed"} and reports == {"c" * 64: SENT}
    letters = [_letter(fingerprint) for fingerprint in ("a" * 64, "b" * 64)]
    assert plan(letters, reminders).to_send == letters[1:]


def _letter(fingerprint: str = "f" * 64) -> Letter:
    return Letter(
        kind=REMINDER,
        period="2025Q3",
        about_code="U1",
        about="thư đôn đốc về 1 đơn vị trực thuộc Huyện ủy Một",
        recipient=Recipient("U1", "Huyện ủy Một", "hu1@example.vn"),
        subject="Đôn đốc báo cáo Quý III năm 2025",
        body="Kính gửi: Ban Thường vụ Huyện ủy Một\n",
        fingerprint=fingerprint,
    )


# --- TLS and login ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, as a small office's server has."""
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


USER, PASSWORD = "bantuyengiao", "mat-khau-thu"


def _authenticate(server, session, envelope, mechanism, auth_data):
    from aiosmtpd.smtp import AuthResult

    # handled=False: aiosmtpd then answers a refusal with 535 itself.
    return AuthResult(
        success=auth_data.login.decode() == USER and auth_data.password.decode() == PASSWORD,
        handled=False,
    )


@pytest.fixture(params=["STARTTLS", "SSL"])
def tls_server(request, certificate) -> Iterator[tuple[MailHandler, int, str]]:
    """A local server that wants a login over TLS: upgraded with STARTTLS, or TLS from the
    first byte (SSL); its handler, port and security setting."""
    from aiosmtpd.controller import Controller

    cert_path, key_path = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    handler = MailHandler()
    port = free_port()
    options = {"authenticator": _authenticate, "auth_require_tls": True}
    if request.param == "SSL":
        # TLS from the first byte: aiosmtpd cannot see it, and would otherwise hide AUTH.
        options |= {"ssl_context": context, "auth_require_tls": False}
    else:
        options |= {"tls_context": context, "require_starttls": True}
    controller = Controller(
        handler, hostname="127.0.0.1", port=port, server_hostname="thu-test", **options
    )
    controller.start()
    try:
        yield handler, port, request.param
    finally:
        controller.stop()


def _settings(port: int, security: str, password: str = PASSWORD) -> Settings:
    return Settings(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security=security,
        smtp_username=USER,
        smtp_password=password,
        send_attempts=2,
        send_retry_seconds=0.01,
    )


def _send(settings: Settings) -> object:
    with Mailer(mail_server(settings), 2, 0.01, logging.getLogger("test")) as mailer:
        return mailer.send(compose(_letter(), "bantuyengiao@example.vn"), "thư thử")


def test_a_letter_goes_through_tls_with_a_login(tls_server, certificate, monkeypatch) -> None:
    handler, port, security = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))

    sent = _send(_settings(port, security))

    assert sent.sent and sent.attempts == 1
    ((to, message),) = handler.messages
    assert to == ["hu1@example.vn"] and message["Subject"] == "Đôn đốc báo cáo Quý III năm 2025"


def test_a_wrong_password_is_a_failure_with_the_servers_answer(
    tls_server, certificate, monkeypatch
) -> None:
    handler, port, security = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))

    failed = _send(_settings(port, security, password="sai"))

    assert not failed.sent and handler.messages == []
    assert failed.error.startswith(
        "không kết nối được máy chủ thư 127.0.0.1: máy chủ thư trả lời 535"
    )


def test_an_untrusted_certificate_is_refused(tls_server, certificate, monkeypatch) -> None:
    handler, port, security = tls_server
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)

    failed = _send(_settings(port, security))

    assert not failed.sent and handler.messages == []
    assert "CERTIFICATE_VERIFY_FAILED" in failed.error


def test_a_password_with_vietnamese_letters_is_refused_before_any_letter() -> None:
    from tonghop.outbox import MailNotConfigured

    with pytest.raises(MailNotConfigured, match="chữ có dấu hoặc ký tự ngoài bảng ASCII"):
        mail_server(_settings(25, "STARTTLS", password="mật-khẩu"))
