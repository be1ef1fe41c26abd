"""Turning a flow run's parameters into settings and a period, the one place flows do it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from tonghop.config import Settings
from tonghop.periods import Period


def resolve(
    workspace: str | None, period: str | None, *, upcoming: bool = False
) -> tuple[Settings, Period]:
    """Settings for the workspace (or TONGHOP_HOME) and the period: by default the quarter that
    just ended in the operators' time zone, or with `upcoming` the quarter in progress."""
    settings = Settings(home=Path(workspace)) if workspace else Settings()
    settings.ensure_workspace()
    if period:
        return settings, Period.parse(period)
    today = datetime.now(ZoneInfo(settings.timezone)).date()
    ended = Period.just_ended(today)
    return settings, ended.next() if upcoming else ended
