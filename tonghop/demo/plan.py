"""The plan of the demo quarter: every file each unit sends and when — most of them sound and on
time, a few missing, late or deliberately wrong, some wrong ones corrected later — without
writing anything."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from tonghop.demo.faults import CORRECTED_FAULTS, apply_fault, pick_faults
from tonghop.demo.registry import SEED_MEMBERS, demo_members, demo_units
from tonghop.demo.values import UnitContext, as_typed, blank_zeros, preparer_name, unit_values
from tonghop.layout import INBOX_DIR
from tonghop.periods import Period
from tonghop.registry import Unit, codes_with_active_children

# Seed 001: "Có 68% cấp ủy cơ sở đã tổ chức ... bằng hình thức trực tuyến".
ONLINE_GRASSROOTS_SHARE = 0.68
# Units that send nothing, and units whose first good file comes after the deadline.
MISSING_SHARE = 0.03
LATE_SHARE = 0.04


@dataclass(frozen=True)
class DemoSubmission:
    """One file dropped into an inbox folder; `fault` tags what is deliberately wrong in it."""

    unit_code: str  # the inbox folder it goes to
    file_name: str
    received_at: datetime  # naive local time; becomes the file's mtime
    fault: str | None
    # What the file holds, for tests of the whole pipeline: the code in C2, the period in C3,
    # and column E as written (numbers, Vietnamese-style number texts, texts).
    form_unit_code: str = ""
    form_period: str = ""
    values: dict[str, object] = field(default_factory=dict)
    preparer: str | None = None
    prepared_on: date | None = None

    @property
    def path_parts(self) -> tuple[str, str, str]:
        """(`inbox`, folder, file name) relative to the workspace."""
        return (INBOX_DIR, self.unit_code, self.file_name)


@dataclass(frozen=True)
class DemoPlan:
    """The demo workspace: the registry, every file sent, and who sent nothing or sent late."""

    units: list[Unit]
    submissions: list[DemoSubmission]
    missing: list[str]  # unit codes that sent nothing
    late: list[str]  # unit codes whose only/first good file arrives after the deadline
    members: dict[str, int] = field(default_factory=dict)  # planned members of every leaf


def _children(units: Sequence[Unit]) -> dict[str, list[Unit]]:
    children: dict[str, list[Unit]] = defaultdict(list)
    for unit in units:
        if unit.parent_code is not None:
            children[unit.parent_code].append(unit)
    return children


def _contexts(units: Sequence[Unit], members: dict[str, int], day: date) -> dict[str, UnitContext]:
    active = [unit for unit in units if unit.active_on(day)]
    by_code = {unit.code: unit for unit in active}
    children = _children(active)
    with_children = codes_with_active_children(active, day)

    subtree_members: dict[str, int] = {}
    cells_below: dict[str, int] = {}
    grassroots_below: dict[str, int] = {}
    # Children before parents: every unit's subtree is complete when its parent reads it.
    for unit in reversed(_preorder(active, children)):
        own = 0 if unit.code in with_children else members.get(unit.code, 0)
        kids = children.get(unit.code, [])
        subtree_members[unit.code] = own + sum(subtree_members[kid.code] for kid in kids)
        cells_below[unit.code] = sum(cells_below[kid.code] + (kid.kind == "cell") for kid in kids)
        grassroots_below[unit.code] = sum(
            grassroots_below[kid.code] + kid.is_grassroots for kid in kids
        )

    grassroots = sorted(unit.code for unit in active if unit.is_grassroots)
    rng = random.Random(f"online:{len(grassroots)}")
    online_roots = set(rng.sample(grassroots, round(ONLINE_GRASSROOTS_SHARE * len(grassroots))))

    def online(unit: Unit) -> bool:
        current: Unit | None = unit
        while current is not None:
            if current.is_grassroots:
                return current.code in online_roots
            if current.kind in ("province", "upper"):
                return True
            current = by_code.get(current.parent_code or "")
        return False

    return {
        unit.code: UnitContext(
            unit=unit,
            parent_name=by_code[unit.parent_code].name if unit.parent_code in by_code else "",
            has_children=unit.code in with_children,
            members=subtree_members[unit.code],
            children=len(children.get(unit.code, [])),
            cells_below=cells_below[unit.code],
            grassroots_below=grassroots_below[unit.code],
            online=online(unit),
        )
        for unit in active
    }


def _preorder(units: Sequence[Unit], children: dict[str, list[Unit]]) -> list[Unit]:
    codes = {unit.code for unit in units}
    roots = [unit for unit in units if unit.parent_code not in codes]
    ordered: list[Unit] = []
    stack = list(reversed(roots))
    while stack:
        unit = stack.pop()
        ordered.append(unit)
        stack.extend(reversed(children.get(unit.code, [])))
    return ordered


def _file_name(unit: Unit, period: Period, rng: random.Random) -> str:
    roman = period.label_vi.split()[1]
    style = rng.choices(range(5), (50, 20, 15, 10, 5))[0]
    if style == 0:
        return f"BaoCao_{period}_{unit.code}.xlsx"
    if style == 1:
        return f"{unit.code}_{period}.xlsx"
    if style == 2:
        return f"Bao cao quy {roman} nam {period.year}.xlsx"
    if style == 3:
        return f"Báo cáo quý {roman} năm {period.year}.xlsx"
    return f"bc_hoc_tap_nghi_quyet_q{period.quarter}_{period.year}.xlsx"


def _moment(day: date, rng: random.Random) -> datetime:
    """A time of day on `day`: office hours mostly, some evenings."""
    if rng.random() < 0.9:
        start, end = 7 * 3600 + 30 * 60, 17 * 3600 + 30 * 60
    else:
        start, end = 18 * 3600, 22 * 3600 + 30 * 60
    seconds = rng.randint(start, end)
    return datetime.combine(day, time(seconds // 3600, seconds // 60 % 60, seconds % 60))


def _on_time_moment(
    period: Period, deadline: date, rng: random.Random, latest: int | None = None
) -> datetime:
    """A receipt time in the collection window, more of them near the deadline."""
    days = (deadline - period.last_day).days
    last = max(0, days if latest is None else min(days, latest))
    offset = round(rng.triangular(1, last, last * 0.8)) if last >= 1 else 0
    return _moment(period.last_day + timedelta(days=offset), rng)


def plan_demo(
    period: Period,
    deadline_days: int = 10,
    seed: int = 2025,
    units: Sequence[Unit] | None = None,
) -> DemoPlan:
    """Plan the demo workspace for `period` without writing anything."""
    if units is None:
        units = demo_units()
        members = demo_members(units, SEED_MEMBERS)
    else:
        units = list(units)
        members = demo_members(units)
    rng = random.Random(f"demo:{seed}:{period}")
    deadline = period.deadline(deadline_days)
    contexts = _contexts(units, members, period.last_day)
    codes = [unit.code for unit in units if unit.code in contexts]

    faults, victim = pick_faults(contexts, rng)
    protected = set(faults) | ({victim} if victim else set())
    # The province and the uppers run the collection: they always report, on time.
    ordinary = [
        code
        for code in codes
        if code not in protected and contexts[code].unit.kind not in ("province", "upper")
    ]
    rng.shuffle(ordinary)
    missing_count = max(1, round(MISSING_SHARE * len(codes)))
    late_count = max(1, round(LATE_SHARE * len(codes)))
    # One grassroots organisation sends nothing at all; the rest of the missing are cells.
    grassroots = [code for code in ordinary if contexts[code].unit.is_grassroots]
    missing = grassroots[:1]
    missing += [
        code for code in ordinary if contexts[code].unit.kind == "cell" and code not in missing
    ][: missing_count - len(missing)]
    rest = [code for code in ordinary if code not in missing]
    late = rest[:late_count]

    submissions: list[DemoSubmission] = []
    for code in codes:
        if code in missing:
            continue
        ctx = contexts[code]
        unit_rng = random.Random(f"demo:{seed}:{period}:{code}")
        sound = unit_values(ctx, unit_rng)
        chance = 0.5 if ctx.unit.kind in ("province", "upper") else 0.1
        typed = as_typed(blank_zeros(sound, unit_rng), unit_rng, chance)
        fault = faults.get(code)
        # A wrong file is wrong in one way only: its other values are written plainly.
        values = typed if fault is None else apply_fault(fault, sound, ctx, unit_rng)
        preparer = preparer_name(unit_rng)
        if code in late:
            received = _moment(deadline + timedelta(days=unit_rng.randint(1, 12)), unit_rng)
        elif fault in CORRECTED_FAULTS:
            received = _on_time_moment(period, deadline, unit_rng, latest=max(1, deadline_days - 4))
        else:
            received = _on_time_moment(period, deadline, unit_rng)
        file_name = _file_name(ctx.unit, period, unit_rng)
        form_code, form_period = code, str(period)
        if fault == "F4_other_unit" and victim is not None:
            victim_rng = random.Random(f"demo:{seed}:{period}:{victim}:copy")
            values = unit_values(contexts[victim], victim_rng)
            form_code = victim
            file_name = f"BaoCao_{period}_{victim}.xlsx"
        elif fault == "F5_wrong_period":
            form_period = str(period.previous())
        submissions.append(
            DemoSubmission(
                unit_code=code,
                file_name=file_name,
                received_at=received,
                fault=fault,
                form_unit_code=form_code,
                form_period=form_period,
                values=values,
                preparer=preparer,
                prepared_on=received.date() - timedelta(days=unit_rng.randint(0, 2)),
            )
        )
        if fault in CORRECTED_FAULTS:
            if fault == CORRECTED_FAULTS[0]:
                day = min(deadline, received.date() + timedelta(days=unit_rng.randint(1, 3)))
            else:
                day = deadline + timedelta(days=unit_rng.randint(2, 5))
                late.append(code)
            again = _moment(day, unit_rng)
            if again <= received:
                again = received + timedelta(hours=2)
            stem = file_name.removesuffix(".xlsx")
            submissions.append(
                DemoSubmission(
                    unit_code=code,
                    file_name=f"{stem} (đã sửa).xlsx",
                    received_at=again,
                    fault=None,
                    form_unit_code=code,
                    form_period=str(period),
                    values=typed,
                    preparer=preparer,
                    prepared_on=again.date(),
                )
            )
    submissions.sort(key=lambda item: (item.received_at, item.unit_code, item.file_name))
    return DemoPlan(
        units=list(units),
        submissions=submissions,
        missing=sorted(missing),
        late=sorted(late),
        members=members,
    )
