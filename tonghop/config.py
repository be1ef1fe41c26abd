"""Settings, resolved in one place from the command line, `TONGHOP_*` variables and defaults,
then passed to whatever needs them; also the quiet defaults for the libraries' telemetry."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from tonghop.database_urls import with_session_limits
from tonghop.layout import Workspace

# No network here and nothing to report home: set before prefect or great_expectations import.
QUIET_LIBRARY_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "GX_ANALYTICS_ENABLED": "false",
}


def quiet_libraries() -> None:
    """Turn off telemetry of Prefect and Great Expectations unless the operator chose otherwise."""
    for name, value in QUIET_LIBRARY_DEFAULTS.items():
        os.environ.setdefault(name, value)


class Settings(BaseSettings):
    """Everything configurable; environment variables are `TONGHOP_<FIELD>`."""

    model_config = SettingsConfigDict(env_prefix="TONGHOP_", extra="ignore", populate_by_name=True)

    # The workspace folder (SPEC §8: `--workspace DIR` or TONGHOP_HOME).
    workspace: Path = Field(
        Path("workspace"), validation_alias=AliasChoices("TONGHOP_HOME", "TONGHOP_WORKSPACE")
    )
    # Secret: it may carry a password, and a run's settings are shown with its parameters.
    database_url: SecretStr | None = None
    deadline_days: int = 10
    # Receipt times and deadlines are read in the operators' time zone, whatever the server's.
    timezone: str = "Asia/Ho_Chi_Minh"
    # Processes reading submissions in parallel; 0 means one per core.
    read_workers: int = 0
    # Where a run's parallel tasks go: threads of the flow's own process (forms are then read by
    # a local process pool), Prefect's process pool, or a Dask cluster — the one at
    # `dask_address` (tcp://scheduler:8786), else a local cluster of `dask_workers` processes.
    task_runner: Literal["thread", "process", "dask"] = "thread"
    dask_address: str | None = None
    dask_workers: int = 0  # 0 means one per core
    # Rows per bulk insert statement batch.
    insert_batch_rows: int = 50_000
    # Reminder e-mails: the name of a saved Prefect EmailServerCredentials block wins over smtp_*.
    email_block: str | None = None
    smtp_host: str | None = None
    # None: the usual port of the security chosen (465 SSL, 587 STARTTLS, 25 INSECURE).
    smtp_port: int | None = None
    smtp_security: Literal["SSL", "STARTTLS", "INSECURE"] = "STARTTLS"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    mail_from: str = "tonghop@localhost"
    # The province's mailbox (SPEC §3, §8): with a host set, each run also collects the forms
    # units e-mail to it. The password may instead be a saved Prefect Secret block, by name.
    imap_host: str | None = None
    # None: the usual port of the security chosen (993 SSL, 143 STARTTLS or INSECURE).
    imap_port: int | None = None
    imap_security: Literal["SSL", "STARTTLS", "INSECURE"] = "SSL"
    imap_username: str | None = None
    imap_password: SecretStr | None = None
    imap_password_block: str | None = None
    imap_folder: str = "INBOX"
    # Where a message goes once what it carried is stored: what stays in `imap_folder` is new.
    imap_done_folder: str = "Đã xử lý"
    # A message larger than this is refused unread (a form is some tens of kilobytes).
    imap_max_message_bytes: int = 20 * 1024 * 1024
    # Whom a unit calls about its form, as the forms' cover letter says it (e.g. "đồng chí …,
    # Ban Tuyên giáo Tỉnh ủy, điện thoại …"); blank leaves the sentence out.
    contact: str | None = None
    # Each e-mail (reminder or report) is tried this many times, this far apart, before it is
    # reported as not sent.
    send_attempts: int = 3
    send_retry_seconds: float = 5
    # Units whose members' attendance rate is below this are named in the report's limitations.
    attendance_threshold: float = 0.9
    # Operators' alerts (flows/automations.py): the notification block ("Thư báo cho cán bộ
    # vận hành") the automations send through when a scheduled run fails, and what counts as a
    # collection's surge of rejections: at least this many rejected files, and at least this
    # share of what it received (a broken form or rule, rather than a few careless units).
    alert_block: str = "tonghop-canh-bao"
    alert_rejected: int = 10
    alert_rejected_share: float = 0.25
    # How long a run waits for another run on the same database before refusing.
    lock_wait_seconds: float = 120
    # Attempts to reach the database before a run fails, and the pause between them.
    database_retries: int = 3
    database_retry_seconds: float = 5
    # A database that does not answer must fail the run like one that refuses, not hang it
    # (psycopg waits 130 s per connection attempt by default, for each retry): connecting gives
    # up after this long, and a statement after this long — far above the longest statement
    # of a 100,000-unit consolidation, whose whole run takes 5½ minutes. PostgreSQL only; 0
    # means no limit; a `connect_timeout` or `statement_timeout` in the URL wins.
    database_connect_timeout_seconds: int = 10
    database_statement_timeout_seconds: float = 600

    # The web portal (`tonghop web`): where it listens, and the address people open it at
    # behind the reverse proxy (https://…; SPEC §8 names it TONGHOP_WEB_BASE_URL). With it set,
    # the runs' artifacts link to the portal's pages and the blank-form letters carry each
    # unit's personal link.
    web_host: str = "127.0.0.1"
    web_port: int = 8080
    web_public_url: str | None = Field(
        None, validation_alias=AliasChoices("TONGHOP_WEB_BASE_URL", "TONGHOP_WEB_PUBLIC_URL")
    )
    # What the units' links are derived from; unset, a key file of the workspace made on first
    # use (tonghop/portal/links.py). Changing it makes every link given so far stop working.
    web_secret_key: SecretStr | None = None
    # The operators who may sign in: user name → password hash made by `tonghop web password`
    # (JSON in TONGHOP_WEB_OPERATORS, e.g. {"tuyengiao": "$argon2id$…"}).
    web_operators: dict[str, str] = Field(default_factory=dict)
    # How long a unit's personal link and a signed-in visit last.
    web_link_days: int = 366
    web_session_hours: float = 12
    # An upload larger than this is cut off while it streams (a form is some tens of kilobytes).
    web_max_upload_bytes: int = 5 * 1024 * 1024
    # Wrong links or passwords one address may try per minute before it is made to wait.
    web_attempts_per_minute: int = 10

    @property
    def layout(self) -> Workspace:
        """Where everything of the workspace is (tonghop/layout.py)."""
        return Workspace(self.workspace)

    @property
    def portal_address(self) -> str:
        """The address units open the portal at: the public one behind the reverse proxy, else
        where `tonghop web` listens."""
        return (self.web_public_url or f"http://{self.web_host}:{self.web_port}").rstrip("/")

    def portal_key(self) -> bytes:
        """The key of the units' links (made in the workspace on first use)."""
        from tonghop.portal.links import portal_key

        secret = self.web_secret_key.get_secret_value() if self.web_secret_key else None
        return portal_key(secret, self.layout.portal_key_file)

    @property
    def resolved_database_url(self) -> str:
        """The configured database with the session limits above, or SQLite inside the
        workspace; every connection the product makes is made from this URL."""
        if self.database_url:
            return with_session_limits(
                self.database_url.get_secret_value(),
                self.database_connect_timeout_seconds,
                self.database_statement_timeout_seconds,
            )
        return f"sqlite:///{self.layout.database_file.resolve()}"
