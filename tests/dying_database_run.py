"""Run the command line and crash the database server in the middle of the run, the way a
server that dies mid-run would: `python -m tests.dying_database_run PID PORT ARGS…` sends an
immediate shutdown to the postmaster PID (a private test server on 127.0.0.1:PORT, never the
machine's own) once the run has inserted its first submissions, then lets the run go on
against the dead server."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

import psycopg


def _kill_server(pid: int, port: int) -> None:
    """Shut the server down at once and wait until it refuses connections: every session,
    the run's lock included, is gone by then."""
    os.kill(pid, signal.SIGQUIT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            psycopg.connect(
                f"host=127.0.0.1 port={port} user=postgres dbname=postgres", connect_timeout=2
            ).close()
        except psycopg.OperationalError:
            return
        time.sleep(0.1)
    raise SystemExit("the private server did not stop")


def arm(pid: int, port: int) -> None:
    """Patch the product so that the server dies after the submissions' first insert, inside
    the transaction that stores them."""
    import tonghop.submission_store

    original: Callable[..., Any] = tonghop.submission_store.execute_many
    killed = []

    def dying(connection: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        result = original(connection, name, *args, **kwargs)
        if name == "insert_submission" and not killed:
            killed.append(True)
            _kill_server(pid, port)
        return result

    tonghop.submission_store.execute_many = dying


def main() -> None:
    pid, port, *arguments = sys.argv[1:]
    from tonghop_flows.cli import cli
    from tonghop_flows.cli import main as quiet_as_the_command_line

    # Arming imports Prefect: the command line's quiet logging must be chosen before that.
    quiet_as_the_command_line()
    arm(int(pid), int(port))
    sys.argv = ["tonghop", *arguments]
    cli()


if __name__ == "__main__":
    main()
