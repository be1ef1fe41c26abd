"""The demo's deliberate mistakes, one submission each: which kind of unit makes each one, which
units are picked, and what each mistake does to a sound form's values."""

from __future__ import annotations

import random
from collections import defaultdict

from tonghop.demo.values import SESSION_CODES, UnitContext

# Deliberate mistakes, one submission each; the first ten are errors (the file is rejected).
ERROR_FAULTS = (
    "R1",
    "V1_text",
    "V1_negative",
    "V1_fraction",
    "V2_leaf_values",
    "F6_unknown_code",
    "F4_other_unit",
    "F5_wrong_period",
    "F1_corrupt",
    "F2_no_sheet",
)
WARNING_FAULTS = (
    "R4w_cell",
    "R4w_grassroots_cell",
    "R8_briefings",
    "R8_contests",
    "O2_news_items",
)
# Rejected units that send a corrected file later: the first one before the deadline, the
# second one after it (so that unit ends accepted but late).
CORRECTED_FAULTS = ("R1", "F5_wrong_period")
# The code F6_unknown_code adds: plausible (units do count new members) but not in the catalogue.
UNKNOWN_CODE = "new_members"
# O2_news_items: a cell types 40 news items for 4, an extra zero. Cells publish 0–4 a quarter,
# so 40 is beyond any threshold rule O2 can set from them (at most 4 + 8 × 3 = 28); the cell is
# picked under a parent with more cells than this, so that enough of the others report news
# items to compare with.
OUTLIER_NEWS_ITEMS = 40
OUTLIER_MIN_SIBLINGS = 15

# Which kind of unit commits each mistake; the first available kind is used.
_FAULT_KINDS: dict[str, tuple[str, ...]] = {
    "R1": ("grassroots_committee", "upper", "cell"),
    "V1_text": ("cell", "grassroots_cell"),
    "V1_negative": ("grassroots_committee", "upper", "cell"),
    "V1_fraction": ("cell", "grassroots_cell"),
    "V2_leaf_values": ("grassroots_committee", "partial_committee", "upper"),
    "F6_unknown_code": ("cell", "grassroots_cell"),
    "F4_other_unit": ("cell",),
    "F5_wrong_period": ("grassroots_cell", "cell"),
    "F1_corrupt": ("cell", "grassroots_cell"),
    "F2_no_sheet": ("partial_committee", "cell", "grassroots_cell"),
    "R4w_cell": ("cell", "grassroots_cell"),
    "R4w_grassroots_cell": ("grassroots_cell", "cell"),
    "R8_briefings": ("grassroots_committee", "upper", "cell"),
    "R8_contests": ("cell", "grassroots_cell"),
    "O2_news_items": ("cell",),
}


def pick_faults(
    contexts: dict[str, UnitContext], rng: random.Random
) -> tuple[dict[str, str], str | None]:
    """Unit code → fault tag, each fault on a different unit; and the F4 sender's victim."""
    by_kind: dict[str, list[str]] = defaultdict(list)
    for code in sorted(contexts):
        by_kind[contexts[code].unit.kind].append(code)
    for codes in by_kind.values():
        rng.shuffle(codes)
    siblings: dict[str | None, list[str]] = defaultdict(list)
    for code in sorted(contexts):
        siblings[contexts[code].unit.parent_code].append(code)
    taken: set[str] = set()
    faults: dict[str, str] = {}
    victim: str | None = None
    for fault in (*ERROR_FAULTS, *WARNING_FAULTS):
        for kind in _FAULT_KINDS[fault]:
            candidates = [code for code in by_kind.get(kind, []) if code not in taken]
            if fault == "F4_other_unit":
                # The sender needs a sibling whose form it sends by mistake.
                candidates = [
                    code
                    for code in candidates
                    if any(
                        other not in taken and other != code
                        for other in siblings[contexts[code].unit.parent_code]
                    )
                ]
            if fault.startswith("R4w"):
                candidates = [code for code in candidates if contexts[code].members >= 8]
            if fault.startswith("O2"):
                candidates = [
                    code
                    for code in candidates
                    if sum(
                        contexts[other].unit.kind == kind
                        for other in siblings[contexts[code].unit.parent_code]
                    )
                    > OUTLIER_MIN_SIBLINGS
                ]
            if candidates:
                code = candidates[0]
                faults[code] = fault
                taken.add(code)
                if fault == "F4_other_unit":
                    parent = contexts[code].unit.parent_code
                    victim = next(
                        other
                        for other in sorted(contexts)
                        if contexts[other].unit.parent_code == parent and other not in taken
                    )
                    taken.add(victim)
                break
    return faults, victim


def apply_fault(
    fault: str, values: dict[str, object], ctx: UnitContext, rng: random.Random
) -> dict[str, object]:
    """The values of a deliberately wrong (or warned) file; file-level faults change nothing."""
    values = dict(values)
    if fault == "R1":
        values["sessions_total"] = sum(int(values[code]) for code in SESSION_CODES) + 1
    elif fault == "V1_text":
        values["news_items"] = "mười hai"
    elif fault == "V1_negative":
        values["collectives_commended"] = -rng.randint(1, 3)
    elif fault == "V1_fraction":
        values["attendance"] = int(values["attendance"]) + 0.5
    elif fault == "V2_leaf_values":
        attended = round(ctx.members * 0.95)
        values |= {
            "members": ctx.members,
            "members_attended": attended,
            "members_absent": ctx.members - attended,
        }
    elif fault == "F6_unknown_code":
        values[UNKNOWN_CODE] = rng.randint(1, 2)
    elif fault.startswith("R4w"):
        # A few members missing from both attended and absent: accepted with a warning.
        attended, absent = int(values["members_attended"]), int(values["members_absent"])
        short = min(2, attended + absent)
        cut = min(short, absent)
        values["members_absent"] = absent - cut
        values["members_makeup"] = min(int(values.get("members_makeup") or 0), absent - cut)
        values["members_attended"] = attended - (short - cut)
        values["essays"] = min(int(values["essays"]), int(values["members_attended"]))
        values["essays_excellent"] = min(int(values["essays_excellent"]), int(values["essays"]))
    elif fault == "R8_briefings":
        values["briefings"] = max(1, int(values.get("briefings") or 0))
        values["briefing_attendance"] = 0
    elif fault == "R8_contests":
        values["contests"] = 1
        values.pop("contest_entries", None)
    elif fault == "O2_news_items":
        values["news_items"] = OUTLIER_NEWS_ITEMS
    return values
