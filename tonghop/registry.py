"""The unit hierarchy (SPEC §1): reading and validating the registry CSV, activity in a period,
leaves, hierarchy order and the closure table used by every roll-up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

KINDS = ("province", "upper", "grassroots_committee", "grassroots_cell", "partial_committee", "cell")
GRASSROOTS_KINDS = ("grassroots_committee", "grassroots_cell")
SECTORS = ("agency", "soe_full", "soe_majority", "soe_minority", "private", "commune", "other")

KIND_LABELS_VI = {
    "province": "Đảng bộ tỉnh",
    "upper": "Đảng bộ cấp trên cơ sở",
    "grassroots_committee": "Đảng bộ cơ sở",
    "grassroots_cell": "Chi bộ cơ sở",
    "partial_committee": "Đảng bộ bộ phận",
    "cell": "Chi bộ trực thuộc",
}
SECTOR_LABELS_VI = {
    "agency": "Cơ quan hành chính, đơn vị sự nghiệp, hội",
    "soe_full": "Doanh nghiệp 100% vốn Nhà nước",
    "soe_majority": "Doanh nghiệp trên 50% vốn Nhà nước",
    "soe_minority": "Doanh nghiệp dưới 50% vốn Nhà nước",
    "private": "Doanh nghiệp ngoài Nhà nước",
    "commune": "Xã, phường, thị trấn",
    "other": "Loại hình khác",
}
# Which parent kinds each kind may sit under (SPEC §1).
ALLOWED_PARENTS = {
    "province": (),
    "upper": ("province", "upper"),
    "grassroots_committee": ("province", "upper"),
    "grassroots_cell": ("province", "upper"),
    "partial_committee": ("grassroots_committee",),
    "cell": ("grassroots_committee", "partial_committee"),
}
HEADER = ("code", "name", "parent_code", "kind", "sector", "valid_from", "valid_to", "email")


@dataclass(frozen=True)
class Unit:
    """One registry row; `line` is its line number in the CSV (the header is line 1)."""

    code: str
    name: str
    parent_code: str | None
    kind: str
    sector: str | None
    valid_from: date | None
    valid_to: date | None
    email: str | None
    line: int = 0

    def active_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )

    @property
    def is_grassroots(self) -> bool:
        return self.kind in GRASSROOTS_KINDS


@dataclass(frozen=True)
class RegistryProblem:
    """Why a registry is refused; `line` points at the CSV line (0 for the file as a whole)."""

    line: int
    message: str
