"""The outbox: every automatic e-mail of Tổng hợp, whatever its kind, as one `Letter`.

A kind of mail (reminders, report deliveries, and whatever comes next) only builds its letters:
who receives what, and the fingerprint that says when two letters are the same one. The outbox
does the rest once for all kinds: it plans against what earlier runs did, records each letter's
intent before it is sent and its outcome after, sums up a run and words its failures. A letter
whose intent was recorded but whose outcome never was (the run died while sending it) may or may
not have left: it is shown to the operator as sent but unconfirmed and never resent blindly."""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection, text

from tonghop.errors import TonghopError
from tonghop.formatting import format_count, is_blank
from tonghop.layout import check_code, version_marker, write_all_atomically
from tonghop.mime import compose, wire_bytes
from tonghop.periods import Period
from tonghop.registry import Unit
from tonghop.storage import execute_many, load_sql

# A letter's state in `outbox_message`: its intent recorded, then how it ended.
SENDING, SENT, FAILED = "sending", "sent", "failed"
SIGNATURE_SYSTEM = "Hệ thống Tổng hợp (thư tự động)"
# Units whose standing committee is addressed ("Ban Thường vụ …"); others, their committee.
_STANDING_COMMITTEE_KINDS = ("province", "upper")
# How much of a fingerprint an unsent letter's file name carries: enough to tell apart the
# letters of one kind about one unit, short enough to read.
_FILE_FINGERPRINT = 12
_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


class MailNotConfigured(TonghopError):
    """No SMTP server to send through."""


@dataclass(frozen=True)
class MailKind:
    """A kind of letter: `name` is stored with each of them, `title` heads its lists ("Thư đôn
    đốc báo cáo") and `artifact_key` prefixes the key of its run's artifact."""

    name: str
    title: str
    artifact_key: str


@dataclass(frozen=True)
class Recipient:
    """Who a letter goes to; `email` is None when the registry has no address for them."""

    code: str
    name: str
    email: str | None

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.email else f"{self.name} (mã {self.code})"


@dataclass(frozen=True)
class Letter:
    """One e-mail to send: `about_code` is the unit it is about, `about` says what it is as the
    operator reads it ("thư đôn đốc về 2 đơn vị trực thuộc Huyện ủy Một"), `undeliverable` why
    it cannot be sent when there is no address to send it to."""

    kind: MailKind
    period: str
    about_code: str
    about: str
    recipient: Recipient | None
    subject: str
    body: str
    fingerprint: str
    version: int | None = None
    attachments: tuple[Path, ...] = ()
    undeliverable: str | None = None
    cc: tuple[str, ...] = ()  # further addresses that receive the same message

    @property
    def deliverable(self) -> bool:
        return self.recipient is not None and bool(self.recipient.email)

    @property
    def to(self) -> str:
        """The recipient as the operator reads it."""
        return str(self.recipient) if self.recipient else "(không có địa chỉ)"


@dataclass(frozen=True)
class Outcome:
    """How one letter ended: sent, or failed after `attempts` tries with the Vietnamese `error`;
    `ended_at` (naive, in the operators' time zone) is when its last attempt ended."""

    letter: Letter
    state: str
    attempts: int
    error: str | None
    ended_at: datetime

    @property
    def sent(self) -> bool:
        return self.state == SENT

    @property
    def about_code(self) -> str:
        return self.letter.about_code

    @property
    def recipient(self) -> str | None:
        """The address it went, or was to go, to."""
        return self.letter.recipient.email if self.letter.recipient else None


@dataclass(frozen=True)
class OutboxPlan:
    """A run's letters: those to send, those an earlier run sent, and those an earlier run began
    to send without learning how it ended."""

    to_send: list[Letter]
    already_sent: int = 0  # only counted: a sent letter is never composed again
    unconfirmed: list[Letter] = field(default_factory=list)


@dataclass(frozen=True)
class LetterFile:
    """A letter not sent for want of a mail server, written as the `.eml` file `name` of
    `folder`."""

    letter: Letter
    folder: Path
    name: str

    @property
    def path(self) -> Path:
        # Made when read: a province's evening run finds 20,000 files written already, and
        # 20,000 paths made and hashed for nothing cost it half a second.
        return self.folder / self.name


_T = TypeVar("_T")


class Many(Sequence[_T]):
    """An immutable sequence of many items (a province's letters) held as one value: equal to
    the tuple of its items, but not a tuple itself, so that tools walking containers item by
    item — an orchestrator looking for pending results in what a step returns, seconds for
    20,000 letters — pass over it whole."""

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[_T] = ()) -> None:
        self._items = tuple(items)

    def __getitem__(self, index):  # type: ignore[override]
        found = self._items[index]
        return Many(found) if isinstance(index, slice) else found

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self):  # type: ignore[override]
        return iter(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Many):
            return self._items == other._items
        return isinstance(other, tuple | list) and self._items == tuple(other)

    def __hash__(self) -> int:
        return hash(self._items)

    def __repr__(self) -> str:
        return f"Many({self._items!r})"

    def __reduce__(self) -> tuple[object, ...]:
        return (Many, (self._items,))


@dataclass(frozen=True)
class OutboxSummary:
    """What one run did with one kind of letter for a period (and version); `not_configured`
    holds why nothing was tried when no mail server is configured. Then `letter_files` are the
    letters written as `.eml` files in `unsent_folder` instead, and `unwritten` those that could
    not be (no address, an attachment gone), each with why; neither is recorded as sent."""

    kind: MailKind
    period: str
    version: int | None = None
    outcomes: tuple[Outcome, ...] = ()
    already_sent: int = 0
    unconfirmed: tuple[Letter, ...] = ()
    not_configured: str | None = None
    letter_files: tuple[LetterFile, ...] = ()
    unwritten: tuple[Outcome, ...] = ()
    unsent_folder: Path | None = None

    def __post_init__(self) -> None:
        for name in ("outcomes", "unconfirmed", "letter_files", "unwritten"):
            object.__setattr__(self, name, Many(getattr(self, name)))

    @property
    def written(self) -> tuple[Path, ...]:
        """The `.eml` files this run wrote instead of sending, in the order of its letters."""
        return tuple(letter_file.path for letter_file in self.letter_files)

    @property
    def sent(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.sent]

    @property
    def failed(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if not outcome.sent]

    @property
    def label(self) -> str:
        """The period, and the version when the letters carry one."""
        return scope_label(Period.parse(self.period), self.version)


class MailNotSent(TonghopError):
    """Some letters did not reach their recipient; raised after every outcome is recorded."""

    def __init__(self, message: str, summary: OutboxSummary) -> None:
        super().__init__(message)
        self.summary = summary

    def __reduce__(self) -> tuple[object, ...]:
        # Prefect may pickle a flow's exception; keep the summary through it.
        return (type(self), (self.args[0], self.summary))


def fingerprint_of(*parts: object) -> str:
    """The fingerprint of a letter from what makes it the same letter."""
    return hashlib.sha256("\n".join(str(part) for part in parts).encode("utf-8")).hexdigest()


def scope_label(period: Period, version: int | None) -> str:
    """`Quý III năm 2026`, or `Quý III năm 2026 (phiên bản 1)`."""
    return period.label_vi if version is None else f"{period.label_vi} (phiên bản {version})"


def present(value: object) -> str | None:
    """A registry text, None when blank."""
    return None if is_blank(value) else str(value).strip()


def root_of(units: Sequence[Unit]) -> Unit | None:
    """The registry's top unit, the one without a parent."""
    return next((unit for unit in units if present(unit.parent_code) is None), None)


def sender_of(units: Sequence[Unit]) -> str:
    """Who signs the automatic e-mails: the province's propaganda department."""
    root = root_of(units)
    return f"Ban Tuyên giáo {root.name}" if root else "Ban Tuyên giáo"


def reach(unit: Unit, by_code: Mapping[str, Unit]) -> Unit | None:
    """Who a letter for `unit` goes to (SPEC §1): the unit itself when it has an address, else
    its nearest ancestor that has one; None when no one up the line has one."""
    seen: set[str] = set()
    current: Unit | None = unit
    while current is not None and current.code not in seen:
        if present(current.email):
            return current
        seen.add(current.code)
        parent_code = present(current.parent_code)
        current = by_code.get(parent_code) if parent_code else None
    return None


def recipient_of(unit: Unit) -> Recipient:
    """A unit as a letter addresses it."""
    return Recipient(unit.code, unit.name, present(unit.email))


def salutation(unit: Unit) -> str:
    """Whom a letter about `unit` addresses: `Ban Thường vụ Huyện ủy Một`, `Cấp ủy Chi bộ …`."""
    body = "Ban Thường vụ" if unit.kind in _STANDING_COMMITTEE_KINDS else "Cấp ủy"
    return f"{body} {unit.name}"


def forwarded(unit_name: str, recipient: Recipient | None, unit_code: str) -> list[str]:
    """The paragraph of a letter that reaches a unit through an ancestor; none when it reaches
    the unit itself."""
    if recipient is None or recipient.code == unit_code:
        return []
    return [
        f"Do {unit_name} chưa có địa chỉ thư điện tử trong danh sách đơn vị, thư này được gửi "
        f"đến {recipient.name} là cấp ủy cấp trên; đề nghị chuyển đến {unit_name}.",
        "",
    ]


def unreachable(unit_name: str, unit_code: str) -> str:
    """Why a letter for a unit cannot be sent, and what to do about it."""
    return (
        f"{unit_name} (mã {unit_code}) và các cấp ủy cấp trên của đơn vị này đều chưa có địa chỉ "
        "thư điện tử trong danh sách đơn vị; bổ sung địa chỉ vào danh sách đơn vị rồi chạy lại để "
        "gửi."
    )


def signed(lines: Sequence[str], sender: str) -> str:
    """A letter's text: its lines, then the closing and signature every automatic letter has."""
    return "\n".join([*lines, "Trân trọng./.", "", sender, SIGNATURE_SYSTEM]) + "\n"


def plan(
    letters: Sequence[Letter], states: Mapping[str, str], resend_unconfirmed: bool = False
) -> OutboxPlan:
    """Split letters by the state earlier runs left their fingerprints in (`states`, from
    `outbox_states`): sent ones are not sent again, failed and new ones are, unconfirmed ones
    only when the operator asks for it."""
    to_send, already_sent, unconfirmed = [], 0, []
    for letter in letters:
        state = states.get(letter.fingerprint)
        if state == SENT:
            already_sent += 1
        elif state == SENDING and not resend_unconfirmed:
            unconfirmed.append(letter)
        else:
            to_send.append(letter)
    return OutboxPlan(to_send, already_sent, unconfirmed)


# --- letters kept as files when there is no mail server -------------------------------------


def letter_file_name(letter: Letter) -> str:
    """The `.eml` file a letter is kept as: `gui-bao-cao-DUK-CQ-v2-1a2b3c4d5e6f.eml`, its kind,
    the unit it is about, its version, and the start of its fingerprint. The same letter has
    the same name on every run (a rerun writes over it), two letters never share one."""
    try:
        code = check_code(letter.about_code)
    except ValueError:
        # Registry codes are always plain; anything else still must not leave the folder.
        code = _UNSAFE_IN_NAME.sub("_", str(letter.about_code)).strip("._")[:100] or "thu"
    version = "" if letter.version is None else version_marker(letter.version)
    return (
        f"{letter.kind.artifact_key}-{code}{version}-{letter.fingerprint[:_FILE_FINGERPRINT]}.eml"
    )


def write_letter_files(
    letters: Sequence[Letter], folder: Path, mail_from: str, ended_at: datetime
) -> tuple[list[LetterFile], list[Outcome]]:
    """Write every letter into `folder` as the message that would have been sent (the same
    composing, the same bytes, attachments included), each file appearing whole. Returns the
    files written and, ended failed at `ended_at` without being recorded, the letters that
    could not be written, each with the Vietnamese reason; the others are written still. A
    letter an earlier run wrote already (its file is named by its fingerprint) is left as it
    is: a run with nothing new writes nothing."""
    written: list[LetterFile] = []
    unwritten: list[Outcome] = []
    to_write: list[LetterFile] = []
    order: dict[str, int] = {}  # the files in the letters' order, whichever way each went
    folder = Path(folder)
    # One listing of the folder, not a look per letter: a province's evening run with nothing
    # new finds its 20,000 letters written already.
    present = _files_in(folder)

    def composed() -> Iterator[tuple[Path, Callable[[Path], None]]]:
        # One at a time, as when sending: a province's attachments need not sit in memory.
        for index, letter in enumerate(letters):
            if not letter.deliverable:
                reason = letter.undeliverable or "không có địa chỉ thư điện tử"
                unwritten.append(Outcome(letter, FAILED, 0, reason, ended_at))
                continue
            name = letter_file_name(letter)
            order[name] = index
            if name in present:
                written.append(LetterFile(letter, folder, name))
                continue
            path = folder / name
            try:
                data = wire_bytes(compose(letter, mail_from))
            except OSError as error:
                reason = (
                    f"không đọc được tệp gửi kèm «{getattr(error, 'filename', '') or ''}» "
                    f"({error.strerror or error})"
                )
                unwritten.append(Outcome(letter, FAILED, 0, reason, ended_at))
                continue
            to_write.append(LetterFile(letter, folder, name))
            yield path, lambda temp, data=data: temp.write_bytes(data)

    failed = write_all_atomically(composed())
    for file in to_write:
        error = failed.get(file.path)
        if error is None:
            written.append(file)
        else:
            # A preview that cannot be written (a full disk) must not undo what the run did.
            reason = f"không ghi được tệp «{file.path}» ({error.strerror or error})"
            unwritten.append(Outcome(file.letter, FAILED, 0, reason, ended_at))
    written.sort(key=lambda file: order[file.name])
    return written, unwritten


def _files_in(folder: Path) -> set[str]:
    """The names of the plain files in `folder`, none when it does not exist yet."""
    try:
        with os.scandir(folder) as entries:
            return {entry.name for entry in entries if entry.is_file()}
    except FileNotFoundError:
        return set()


def discard_letter_files(folder: Path, letters: Iterable[Letter]) -> None:
    """Remove the files of letters that have now been sent: the folder keeps only what is
    still unsent."""
    for letter in letters:
        (Path(folder) / letter_file_name(letter)).unlink(missing_ok=True)


# --- what the operator reads ----------------------------------------------------------------


def _sentence(text: str) -> str:
    """The text with its first letter capitalised (str.capitalize lowercases the rest)."""
    return text[:1].upper() + text[1:]


def _tried(outcome: Outcome) -> str:
    return f" (đã gửi thử {outcome.attempts} lần)" if outcome.attempts else ""


def not_sent_message(summary: OutboxSummary) -> str:
    """The Vietnamese message a run ends with when some letters did not reach anyone."""
    failed = summary.failed
    lines = [
        f"{len(failed)} {summary.kind.title.lower()} {summary.label} chưa gửi được "
        "(đã ghi lại; chạy lại sẽ chỉ gửi các thư này):"
    ]
    lines += [
        f"- {_sentence(outcome.letter.about)}, gửi đến {outcome.letter.to}: "
        f"{outcome.error}{_tried(outcome)}"
        for outcome in failed
    ]
    return "\n".join(lines)


def not_configured_message(
    kind: MailKind,
    period: Period,
    version: int | None,
    folder: Path,
    written: Sequence[LetterFile],
    unwritten: Sequence[Outcome],
) -> str:
    """What the operator is told when an optional kind finds no mail server: how many letters
    were not sent, how many were written as `.eml` files instead and where, and why any could
    not be."""
    count = format_count(len(written) + len(unwritten))
    message = (
        f"Chưa cấu hình máy chủ thư: chưa gửi {count} {kind.title.lower()} "
        f"{scope_label(period, version)}"
    )
    if written:
        message += (
            f"; đã ghi {format_count(len(written))} thư thành tệp .eml (mở bằng chương trình "
            f"đọc thư để xem đúng thư sẽ gửi, cả tệp gửi kèm) trong «{folder}»"
        )
    message += ". Đặt TONGHOP_SMTP_HOST hoặc TONGHOP_EMAIL_BLOCK rồi chạy lại để gửi."
    if unwritten:
        lines = [message, f"{format_count(len(unwritten))} thư không ghi được thành tệp:"]
        lines += [
            f"- {_sentence(outcome.letter.about)}, gửi đến {outcome.letter.to}: {outcome.error}"
            for outcome in unwritten
        ]
        message = "\n".join(lines)
    return message


def unconfirmed_message(summary: OutboxSummary) -> str:
    """What the operator is told of letters an interrupted run may or may not have sent."""
    count = len(summary.unconfirmed)
    lines = [
        f"{count} {summary.kind.title.lower()} {summary.label} đã được gửi ở một lần chạy bị "
        "gián đoạn nhưng chưa xác nhận được là đã đi; không tự động gửi lại để người nhận không "
        "nhận hai lần. Nếu người nhận chưa có thư, chạy lại với --gui-lai-thu-chua-xac-nhan:"
    ]
    lines += [f"- {_sentence(letter.about)}, gửi đến {letter.to}" for letter in summary.unconfirmed]
    return "\n".join(lines)


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


# Files an artifact lists by name when letters could only be written: the folder holds them
# all, and a province's 20,000-row table would be posted to the Prefect server every evening
# for a page no one can read.
ARTIFACT_FILES_LISTED = 200


def artifact_markdown(summary: OutboxSummary) -> str:
    """The run's list for the Prefect UI: every letter tried with how it ended and why."""
    lines = [f"# {summary.kind.title} — {summary.label}", ""]
    if summary.not_configured:
        lines.append(summary.not_configured)
        if summary.letter_files:
            lines += ["", "| Tệp | Thư | Gửi đến |", "| --- | --- | --- |"]
            for letter_file in summary.letter_files[:ARTIFACT_FILES_LISTED]:
                letter = letter_file.letter
                cells = (letter_file.path.name, _sentence(letter.about), letter.to)
                lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
            rest = len(summary.letter_files) - ARTIFACT_FILES_LISTED
            if rest > 0:
                lines += [
                    "",
                    f"… và {format_count(rest)} tệp khác trong «{summary.unsent_folder}».",
                ]
    elif summary.outcomes:
        headers = ("Thư", "Gửi đến", "Kết quả", "Số lần gửi", "Lý do")
        lines += ["| " + " | ".join(headers) + " |", "| --- | --- | --- | ---: | --- |"]
        for outcome in summary.outcomes:
            result = "Đã gửi" if outcome.sent else "**Chưa gửi được**"
            cells = (
                _sentence(outcome.letter.about),
                outcome.letter.to,
                result,
                outcome.attempts,
                outcome.error or "",
            )
            lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    else:
        lines.append("Không có thư nào cần gửi trong lần chạy này.")
    if summary.already_sent:
        lines += ["", f"{summary.already_sent} thư đã gửi ở lần chạy trước, không gửi lại."]
    if summary.unconfirmed:
        lines += ["", unconfirmed_message(summary)]
    return "\n".join(lines)


# --- the outbox table -----------------------------------------------------------------------


def outbox_states(
    connection: Connection, kind: MailKind, period: Period, version: int | None
) -> dict[str, str]:
    """Each fingerprint's state: sent when any run sent it, else its latest row's state."""
    rows = connection.execute(
        text(load_sql("select_outbox_states")),
        {"kind": kind.name, "period": str(period), "version": version or 0},
    )
    states: dict[str, str] = {}
    for row in rows:  # oldest first: a later row overrides, a sent one stays
        if states.get(row.fingerprint) != SENT:
            states[row.fingerprint] = row.state
    return states


def _row(letter: Letter, state: str, at: datetime) -> dict[str, object]:
    return {
        "id": uuid.uuid4().hex,
        "kind": letter.kind.name,
        "period": letter.period,
        "version": letter.version,
        "about_code": letter.about_code,
        "recipient": letter.recipient.email if letter.recipient else None,
        "fingerprint": letter.fingerprint,
        "state": state,
        "attempts": 0,
        "error": None,
        "queued_at": at,
        "ended_at": None,
    }


def record_intent(connection: Connection, letter: Letter, at: datetime) -> str:
    """Record that `letter` is about to be sent; its row's id, for `record_outcome`."""
    row = _row(letter, SENDING, at)
    execute_many(connection, "insert_outbox_message", [row])
    return str(row["id"])


def record_outcome(connection: Connection, message_id: str, outcome: Outcome) -> None:
    """Record how the letter of row `message_id` ended."""
    connection.execute(
        text(load_sql("update_outbox_message")),
        {
            "id": message_id,
            "state": outcome.state,
            "attempts": outcome.attempts,
            "error": outcome.error,
            "ended_at": outcome.ended_at,
        },
    )


def record_unsent(connection: Connection, outcomes: Iterable[Outcome]) -> None:
    """Record letters that ended without an attempt (no address, no file, no server)."""
    rows = []
    for outcome in outcomes:
        row = _row(outcome.letter, outcome.state, outcome.ended_at)
        row.update(attempts=outcome.attempts, error=outcome.error, ended_at=outcome.ended_at)
        rows.append(row)
    execute_many(connection, "insert_outbox_message", rows)
