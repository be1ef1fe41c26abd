"""A hierarchy that changes (SPEC §1): the next registry version built from the stored one and a
new registry file (units carried over, ended instead of deleted), the successor CSV
(`code,successor_code,share,date`) read and checked against it, the refusals that keep accepted
figures counting, and where an ended unit's figures go in a later hierarchy (`Destinations`):
to its successors by their shares, else to its nearest ancestor that is still there."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

from tonghop.formatting import format_date
from tonghop.periods import Period, PeriodError
from tonghop.registry import RegistryProblem, Unit

SUCCESSOR_HEADER = ("code", "successor_code", "share", "date")
# Shares of a split are written with a few decimals (0.333): they must sum to 1 within this.
SHARE_TOLERANCE = 0.005
# Registry lines of units carried over from the stored version sort after the file's own lines.
_CARRIED_LINE = 10_000_000


@dataclass(frozen=True)
class Successor:
    """From `effective` on, `share` of the ended unit `code`'s figures continue in
    `successor_code`; `line` is its line in the successor CSV."""

    code: str
    successor_code: str
    share: float
    effective: date
    line: int = 0


def effective_date_vi(effective: date | None) -> str:
    return "từ đầu" if effective is None else f"từ ngày {format_date(effective)}"


def next_registry(
    stored: Sequence[Unit], new: Sequence[Unit], effective: date | None
) -> list[Unit]:
    """The units of the next version: the file's, then every stored unit the file leaves out,
    carried over and ended the day before `effective` (a unit is never deleted: earlier periods
    still count it, and `history` still names it). With no stored version, the file alone."""
    if effective is None or not stored:
        return list(new)
    in_file = {unit.code for unit in new}
    day_before = effective - timedelta(days=1)
    carried = [
        replace(
            unit,
            valid_to=day_before if unit.valid_to is None else min(unit.valid_to, day_before),
            line=_CARRIED_LINE + index,
        )
        for index, unit in enumerate(stored)
        if unit.code not in in_file
    ]
    return [*new, *carried]


def same_registry(stored: Sequence[Unit], units: Sequence[Unit]) -> bool:
    """Whether two registries hold the same units with the same attributes (line aside)."""

    def key(unit: Unit) -> tuple:
        return (
            unit.code,
            unit.name,
            unit.parent_code,
            unit.kind,
            unit.sector,
            unit.valid_from,
            unit.valid_to,
            unit.email,
        )

    return sorted(map(key, stored)) == sorted(map(key, units))


def accepted_figures_problems(
    accepted: Iterable[tuple[str, str]],
    units: Sequence[Unit],
    effective: date | None,
) -> list[RegistryProblem]:
    """A registry that would stop counting accepted figures is refused: for each unit with an
    accepted report for a quarter this version governs (ending on or after `effective`) that
    the version leaves out or no longer has active on that quarter's last day."""
    by_code = {unit.code: unit for unit in units}
    lost: dict[str, list[Period]] = {}
    for code, text in accepted:
        try:
            quarter = Period.parse(text)
        except PeriodError:
            continue
        if effective is not None and quarter.last_day < effective:
            continue  # an earlier version governs that quarter and keeps counting it
        unit = by_code.get(code)
        if unit is None or not unit.active_on(quarter.last_day):
            lost.setdefault(code, []).append(quarter)
    problems = []
    for code, quarters in sorted(lost.items()):
        unit = by_code.get(code)
        listed = ", ".join(f"{quarter.label_vi} ({quarter})" for quarter in sorted(quarters))
        latest = max(quarters).last_day
        if unit is None:
            change = "không có trong danh sách mới"
        elif unit.line >= _CARRIED_LINE:
            change = (
                "không có trong danh sách mới (nên được coi là kết thúc ngày "
                f"{format_date(unit.valid_to)})"
            )
        else:
            change = f"theo danh sách mới kết thúc ngày {format_date(unit.valid_to)}"
        problems.append(
            RegistryProblem(
                unit.line if unit is not None and unit.line < _CARRIED_LINE else 0,
                f"Đơn vị «{code}» {change} nhưng đã có báo cáo được tiếp nhận cho {listed}: số "
                "liệu này sẽ không còn được tính. Đề nghị để đơn vị hoạt động đến hết ngày "
                f"{format_date(latest)} (cột valid_to) hoặc cho danh sách mới có hiệu lực từ "
                "kỳ sau (--tu-ngay).",
            )
        )
    return problems


def read_successors(path: Path) -> tuple[list[Successor], list[RegistryProblem]]:
    """The successor CSV's links, or every problem of its form by line (the header is line 1);
    what they point at is checked by `successor_problems` against the registry."""
    try:
        content = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [RegistryProblem(0, "Tệp kế thừa không phải văn bản UTF-8.")]
    rows = list(csv.reader(io.StringIO(content)))
    if not rows or [cell.strip() for cell in rows[0]] != list(SUCCESSOR_HEADER):
        return [], [
            RegistryProblem(
                1, f"Dòng 1: dòng tiêu đề của tệp kế thừa phải là {','.join(SUCCESSOR_HEADER)}."
            )
        ]
    successors, problems = [], []
    for line, row in enumerate(rows[1:], start=2):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if len(cells) != len(SUCCESSOR_HEADER):
            problems.append(RegistryProblem(line, f"Dòng {line}: phải có đúng 4 ô."))
            continue
        code, successor_code, share_text, date_text = cells
        try:
            share = float(share_text.replace(",", "."))
        except ValueError:
            share = math.nan
        if not (0 < share <= 1):
            problems.append(
                RegistryProblem(
                    line, f"Dòng {line}: tỷ lệ «{share_text}» phải là số lớn hơn 0, tối đa 1."
                )
            )
        try:
            effective = date.fromisoformat(date_text)
        except ValueError:
            problems.append(
                RegistryProblem(
                    line,
                    f"Dòng {line}: ngày «{date_text}» không đúng định dạng năm-tháng-ngày (ví dụ "
                    "2025-07-01).",
                )
            )
            continue
        if not code or not successor_code:
            problems.append(RegistryProblem(line, f"Dòng {line}: thiếu mã đơn vị."))
            continue
        successors.append(Successor(code, successor_code, share, effective, line))
    return successors, problems


def successor_problems(
    successors: Sequence[Successor], units: Sequence[Unit], known: Iterable[Successor] = ()
) -> list[RegistryProblem]:
    """What is wrong with successor links against the registry version they come with: an
    unknown unit or successor, a successor not active from the date, a unit that has not ended
    by then, a link given twice, shares of a unit not summing to 1, a chain that loops."""
    by_code = {unit.code: unit for unit in units}
    problems = []
    seen: set[tuple[str, str]] = set()
    for link in successors:
        where = f"Dòng {link.line}:"
        unit, successor = by_code.get(link.code), by_code.get(link.successor_code)
        if (link.code, link.successor_code) in seen:
            problems.append(RegistryProblem(link.line, f"{where} liên kết lặp lại."))
        seen.add((link.code, link.successor_code))
        if unit is None:
            problems.append(
                RegistryProblem(
                    link.line, f"{where} không có đơn vị «{link.code}» trong danh sách."
                )
            )
        elif unit.valid_to is None or unit.valid_to >= link.effective:
            problems.append(
                RegistryProblem(
                    link.line,
                    f"{where} đơn vị «{link.code}» chưa kết thúc trước ngày "
                    f"{format_date(link.effective)} (cột valid_to của danh sách) nên không thể có "
                    "đơn vị kế thừa từ ngày đó.",
                )
            )
        if successor is None:
            problems.append(
                RegistryProblem(
                    link.line,
                    f"{where} đơn vị kế thừa «{link.successor_code}» không có trong danh sách.",
                )
            )
        elif not successor.active_on(link.effective):
            problems.append(
                RegistryProblem(
                    link.line,
                    f"{where} đơn vị kế thừa «{link.successor_code}» không hoạt động vào ngày "
                    f"{format_date(link.effective)}.",
                )
            )
    links = _merged(known, successors)
    for code, shares in _shares(links).items():
        total = sum(share for _, share in shares)
        if abs(total - 1) > SHARE_TOLERANCE:
            lines = sorted(link.line for link in successors if link.code == code) or [0]
            problems.append(
                RegistryProblem(
                    lines[0],
                    f"Dòng {', '.join(map(str, lines))}: tỷ lệ kế thừa của đơn vị «{code}» cộng "
                    f"lại bằng {total:g}, phải bằng 1.",
                )
            )
    problems.extend(_loops(links, successors))
    return sorted(problems, key=lambda problem: problem.line)


def _merged(known: Iterable[Successor], new: Sequence[Successor]) -> list[Successor]:
    """The stored links with the new ones in place of those they give again."""
    given = {(link.code, link.successor_code) for link in new}
    return [link for link in known if (link.code, link.successor_code) not in given] + list(new)


def _shares(links: Sequence[Successor]) -> dict[str, list[tuple[str, float]]]:
    shares: dict[str, list[tuple[str, float]]] = {}
    for link in links:
        shares.setdefault(link.code, []).append((link.successor_code, link.share))
    return shares


def _loops(links: Sequence[Successor], new: Sequence[Successor]) -> list[RegistryProblem]:
    """A chain of successors that comes back to where it started."""
    following = {code: [s for s, _ in shares] for code, shares in _shares(links).items()}
    problems = []
    for start in following:
        stack, seen = list(following[start]), set()
        while stack:
            code = stack.pop()
            if code == start:
                lines = sorted(link.line for link in new if link.code == start) or [0]
                problems.append(
                    RegistryProblem(
                        lines[0],
                        f"Dòng {lines[0]}: đơn vị «{start}» nằm trong một vòng kế thừa (kế thừa "
                        "lại chính nó).",
                    )
                )
                break
            if code not in seen:
                seen.add(code)
                stack.extend(following.get(code, []))
    return problems


class Destinations:
    """Where a unit's figures go in the hierarchy of a later day: to the unit itself when it is
    still there; else to its successors by their shares (following chains of changes up to that
    day); else, when it ended with no successor, to its nearest ancestor still there, so that no
    figure drops out of the province's totals."""

    def __init__(
        self,
        successors: Sequence[Successor],
        targets: Iterable[str],
        day: date,
        parents: Mapping[str, str | None],
        *,
        names: Mapping[str, str] | None = None,
    ) -> None:
        self.targets = frozenset(targets)
        self.parents = parents
        self.names = dict(names or {})  # the units' names in the same registry as `parents`
        self.following: dict[str, list[tuple[str, float]]] = {}
        for link in successors:
            if link.effective <= day:
                self.following.setdefault(link.code, []).append((link.successor_code, link.share))
        self._cache: dict[str, dict[str, float]] = {}

    def of(self, code: str) -> dict[str, float]:
        """Target unit code → share of `code`'s figures it receives (the shares sum to 1, or
        the mapping is empty when nothing in the later hierarchy can take them)."""
        found = self._cache.get(code)
        if found is None:
            found = self._find(code, frozenset())
            self._cache[code] = found
        return found

    def _find(self, code: str, visiting: frozenset[str]) -> dict[str, float]:
        if code in self.targets:
            return {code: 1.0}
        if code in visiting:
            return {}
        shares: dict[str, float] = {}
        for successor, share in self.following.get(code, []):
            for target, part in self._find(successor, visiting | {code}).items():
                shares[target] = shares.get(target, 0.0) + share * part
        if shares:
            return shares
        parent = self.parents.get(code)
        return self._find(parent, visiting | {code}) if parent else {}

    def main(self, code: str) -> str | None:
        """The one target that receives most of `code`'s figures: where a unit is counted."""
        shares = self.of(code)
        return max(shares, key=lambda target: (shares[target], target)) if shares else None


def effective_default(today: date) -> date:
    """When a registry imported today comes into force when the operator does not say: the
    first day of the quarter that just ended, the one being collected."""
    return Period.just_ended(today).first_day
