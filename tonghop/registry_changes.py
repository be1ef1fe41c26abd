"""What a new registry changes for figures already accepted (SPEC §1: a period counts the units
active on its last day): the units an import removes or ends although they have accepted
submissions in periods where, under the new registry, they no longer count."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tonghop.periods import Period, PeriodError
from tonghop.registry import Unit, span_vi


@dataclass(frozen=True)
class RemovalNotice:
    """A unit the new registry removes (`replacement` None) or no longer has active on the last
    day of `periods`, in each of which the unit has an accepted submission."""

    code: str
    name: str  # as the replaced registry had it: a removed unit's name is kept nowhere else
    replacement: Unit | None  # the unit in the new registry, None when it was removed
    periods: tuple[str, ...]  # oldest first

    @property
    def removed(self) -> bool:
        return self.replacement is None

    @property
    def message_vi(self) -> str:
        """One line for the operator: the unit, what the import did to it and the periods."""
        if self.replacement is None:
            change = "bị bỏ khỏi danh sách"
        else:
            change = f"theo danh sách mới, thời gian hiệu lực: {span_vi(self.replacement)}"
        periods = ", ".join(
            f"{Period.parse(period).label_vi} ({period})" for period in self.periods
        )
        return f"«{self.code}» {self.name}: {change}; kỳ có báo cáo đã được tiếp nhận: {periods}."


def removal_notices(
    accepted: Iterable[tuple[str, str, Unit | None]], new_units: Sequence[Unit]
) -> list[RemovalNotice]:
    """The units the new registry stops counting in periods where they have accepted figures.

    `accepted` holds every (unit code, quarter) with an accepted submission and the unit as the
    stored registry has it. Only what this import changes is reported: a unit the stored
    registry already left out of a period (or never had) is not, so importing the same file
    twice reports its removals once."""
    new_by_code = {unit.code: unit for unit in new_units}
    found: dict[str, tuple[Unit, list[str]]] = {}
    for code, text, stored in accepted:
        if stored is None:
            continue
        try:
            last_day = Period.parse(text).last_day
        except PeriodError:
            continue  # never accepted (rule F5), but an odd stored period must not stop an import
        if not stored.active_on(last_day):
            continue
        replacement = new_by_code.get(code)
        if replacement is not None and replacement.active_on(last_day):
            continue
        found.setdefault(code, (stored, []))[1].append(text)
    return [
        RemovalNotice(
            code=code,
            name=stored.name,
            replacement=new_by_code.get(code),
            periods=tuple(sorted(periods, key=Period.parse)),
        )
        for code, (stored, periods) in sorted(found.items())
    ]


def removal_summary_vi(count: int) -> str:
    """The sentence that introduces the notices of an import."""
    return (
        f"Lưu ý: {count} đơn vị có báo cáo đã được tiếp nhận nhưng theo danh sách vừa nhập không "
        "còn hoạt động vào ngày cuối của kỳ báo cáo đó (bị bỏ khỏi danh sách hoặc kết thúc sớm "
        "hơn). Khi các kỳ này được tổng hợp lại, số liệu của các đơn vị dưới đây sẽ không còn "
        "được tính; nếu đây là nhầm lẫn, hãy sửa tệp danh sách và nhập lại trước khi tổng hợp."
    )
