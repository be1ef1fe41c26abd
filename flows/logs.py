"""The operator's log level. A run's log in the Prefect UI, at INFO and above, tells the run's
story in Vietnamese: the lines the flows and tasks write, the warnings and the one line a
failure ends with. Prefect's own bookkeeping below WARNING ("Beginning flow run…", "Finished in
state …", the runner's process lines) is moved down to DEBUG, where it is still there
with PREFECT_LOGGING_LEVEL=DEBUG; and a failure an operator can act on (a TonghopError) is its
Vietnamese message without a traceback — said once, by the flow that failed or handled it
(flows/failures.py), not again by each task it went through nor by the engine it ended. A
defect keeps its traceback."""

from __future__ import annotations

import logging
from pathlib import Path

import prefect

from tonghop.errors import TonghopError

_PREFECT = Path(prefect.__file__).resolve().parent
# print() forwarded by `log_prints` is logged from here: those lines are the flows' own.
_PRINTS = _PREFECT / "logging"
# How Prefect logs a run's final state, at ERROR when it failed: the run's own line says why.
FINAL_STATE = "Finished in state"
# The loggers of flow and task runs, whose records go to the runs' logs in the UI.
RUN_LOGGERS = ("prefect.flow_runs", "prefect.flow_runs.runner", "prefect.task_runs")


def _from_prefect(record: logging.LogRecord) -> bool:
    path = Path(record.pathname).resolve()
    return path.is_relative_to(_PREFECT) and not path.is_relative_to(_PRINTS)


def explained_error(record: logging.LogRecord) -> TonghopError | None:
    """The operator's error a record's exception is, or was raised from or during."""
    error = record.exc_info[1] if record.exc_info else None
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, TonghopError):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


class OperatorLevel(logging.Filter):
    """Keeps Prefect's bookkeeping and the tracebacks of explained failures out of the
    operator's log level (see the module's docstring)."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = explained_error(record)
        if _from_prefect(record):
            # The engine's bookkeeping, and its reports of a failure the flow has already told
            # in its own words (flows/failures.py: "Task run failed…", "Engine execution exited
            # with unexpected exception").
            if (
                record.levelno < logging.WARNING
                or str(record.msg).startswith(FINAL_STATE)
                or error is not None
            ):
                return self._demoted(record)
            return True
        if error is not None:
            record.msg, record.args = str(error), ()
            record.exc_info, record.exc_text = None, None
        return True

    @staticmethod
    def _demoted(record: logging.LogRecord) -> bool:
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        # The run loggers hand every record to their handlers: the level is checked here.
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


def keep_operator_level() -> None:
    """Put the filter on the run loggers, once per process."""
    for name in RUN_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, OperatorLevel) for existing in logger.filters):
            logger.addFilter(OperatorLevel())
