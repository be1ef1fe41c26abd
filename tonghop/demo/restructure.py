"""A 2025-like restructuring for `tonghop demo --restructure` (SPEC §1): before it, a district
committee holds the grassroots organisations that sit right under the province in the demo
registry; from the change on, the district is dissolved and those organisations move under the
province, and the two bloc committees are merged into one new committee, which receives all
their organisations. The successor links carry the ended committees' figures on."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

from tonghop.demo.registry import PROVINCE_CODE
from tonghop.registry import Unit
from tonghop.restructuring import Successor

DISTRICT = Unit(
    "HU-DS",
    "Huyện ủy Đông Sơn",
    PROVINCE_CODE,
    "upper",
    None,
    date(2020, 1, 1),
    None,
    "vanphong.hu-ds@example.vn",
)
MERGED_BLOCS = ("DUK-CQ", "DUK-DN")
MERGED_CODE = "DU-CCQ"
MERGED_NAME = "Đảng ủy Các cơ quan tỉnh"


def before_change(units: list[Unit]) -> list[Unit]:
    """The demo registry with the district in place: the organisations right under the province
    are under the district."""
    moved = [
        replace(unit, parent_code=DISTRICT.code)
        if unit.parent_code == PROVINCE_CODE and unit.is_grassroots
        else unit
        for unit in units
    ]
    province = next(index for index, unit in enumerate(moved) if unit.code == PROVINCE_CODE)
    return [*moved[: province + 1], DISTRICT, *moved[province + 1 :]]


def after_change(units: list[Unit], change: date) -> tuple[list[Unit], list[Successor]]:
    """The registry file from `change` on, and its successor links: the district left out
    (ended) with its organisations under the province again, the two blocs left out (ended)
    and their organisations under the committee that merges them."""
    merged = Unit(
        MERGED_CODE,
        MERGED_NAME,
        PROVINCE_CODE,
        "upper",
        None,
        change,
        None,
        "vanphong.du-ccq@example.vn",
    )
    after = []
    for unit in units:
        if unit.code in (*MERGED_BLOCS, DISTRICT.code):
            continue
        if unit.parent_code == DISTRICT.code:
            unit = replace(unit, parent_code=PROVINCE_CODE)
        elif unit.parent_code in MERGED_BLOCS:
            unit = replace(unit, parent_code=MERGED_CODE)
        after.append(unit)
        if unit.code == PROVINCE_CODE:
            after.append(merged)
    successors = [Successor(code, MERGED_CODE, 1.0, change) for code in MERGED_BLOCS]
    # The district's own activities are the province's from then on.
    successors.append(Successor(DISTRICT.code, PROVINCE_CODE, 1.0, change))
    return after, successors


def write_successors_csv(path: Path, successors: list[Successor]) -> None:
    """The successor CSV of SPEC §1 (`code,successor_code,share,date`)."""
    lines = ["code,successor_code,share,date"] + [
        f"{link.code},{link.successor_code},{link.share:g},{link.effective.isoformat()}"
        for link in successors
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
