"""The run context: what one run is about — its settings, its period, its database and its
workspace — resolved once where the run starts (a command, a deployment's flow) and handed to
every flow and task it calls, none of which resolves the settings or parses the period again."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from tonghop.config import Settings
from tonghop.layout import Workspace
from tonghop.periods import Period


@dataclass(frozen=True)
class RunContext:
    """One run's settings and period; `database_url` is the one every connection is made from.
    `outermost_run_id` is the orchestrator's id of the run an operator started (or a schedule
    did), where every step's summary is shown; None outside an orchestrated run."""

    settings: Settings
    period: Period
    outermost_run_id: str | None = None

    @property
    def database_url(self) -> str:
        return self.settings.resolved_database_url

    @property
    def workspace(self) -> Workspace:
        """Where everything of the run's workspace is."""
        return self.settings.layout

    def for_period(self, period: Period) -> RunContext:
        """The same run about another period (a correction sent for an earlier quarter)."""
        return replace(self, period=period)


def resolve_run(
    workspace: str | Path | None = None,
    period: str | Period | None = None,
    *,
    upcoming: bool = False,
    today: date | None = None,
    length: int = 1,
) -> RunContext:
    """The context of a run started with these parameters: settings from the environment (the
    workspace given here wins), and the period given, or by default the quarter that just ended
    in the operators' time zone — with `upcoming`, the quarter in progress; with `length` 2 or
    4, the half-year or year that just ended."""
    settings = Settings(workspace=Path(workspace)) if workspace else Settings()
    if isinstance(period, Period):
        return RunContext(settings, period)
    if period:
        return RunContext(settings, Period.parse(period))
    today = today or local_now(settings.timezone).date()
    if length > 1:
        return RunContext(settings, Period.ended_before(today, length))
    ended = Period.just_ended(today)
    return RunContext(settings, ended.next() if upcoming else ended)


def local_now(timezone: str) -> datetime:
    """The operators' wall-clock time in `timezone`, naive, as every stored time is."""
    return datetime.now(ZoneInfo(timezone)).replace(tzinfo=None)
