"""A real IMAP server for the tests of submissions by e-mail: Dovecot, started for one test as an
unprivileged process on 127.0.0.1 with plain IMAP (STARTTLS offered) and IMAPS behind a
self-signed certificate, one mailbox in a Maildir under the test's folder, and helpers that put
messages in as a mail client would (IMAP APPEND) and list what the mailbox holds.

tests/conftest.py makes the fixture every test's. The helpers talk IMAP with the standard
library alone, so what they see does not depend on imap-tools, the client the product uses."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import grp
import imaplib
import ipaddress
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

HOST = "127.0.0.1"
USER, PASSWORD = "baocao@tonghop.test", "mat-khau-hop-thu"
# CI runs as root, where /usr/sbin is on PATH; elsewhere it often is not.
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
STARTUP_SECONDS = 10


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, as a small office's server has,
    written as cert.pem and key.pem into folder; the certificate is its own CA, so a client
    trusts it with `ssl.create_default_context(cafile=cert)` or SSL_CERT_FILE."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "thu.tonghop.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


# --- Folder names -------------------------------------------------------------------------------
# IMAP names folders in modified UTF-7 (RFC 3501 §5.1.3): "Đã xử lý" is "&ARAA4w- x&Hu0- l&AP0-"
# on the wire. Written here rather than taken from imap-tools, so that the tests check the names
# imap-tools sends against an independent reading of the RFC.


def to_imap_name(name: str) -> str:
    """A folder's name as IMAP sends it."""

    def shifted(run: re.Match[str]) -> str:
        if run[0] == "&":
            return "&-"
        encoded = base64.b64encode(run[0].encode("utf-16-be")).rstrip(b"=")
        return "&" + encoded.replace(b"/", b",").decode("ascii") + "-"

    return re.sub(r"&|[^\x20-\x7e]+", shifted, name)


def from_imap_name(name: str) -> str:
    """A folder's name as people read it, from the name IMAP sends."""

    def unshifted(run: re.Match[str]) -> str:
        if not run[1]:
            return "&"
        encoded = run[1].replace(",", "/")
        return base64.b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-16-be")

    return re.sub(r"&([^-]*)-", unshifted, name)


def _quoted(name: str) -> str:
    """A folder name as an IMAP quoted string (imaplib sends arguments as they are)."""
    escaped = to_imap_name(name).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


# --- The server ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredMessage:
    """A message in the mailbox: its folder (as people read the name), UID and flags (without
    \\Recent, which depends on which session asks)."""

    folder: str
    uid: int
    flags: frozenset[str]


@dataclass(frozen=True)
class ImapServer:
    """A running Dovecot: where it listens, the one mailbox's login, the certificate a client
    trusts (it is its own CA) and the server's log, for a failing test's report."""

    host: str
    imap_port: int
    imaps_port: int
    user: str
    password: str
    cafile: Path
    log: Path

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's certificate and nothing else."""
        return ssl.create_default_context(cafile=str(self.cafile))

    @contextmanager
    def session(self) -> Iterator[imaplib.IMAP4_SSL]:
        """A logged-in IMAPS session of the mailbox's owner."""
        client = imaplib.IMAP4_SSL(self.host, self.imaps_port, ssl_context=self.ssl_context())
        try:
            client.login(self.user, self.password)
            yield client
        finally:
            with suppress(imaplib.IMAP4.error, OSError):
                client.logout()

    def deliver(
        self,
        raw: bytes,
        folder: str = "INBOX",
        internal_date: dt.datetime | None = None,
        flags: Iterable[str] = (),
    ) -> int:
        """Put an RFC 5322 message (CRLF line ends, as on the wire) into a folder with IMAP
        APPEND, as a mail client saves one, and return its UID; the folder is created when
        the server says it is missing (TRYCREATE). internal_date, timezone-aware, is the
        arrival time the server records (IMAP INTERNALDATE); now when None."""
        flags = tuple(flags)
        flag_list = "(" + " ".join(flags) + ")" if flags else None
        with self.session() as client:
            for _ in range(2):
                status, data = client.append(_quoted(folder), flag_list, internal_date, raw)
                if status == "OK":
                    found = re.search(rb"\[APPENDUID \d+ (\d+)\]", data[0])
                    assert found, f"no APPENDUID in {data!r}"
                    return int(found[1])
                if b"[TRYCREATE]" not in data[0]:
                    break
                client.create(_quoted(folder))
        raise AssertionError(f"APPEND to {folder!r} refused: {data!r}")

    def messages(self, folder: str | None = None) -> list[StoredMessage]:
        """The messages of one folder, or of every folder, by folder name then UID."""
        found: list[StoredMessage] = []
        with self.session() as client:
            names = [folder] if folder is not None else self._folders(client)
            for name in names:
                status, data = client.select(_quoted(name), readonly=True)
                assert status == "OK", f"cannot open {name!r}: {data!r}"
                if int(data[0]) == 0:
                    continue
                status, data = client.uid("FETCH", "1:*", "(FLAGS)")
                assert status == "OK", f"cannot list {name!r}: {data!r}"
                for line in data:
                    uid = re.search(rb"UID (\d+)", line)
                    listed = re.search(rb"FLAGS \(([^)]*)\)", line)
                    assert uid and listed, f"unexpected FETCH answer {line!r}"
                    flags = frozenset(listed[1].decode().split()) - {"\\Recent"}
                    found.append(StoredMessage(name, int(uid[1]), flags))
        return sorted(found, key=lambda message: (message.folder, message.uid))

    @staticmethod
    def _folders(client: imaplib.IMAP4) -> list[str]:
        """Every folder that can hold messages, as people read the names."""
        status, data = client.list()
        assert status == "OK", f"LIST refused: {data!r}"
        names = []
        for line in data:
            # A name with characters IMAP cannot quote arrives as a literal: (line, name).
            text, literal = (line[0], line[1]) if isinstance(line, tuple) else (line, None)
            listed = re.fullmatch(rb'\(([^)]*)\) (?:"(?:[^"\\]|\\.)*"|NIL) (.*)', text)
            assert listed, f"unexpected LIST answer {line!r}"
            if b"\\noselect" in listed[1].lower():
                continue
            name = literal if literal is not None else listed[2]
            if name.startswith(b'"'):
                name = re.sub(rb"\\(.)", rb"\1", name[1:-1])
            names.append(from_imap_name(name.decode("ascii")))
        return names


@functools.cache
def dovecot_version() -> tuple[int, int]:
    """The installed Dovecot's major and minor version: 2.4 renamed most settings of 2.3."""
    if not Path(DOVECOT).exists():
        raise RuntimeError("Dovecot is missing: apt-get install dovecot-imapd (as .ci/run does)")
    output = subprocess.run(
        [DOVECOT, "--version"], capture_output=True, text=True, check=True
    ).stdout
    found = re.match(r"(\d+)\.(\d+)", output)
    assert found, f"unexpected `dovecot --version`: {output!r}"
    return int(found[1]), int(found[2])


def _write_configuration(
    folder: Path, base_dir: Path, ports: tuple[int, int], cert: Path, key: Path
) -> Path:
    """Write an instance's dovecot.conf, its passwd-file and the mailbox's home into folder;
    the path of dovecot.conf.

    Dovecot drops root for its login processes and refuses mail access as root, so under root
    (CI) the login processes run as nobody, chrooted into base_dir, and mail is nobody's,
    chrooted into the Maildir's parent (a home of <chroot>/./<user>): nobody could not reach
    the test's folder through pytest's private (0700) parents otherwise. Anyone else runs every
    process as themselves, and then nothing can chroot."""
    as_root = os.geteuid() == 0
    owner = pwd.getpwnam("nobody") if as_root else pwd.getpwuid(os.geteuid())
    internal = pwd.getpwuid(os.geteuid())
    internal_group = grp.getgrgid(internal.pw_gid).gr_name
    mail = folder / "mail"
    # A string: pathlib would drop the "/./" that marks where the chroot ends.
    home = f"{mail}/./mailbox" if as_root else f"{mail}/mailbox"
    (folder / "passwd").write_text(
        f"{USER}:{{PLAIN}}{PASSWORD}:{owner.pw_uid}:{owner.pw_gid}::{home}::\n", encoding="utf-8"
    )
    # The mail processes create the Maildir in the home; under root they are nobody by then.
    (mail / "mailbox").mkdir(parents=True, exist_ok=True)
    mail.chmod(0o755)
    os.chown(mail / "mailbox", owner.pw_uid, owner.pw_gid)

    version = dovecot_version()
    lines = []
    if version >= (2, 4):
        # The first setting of a 2.4 configuration: which setting names and defaults it means.
        lines += ["dovecot_config_version = 2.4.0", "dovecot_storage_version = 2.4.0"]
    lines += [
        "protocols = imap",
        f"listen = {HOST}",
        f"base_dir = {base_dir}",
        f"state_dir = {folder / 'state'}",
        f"log_path = {folder / 'dovecot.log'}",
        f"info_log_path = {folder / 'dovecot.log'}",
        f"default_internal_user = {internal.pw_name}",
        f"default_internal_group = {internal_group}",
        f"default_login_user = {owner.pw_name}",
        f"first_valid_uid = {owner.pw_uid}",
        "auth_mechanisms = plain",
        # A refused login is answered at once, not after the default two seconds.
        "auth_failure_delay = 0",
        "ssl = yes",
    ]
    passwd = folder / "passwd"
    if version >= (2, 4):
        lines += [
            f"ssl_server_cert_file = {cert}",
            f"ssl_server_key_file = {key}",
            "mail_driver = maildir",
            "mail_path = ~/Maildir",
            f"passdb passwd-file {{\n  passwd_file_path = {passwd}\n}}",
            f"userdb passwd-file {{\n  passwd_file_path = {passwd}\n}}",
        ]
    else:
        lines += [
            f"ssl_cert = <{cert}",
            f"ssl_key = <{key}",
            "mail_location = maildir:~/Maildir",
            f"passdb {{\n  driver = passwd-file\n  args = {passwd}\n}}",
            f"userdb {{\n  driver = passwd-file\n  args = {passwd}\n}}",
        ]
    if as_root:
        lines.append(f"valid_chroot_dirs = {mail}")
    # "/" as most providers have it, and the same under both versions.
    lines.append("namespace inbox {\n  inbox = yes\n  separator = /\n}")
    # Only root can chroot, which these two services do by default.
    chroot = "" if as_root else "  chroot =\n"
    lines += [
        # Without the penalty socket, failed logins do not slow the next ones down (2 s, 4 s…
        # for every login from 127.0.0.1, the right password too).
        f"service anvil {{\n{chroot}  unix_listener anvil-auth-penalty {{\n    mode = 0\n  }}\n}}",
        f"service imap-login {{\n{chroot}"
        f"  inet_listener imap {{\n    port = {ports[0]}\n  }}\n"
        f"  inet_listener imaps {{\n    port = {ports[1]}\n    ssl = yes\n  }}\n}}",
    ]
    config = folder / "dovecot.conf"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


def _stop(process: subprocess.Popen) -> None:
    """Stop Dovecot and every process it started (they share its process group) at once: a
    test's server has nothing to save, and a graceful stop takes Dovecot up to a second."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _ready(port: int) -> bool:
    """Whether Dovecot answers on the plain IMAP port with its greeting (its login processes
    are up; the listening socket alone exists before them)."""
    try:
        with socket.create_connection((HOST, port), timeout=1) as connection:
            return connection.recv(256).startswith(b"* OK")
    except OSError:
        return False


def _start(
    folder: Path, base_dir: Path, cert: Path, key: Path
) -> tuple[subprocess.Popen, int, int]:
    """Dovecot started and answering, with its plain IMAP and IMAPS ports."""
    # Imported here, not above: tests/conftest.py imports this module to offer its fixture.
    from tests.conftest import free_port

    for _ in range(5):
        ports = free_port(), free_port()
        if ports[0] == ports[1]:
            continue
        config = _write_configuration(folder, base_dir, ports, cert, key)
        # What Dovecot says before its log is open (a wrong setting, a taken port).
        output_path = folder / "dovecot.out"
        with output_path.open("wb") as output:
            process = subprocess.Popen(
                [DOVECOT, "-F", "-c", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        while process.poll() is None and time.monotonic() < deadline:
            if _ready(ports[0]):
                with socket.create_connection((HOST, ports[1]), timeout=1):
                    return process, *ports
            time.sleep(0.01)
        _stop(process)
        report = "".join(
            path.read_text("utf-8", "replace")
            for path in (output_path, folder / "dovecot.log")
            if path.exists()
        )
        # Another process took a port between free_port() and Dovecot: again, on others.
        if "Address already in use" not in report:
            raise RuntimeError(f"Dovecot did not start:\n{report}")
    raise RuntimeError("Dovecot found no free ports")


@contextmanager
def running_dovecot(folder: Path) -> Iterator[ImapServer]:
    """Dovecot with its configuration, certificate, Maildir, state and log under folder, until
    the block ends; then it and every process it started are stopped."""
    folder.mkdir(parents=True)
    cert, key = self_signed_certificate(folder / "tls")
    # Its sockets go into a short folder of their own: a Unix socket's path has at most 107
    # bytes, and a pytest folder's path alone can take most of them.
    base_dir = Path(tempfile.mkdtemp(prefix="dovecot-"))
    # As Dovecot wants it (it would fix it itself, with a warning in the log).
    base_dir.chmod(0o755)
    try:
        process, imap_port, imaps_port = _start(folder, base_dir, cert, key)
        try:
            yield ImapServer(
                HOST, imap_port, imaps_port, USER, PASSWORD, cert, folder / "dovecot.log"
            )
        finally:
            _stop(process)
    finally:
        shutil.rmtree(base_dir, ignore_errors=True)


@pytest.fixture
def imap_server(tmp_path: Path) -> Iterator[ImapServer]:
    """A Dovecot of the test's own (see running_dovecot)."""
    with running_dovecot(tmp_path / "dovecot") as server:
        yield server
