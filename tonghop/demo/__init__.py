"""Demo data for `tonghop demo` (SPEC §8): a registry shaped like seed 001's organisation and a
quarter's filled forms in the inbox, most of them sound, a few missing, late or deliberately wrong.

Everything is deterministic: the registry and the members of each cell never change, and the
forms depend only on the period and the seed.

Split by concern: `registry` (seed 001's shape), `values` (what a form holds), `faults` (the
deliberate mistakes), `plan` (who sends what, when) and `workspace` (writing it all).
"""

from tonghop.demo.faults import (
    CORRECTED_FAULTS,
    ERROR_FAULTS,
    OUTLIER_NEWS_ITEMS,
    UNKNOWN_CODE,
    WARNING_FAULTS,
)
from tonghop.demo.plan import DemoPlan, DemoSubmission, plan_demo
from tonghop.demo.registry import (
    DISTRICTS,
    PROVINCE_CODE,
    SEED_CELLS,
    SEED_MEMBERS,
    SEED_SECTORS,
    demo_members,
    demo_units,
)
from tonghop.demo.workspace import write_demo_workspace

__all__ = [
    "CORRECTED_FAULTS",
    "DISTRICTS",
    "ERROR_FAULTS",
    "OUTLIER_NEWS_ITEMS",
    "PROVINCE_CODE",
    "SEED_CELLS",
    "SEED_MEMBERS",
    "SEED_SECTORS",
    "UNKNOWN_CODE",
    "WARNING_FAULTS",
    "DemoPlan",
    "DemoSubmission",
    "demo_members",
    "demo_units",
    "plan_demo",
    "write_demo_workspace",
]
