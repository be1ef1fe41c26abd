"""A province-sized registry for the benchmark: province → upper-level units (district committees
and two bloc committees, about one per 650 units) → grassroots organisations → partial
committees and cells, in roughly the demo's proportions (about 9–10 cells per grassroots
organisation, a partial committee in about one committee in ten).

Deterministic for a given size and seed. Exactly `total` units are active in the benchmark's
period; about one committee in a hundred also has a cell dissolved before it, as real
registries do."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from tonghop.demo import DISTRICTS
from tonghop.registry import Unit

__all__ = ["PROVINCE_CODE", "bench_units", "upper_count"]

PROVINCE_CODE = "TU"
PROVINCE_NAME = "Thanh Hóa"
UNITS_PER_UPPER = 650
# Seed 001: 28 of 121 grassroots organisations are grassroots cells (no cells below them).
GRASSROOTS_CELL_SHARE = 0.23
# Cells of a grassroots committee: 3 to 26, mostly about 7 (mean 12, as 1,117 / 93 in seed 001).
CELLS_LOW, CELLS_HIGH, CELLS_MODE = 3, 26, 7
PARTIAL_SHARE = 0.08
DISSOLVED_SHARE = 0.01
GROUNDING_DAY = date(2020, 1, 1)
DISSOLVED_ON = date(2024, 12, 31)
GRASSROOTS_CELLS_UNDER_PROVINCE = 2

# Place names are built from two syllables, as most Vietnamese commune names are.
_FIRST = (
    "Hoằng",
    "Quảng",
    "Thiệu",
    "Triệu",
    "Thọ",
    "Nga",
    "Hà",
    "Yên",
    "Vĩnh",
    "Định",
    "Xuân",
    "Đông",
    "Minh",
    "Tân",
    "Thành",
    "Cẩm",
    "Hải",
    "Tĩnh",
    "Nông",
    "Thạch",
    "Thiết",
    "Cao",
    "Phú",
    "Hợp",
)
_SECOND = (
    "Phú",
    "Lộc",
    "Tân",
    "Thành",
    "Hưng",
    "Long",
    "Sơn",
    "Hải",
    "An",
    "Bình",
    "Thịnh",
    "Phong",
    "Đức",
    "Lợi",
    "Minh",
    "Hòa",
    "Trung",
    "Tiến",
    "Giang",
    "Vinh",
    "Châu",
    "Quang",
    "Khê",
    "Lâm",
    "Ngọc",
    "Trường",
)
_VILLAGE_WORDS = ("Đông", "Tây", "Nam", "Bắc", "Trung", "Thượng", "Hạ", "Đoài", "Chùa", "Đình")
_COMMUNE_CELLS = (
    "Trường Mầm non",
    "Trường Tiểu học",
    "Trường Trung học cơ sở",
    "Trạm Y tế",
    "Quân sự",
    "Công an",
    "Cơ quan",
    "Hợp tác xã dịch vụ nông nghiệp",
)
_DISTRICT_AGENCIES = (
    "Cơ quan Ủy ban nhân dân",
    "Cơ quan Huyện ủy",
    "Quân sự",
    "Công an",
    "Trung tâm Y tế",
    "Cơ quan Mặt trận Tổ quốc và các đoàn thể",
)
_AGENCY_CELLS = (
    "Văn phòng",
    "Phòng Tổ chức - Hành chính",
    "Phòng Kế hoạch - Tài chính",
    "Phòng Nghiệp vụ",
    "Phòng Pháp chế",
    "Thanh tra",
    "Đội Công tác số",
    "Tổ Nghiệp vụ số",
)
_DISTRICT_CELLS = (
    "Trường Trung học phổ thông {place}",
    "Chi cục Thuế khu vực {place}",
    "Bảo hiểm xã hội {place}",
    "Kho bạc Nhà nước {place}",
    "Ngân hàng Chính sách xã hội {place}",
    "Công ty TNHH {place}",
    "Bệnh viện Đa khoa {place}",
    "Trung tâm Giáo dục nghề nghiệp {place}",
)
_BLOC_AGENCIES = (
    "Sở Tài chính",
    "Sở Xây dựng",
    "Sở Y tế",
    "Sở Giáo dục và Đào tạo",
    "Sở Nông nghiệp và Môi trường",
    "Sở Văn hóa, Thể thao và Du lịch",
    "Sở Nội vụ",
    "Sở Công Thương",
    "Thanh tra tỉnh",
    "Bệnh viện Đa khoa tỉnh",
    "Trường Đại học Hồng Đức",
    "Cục Thuế tỉnh",
    "Kho bạc Nhà nước tỉnh",
    "Bảo hiểm xã hội tỉnh",
    "Đài Phát thanh và Truyền hình tỉnh",
    "Báo Thanh Hóa",
)
_BLOC_ENTERPRISES = (
    ("Công ty Điện lực Thanh Hóa", "soe_full"),
    ("Viễn thông Thanh Hóa", "soe_full"),
    ("Công ty TNHH MTV Thủy lợi Sông Chu", "soe_full"),
    ("Công ty Xăng dầu Thanh Hóa", "soe_majority"),
    ("Ngân hàng TMCP Ngoại thương Chi nhánh tỉnh", "soe_majority"),
    ("Công ty cổ phần Mía đường Lam Sơn", "soe_minority"),
    ("Công ty cổ phần Xi măng Nghi Sơn", "private"),
    ("Công ty cổ phần May xuất khẩu", "private"),
    ("Công ty cổ phần Vận tải ô tô", "private"),
    ("Công ty cổ phần Dược - Vật tư y tế", "private"),
)
_ENTERPRISE_CELLS = (
    "Văn phòng",
    "Phòng Kỹ thuật",
    "Phòng Kinh doanh",
    "Phòng Tài chính - Kế toán",
    "Phân xưởng sản xuất số",
    "Xí nghiệp số",
    "Nhà máy số",
    "Đội Thi công số",
)
_PARTIAL_NAMES = ("Khối Văn phòng", "Khối Sản xuất", "Khối Kinh doanh", "Khối Kỹ thuật")
_PARTIAL_CELLS = ("Tổ số", "Phòng số", "Đội số")


@dataclass
class _Builder:
    rng: random.Random
    rows: list[Unit]

    def add(
        self,
        code: str,
        name: str,
        parent: str | None,
        kind: str,
        sector: str | None,
        since: date,
        *,
        until: date | None = None,
        email: str | None = None,
    ) -> None:
        line = len(self.rows) + 2
        self.rows.append(Unit(code, name, parent, kind, sector, since, until, email, line=line))


def upper_count(total: int) -> int:
    """Upper-level units of a province of `total` units: one per ~650, at least the two blocs."""
    return max(2, round(total / UNITS_PER_UPPER))


def _place(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST)} {rng.choice(_SECOND)}"


def _numbered(names: tuple[str, ...], count: int, template: str) -> list[str]:
    """`count` names: the fixed ones first, then numbered ones (`thôn 12`)."""
    result = list(names[:count])
    number = 1
    while len(result) < count:
        result.append(template.format(n=number))
        number += 1
    return result


def _district_name(index: int, rng: random.Random) -> str:
    if index < len(DISTRICTS):
        return DISTRICTS[index]
    return f"huyện {_place(rng)}"


def _sizes(budget: int, rng: random.Random) -> list[tuple[str, int, list[int]]]:
    """Grassroots organisations filling exactly `budget` units, each as (kind, direct cells,
    cells of each partial committee); a grassroots cell counts 1."""
    organisations: list[tuple[str, int, list[int]]] = []
    left = budget
    while left > 0:
        if left < 3 or rng.random() < GRASSROOTS_CELL_SHARE:
            organisations.append(("grassroots_cell", 0, []))
            left -= 1
            continue
        cells = round(rng.triangular(CELLS_LOW, CELLS_HIGH, CELLS_MODE))
        partials = []
        if rng.random() < PARTIAL_SHARE:
            partials = [rng.randint(3, 5) for _ in range(rng.randint(1, 2))]
        size = 1 + cells + len(partials) + sum(partials)
        if size > left:
            # the last organisation of an upper is cut to what is left: plain cells only
            partials, cells = [], left - 1
            size = left
        organisations.append(("grassroots_committee", cells, partials))
        left -= size
    return organisations


def bench_units(total: int, seed: int = 2025) -> list[Unit]:
    """A registry with exactly `total` units active from 2025 on, in hierarchy order."""
    uppers = upper_count(total)
    budget = total - 1 - uppers - GRASSROOTS_CELLS_UNDER_PROVINCE
    if budget < uppers:
        raise ValueError(f"{total} units are too few for a province (at least 10 are needed)")
    rng = random.Random(f"bench-registry:{seed}:{total}")
    builder = _Builder(rng, [])
    builder.add(
        PROVINCE_CODE,
        f"Tỉnh ủy {PROVINCE_NAME}",
        None,
        "province",
        None,
        GROUNDING_DAY,
        email="vanphong.tu@example.vn",
    )
    weights = [rng.uniform(0.6, 1.4) for _ in range(uppers)]
    shares = [int(budget * weight / sum(weights)) for weight in weights]
    shares[0] += budget - sum(shares)
    for index, share in enumerate(shares):
        if index == 0:
            code, name, style = "DUK-CQ", "Đảng ủy Khối Cơ quan tỉnh", "agency"
        elif index == 1:
            code, name, style = "DUK-DN", "Đảng ủy Khối Doanh nghiệp tỉnh", "enterprise"
        else:
            district = _district_name(index - 2, rng)
            code, name, style = f"H{index - 1:03d}", f"Đảng bộ {district}", "district"
        builder.add(
            code,
            name,
            PROVINCE_CODE,
            "upper",
            None,
            GROUNDING_DAY,
            email=f"vanphong.{code.lower()}@example.vn",
        )
        for number, (kind, cells, partials) in enumerate(_sizes(share, rng), 1):
            _add_organisation(builder, code, style, number, kind, cells, partials)
    for number in range(1, GRASSROOTS_CELLS_UNDER_PROVINCE + 1):
        builder.add(
            f"TT-{number:03d}",
            f"Chi bộ Hội {('Cựu thanh niên xung phong', 'Luật gia')[number % 2]} tỉnh",
            PROVINCE_CODE,
            "grassroots_cell",
            "agency",
            GROUNDING_DAY,
        )
    return builder.rows


def _add_organisation(
    builder: _Builder,
    upper: str,
    style: str,
    number: int,
    kind: str,
    cells: int,
    partials: list[int],
) -> None:
    rng = builder.rng
    code = f"{upper}-{number:04d}"
    since = GROUNDING_DAY
    if rng.random() < 0.15:
        since += timedelta(days=rng.randint(30, 1700))
    place = _place(rng)
    if style == "district":
        if kind == "grassroots_cell":
            name = rng.choice(_DISTRICT_CELLS).format(place=place)
            sector = "private" if name.startswith("Công ty") else "agency"
        elif rng.random() < 0.1:
            name, sector = f"{rng.choice(_DISTRICT_AGENCIES)} huyện", "agency"
        else:
            level = rng.choices(("xã", "phường", "thị trấn"), (80, 14, 6))[0]
            name, sector = f"{level} {place}", "commune"
    elif style == "agency":
        base = rng.choice(_BLOC_AGENCIES)
        name, sector = (f"{base} {place}" if number > len(_BLOC_AGENCIES) else base), "agency"
    else:
        base, sector = rng.choice(_BLOC_ENTERPRISES)
        name = f"{base} {place}" if number > len(_BLOC_ENTERPRISES) else base
    if kind == "grassroots_cell":
        builder.add(code, f"Chi bộ {name}", upper, kind, sector, since)
        return
    builder.add(code, f"Đảng bộ {name}", upper, kind, sector, since)
    if sector == "commune":
        villages = [f"thôn {place} {word}" for word in _VILLAGE_WORDS[: rng.randint(2, 6)]]
        fixed = tuple(_COMMUNE_CELLS[: rng.randint(3, len(_COMMUNE_CELLS))]) + tuple(villages)
        names = _numbered(fixed, cells, "thôn {n}")
    elif style == "enterprise":
        names = _numbered(
            _ENTERPRISE_CELLS[:4], cells, _ENTERPRISE_CELLS[rng.randint(4, 7)] + " {n}"
        )
    else:
        names = _numbered(_AGENCY_CELLS[:6], cells, _AGENCY_CELLS[rng.randint(6, 7)] + " {n}")
    for p_index, partial_cells in enumerate(partials, 1):
        partial = f"{code}-BP{p_index:02d}"
        partial_name = _PARTIAL_NAMES[(p_index - 1) % len(_PARTIAL_NAMES)]
        builder.add(
            partial, f"Đảng bộ bộ phận {partial_name}", code, "partial_committee", None, since
        )
        template = rng.choice(_PARTIAL_CELLS)
        for c_index in range(1, partial_cells + 1):
            builder.add(
                f"{partial}-CB{c_index:02d}",
                f"Chi bộ {template} {c_index}",
                partial,
                "cell",
                None,
                since,
            )
    for c_index, cell_name in enumerate(names, 1):
        builder.add(f"{code}-CB{c_index:02d}", f"Chi bộ {cell_name}", code, "cell", None, since)
    if cells >= 3 and rng.random() < DISSOLVED_SHARE:
        # A cell merged into another before the period: in the registry, never asked for a form.
        builder.add(
            f"{code}-CB{cells + 1:02d}",
            f"Chi bộ {names[-1]} (cũ)",
            code,
            "cell",
            None,
            since,
            until=max(since, DISSOLVED_ON),
        )
