"""What units write in the text rows of their forms — highlights, limitations, their causes,
proposals — read the way a committee reads them for its report: each text split into its points
(sentences), the same point written by several units recognised as one (rapidfuzz, on the
texts normalised), and each proposal's addressee found in the hierarchy, so that a report relays
upward only what is addressed above its issuer.

Grouping is a real text problem: units retype, shorten, drop accents and periods. The measure
and its threshold were chosen on the demo's texts, which carry those slips (`tonghop.demo`):
token-set similarity on lower-cased text without punctuation scored every retyped point at
96.9 or more against the point it retypes, and no two different points above 80.7; the
threshold sits between. Token-sort and plain ratios keep a like margin (86.8 against 69.8) but
fall as soon as a unit adds or leaves out a clause («…, cần sớm khắc phục»), which token-set
similarity looks past. Stripping the
accents as well (the normalisation underthesea or pyvi would bring) narrowed that margin to
98.4 against 83.5, so neither is used. `tests/test_opinions.py` keeps the measure.
Points that carry different numbers ("tổ chức 5 hội nghị", "tổ chức 6 hội nghị") state different
facts and are never merged."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

# token_set_ratio (0–100) from which two points are one (see the module's docstring).
SIMILAR = 88
# The addressee, when a proposal names one, comes within this many characters of its verb.
_ADDRESSEE_WINDOW = 90
CENTRAL = "(trung ương)"  # the addressee above every unit of the registry

# A new point starts after a sentence's end (., !, ?, …, ;) when a capital letter or a bullet
# follows, and at every line break; bullets and numbering are not part of the point.
_POINT_BREAK = re.compile(r"(?<=[.!?…])\s+(?=[-–•+*]?\s*[A-ZÀ-ỸĐ\d])|\s*\n+\s*")
_BULLET = re.compile(r"^\s*(?:[-–•+*]|\d{1,2}[.)]|[a-zđ][.)])\s*")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NOT_WORD = re.compile(r"[^\w\s]")
_TRIGGER = re.compile(r"\b(?:đề nghị|kiến nghị|đề xuất|kính đề nghị|mong|xin)\b")
_CENTRAL_NAMES = (
    "ban chấp hành trung ương",
    "bộ chính trị",
    "ban bí thư",
    "trung ương",
    "tw",
)
# Committees people name by their kind alone ("Tỉnh ủy", "Đảng ủy Khối"), meaning the nearest
# such ancestor of the writer.
_COMMITTEE_WORDS = (
    "tỉnh ủy",
    "thành ủy",
    "huyện ủy",
    "quận ủy",
    "thị ủy",
    "đảng ủy khối",
    "đảng ủy",
)


def normalised(text: str) -> str:
    """Lower case, NFC, punctuation dropped, spaces collapsed: what two points are compared on."""
    text = unicodedata.normalize("NFC", text).lower()
    return " ".join(_NOT_WORD.sub(" ", text).split())


def tidy(text: str) -> str:
    """A point as a report writes it: without bullet, single-spaced, capitalised, ending with a
    period."""
    text = " ".join(_BULLET.sub("", unicodedata.normalize("NFC", text)).split())
    if not text:
        return ""
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?", "…")) else text.rstrip(",;:") + "."


def split_points(text: str) -> list[str]:
    """The points (sentences, list items) of a unit's text, each tidied."""
    points = (tidy(part) for part in _POINT_BREAK.split(text or ""))
    return [point for point in points if len(point) > 1]


def _numbers(text: str) -> tuple[str, ...]:
    return tuple(sorted(_NUMBER.findall(text)))


def same_point(first: str, second: str, threshold: float = SIMILAR) -> bool:
    """Whether two points say the same thing (see the module's docstring)."""
    if _numbers(first) != _numbers(second):
        return False
    return fuzz.token_set_ratio(normalised(first), normalised(second)) >= threshold


@dataclass
class Group:
    """One point and every unit that made it (in the order they came), with what each wrote."""

    key: str  # the normalised text of its first point: what later points are compared with
    numbers: tuple[str, ...]
    written: list[tuple[str, str]] = field(default_factory=list)  # (unit code, point)

    @property
    def units(self) -> list[str]:
        """The units that made the point, each once."""
        return list(dict.fromkeys(code for code, _ in self.written))

    @property
    def text(self) -> str:
        """The wording most units used (the first of them on a tie)."""
        counts = Counter(point for _, point in self.written)
        best = max(counts.values())
        return next(point for _, point in self.written if counts[point] == best)


def group_points(written: Iterable[tuple[str, str]], threshold: float = SIMILAR) -> list[Group]:
    """Group (unit code, point) pairs: each point joins the first group whose first point it
    matches (never a chain of near matches), else starts a group. Groups come in the order their
    first point came."""
    groups: list[Group] = []
    keys: list[str] = []
    for unit_code, point in written:
        key, numbers = normalised(point), _numbers(point)
        candidates = [i for i, group in enumerate(groups) if group.numbers == numbers]
        found = process.extractOne(
            key,
            [keys[i] for i in candidates],
            scorer=fuzz.token_set_ratio,
            score_cutoff=threshold,
        )
        if found is None:
            groups.append(Group(key, numbers, [(unit_code, point)]))
            keys.append(key)
        else:
            groups[candidates[found[2]]].written.append((unit_code, point))
    return groups


# --------------------------------------------------------------------------- addressees


@dataclass(frozen=True)
class Tree:
    """The hierarchy as far as addressees need it: each unit's name and parent."""

    names: Mapping[str, str]
    parents: Mapping[str, str | None]

    def ancestors(self, code: str) -> list[str]:
        """The unit's ancestors, nearest first."""
        found = []
        current = self.parents.get(code)
        while current is not None and current not in found:
            found.append(current)
            current = self.parents.get(current)
        return found

    def is_above(self, addressee: str, issuer: str) -> bool:
        """Whether `addressee` (a unit code or CENTRAL) is above `issuer`."""
        return addressee == CENTRAL or addressee in self.ancestors(issuer)


def addressee(text: str, writer: str, tree: Tree) -> str | None:
    """Whom a proposal point is addressed to: CENTRAL, the code of one of the writer's
    ancestors, or None when the point names no one (or someone not above its writer)."""
    lowered = " ".join(unicodedata.normalize("NFC", text).lower().split())
    trigger = _TRIGGER.search(lowered)
    if trigger is None:
        return None
    window = lowered[trigger.end() : trigger.end() + _ADDRESSEE_WINDOW]
    candidates: list[tuple[str, str]] = [(name, CENTRAL) for name in _CENTRAL_NAMES]
    ancestors = tree.ancestors(writer)
    # An organisation is named by its committee too: "Đảng bộ Sở Y tế" is led by "Đảng ủy Sở Y tế".
    names = {
        code: " ".join(tree.names.get(code, "").lower().split()).replace("đảng bộ", "đảng ủy", 1)
        for code in ancestors
    }
    for code in ancestors:
        name = " ".join(tree.names.get(code, "").lower().split())
        if name:
            candidates += [(name, code), (names[code], code)]
    for word in _COMMITTEE_WORDS:
        nearest = next((code for code in ancestors if names[code].startswith(word)), None)
        if nearest is not None:
            candidates.append((word, nearest))
    if ancestors:
        candidates.append(("cấp trên", ancestors[0]))
    best: tuple[int, int, str] | None = None
    for phrase, target in candidates:
        match = re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", window)
        if match is None:
            continue
        rank = (match.start(), -len(phrase), target)
        if best is None or rank[:2] < best[:2]:
            best = rank
    return None if best is None else best[2]


def addressed_points(text: str, writer: str, tree: Tree) -> list[tuple[str, str | None]]:
    """Each point of a proposals text with its addressee; a point that names no one is
    addressed to whom the point before it was (`Đề nghị X …. Đồng thời …`), the first one to
    the writer's parent."""
    found = []
    ancestors = tree.ancestors(writer)
    current: str | None = ancestors[0] if ancestors else None
    for point in split_points(text):
        named = addressee(point, writer, tree)
        if named is not None:
            current = named
        found.append((point, current))
    return found
