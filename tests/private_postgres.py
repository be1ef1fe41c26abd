"""A PostgreSQL server of a test's own, in a temporary folder on a free port, that the test may
freeze (SIGSTOP its postmaster), thaw, kill and start again without touching the machine's
shared server. initdb and postgres refuse to run as root, so under root (as in CI) the server
runs as the `postgres` user of the operating system."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

BIN = Path("/usr/lib/postgresql/15/bin")


def available() -> bool:
    """Whether this machine can run a private server (the binaries, and a user to run them)."""
    if not (BIN / "initdb").is_file():
        return False
    if os.geteuid() != 0:
        return True
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return False
    return True


def _as_server_user() -> tuple[Callable[[], None] | None, int | None, int | None]:
    """What makes a child process the server's user: a preexec function and the uid and gid
    that own its files; nothing to do when the test itself is not root."""
    if os.geteuid() != 0:
        return None, None, None
    user = pwd.getpwnam("postgres")

    def become() -> None:
        os.setgroups([])
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)

    return become, user.pw_uid, user.pw_gid


class PrivatePostgres:
    """One server: `start()`, then `url`; `freeze()`/`thaw()` its postmaster, `kill()` it the
    way a crash would, `stop()` it for good."""

    def __init__(self, port: int) -> None:
        # Under /tmp itself: pytest's own temporary folders are private to the test's user.
        self.folder = Path(tempfile.mkdtemp(prefix="tonghop-pg-"))
        self.data = self.folder / "data"
        self.port = port
        self.process: subprocess.Popen | None = None
        self._become, uid, gid = _as_server_user()
        if uid is not None:
            os.chown(self.folder, uid, gid)
        subprocess.run(
            [
                str(BIN / "initdb"),
                "--pgdata",
                str(self.data),
                "--username=postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
            preexec_fn=self._become,
            cwd=self.folder,
            capture_output=True,
            check=True,
        )

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def pid(self) -> int:
        """The postmaster: the process started, since postgres is run directly, not wrapped."""
        assert self.process is not None, "the server is not running"
        return self.process.pid

    def start(self, timeout: float = 60) -> None:
        """Start the server (recovering after a kill) and wait until it accepts connections."""
        log = (self.folder / "server.log").open("ab")
        self.process = subprocess.Popen(
            [
                str(BIN / "postgres"),
                "-D",
                str(self.data),
                "-p",
                str(self.port),
                "-k",
                str(self.folder),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
            ],
            preexec_fn=self._become,
            cwd=self.folder,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg.connect(
                    f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                    connect_timeout=2,
                ).close()
                return
            except psycopg.OperationalError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"private PostgreSQL did not start: {self.log_tail()}"
                    ) from None
                time.sleep(0.2)

    def freeze(self) -> None:
        """Stop the postmaster dead: new connections are accepted by the kernel, never answered."""
        os.kill(self.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        if self.running:
            os.kill(self.pid, signal.SIGCONT)

    def kill(self) -> None:
        """An immediate shutdown (SIGQUIT), as close to a crash as the server allows: every
        session ends at once, nothing is rolled back cleanly."""
        self._end(signal.SIGQUIT)

    def _end(self, how: signal.Signals) -> None:
        os.kill(self.pid, signal.SIGCONT)
        os.kill(self.pid, how)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            # A child still waiting on a client that timed out can hold the postmaster for a
            # minute (authentication_timeout); this server is thrown away anyway.
            self.process.kill()
            self.process.wait()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """Fast shutdown, whatever state the tests left it in, and the folder removed."""
        if self.running:
            self._end(signal.SIGINT)
        shutil.rmtree(self.folder, ignore_errors=True)

    def log_tail(self) -> str:
        path = self.folder / "server.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""
