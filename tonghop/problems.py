"""A validation problem found in a submission, as shown to the unit that sent it."""

from __future__ import annotations

from dataclasses import dataclass

ERROR = "error"
WARNING = "warning"
SEVERITY_LABELS_VI = {ERROR: "Lỗi", WARNING: "Cảnh báo"}


@dataclass(frozen=True)
class Problem:
    """One failed rule of SPEC §4; `message` is Vietnamese and tells the unit what to fix."""

    rule: str
    severity: str
    message: str
    indicator_code: str | None = None
    row_number: int | None = None
