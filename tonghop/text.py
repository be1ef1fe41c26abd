"""Text that comes from outside — file names, cells of a form — made safe to store and readable to
show: names that are not UTF-8 kept losslessly and decoded for people, control characters
removed from what is stored, invisible characters made visible in messages."""

from __future__ import annotations

import os
import unicodedata

# Windows' Vietnamese code page: what a file name copied unconverted from a Windows machine
# (`B\xe1o c\xe1o.xlsx`) is most likely written in.
LEGACY_ENCODING = "cp1258"
# Kept in stored text: tab and line breaks are how people lay out a long answer in a cell.
_KEPT_CONTROLS = frozenset("\t\n\r")
# A lossless key can start with this: no file name on any system contains a slash.
_RAW_KEY_PREFIX = "/"


def is_control(character: str) -> bool:
    """A C0 or C1 control character or DEL (Unicode category Cc)."""
    return unicodedata.category(character) == "Cc"


def is_invisible(character: str) -> bool:
    """A character that prints as nothing or as a plain space although it is not one: controls,
    format characters (zero-width space, byte order mark…), separators other than the space."""
    if character == " ":
        return False
    return unicodedata.category(character) in ("Cc", "Cf", "Zs", "Zl", "Zp", "Co", "Cn")


def without_controls(text: str) -> str:
    """`text` without control characters (NUL included), tab and line breaks kept.

    The stated rule for every text a unit supplies: PostgreSQL cannot store NUL at all and
    SQLite cuts the text there, and no control character means anything in a report."""
    if text.isprintable():
        return text
    return "".join(c for c in text if c in _KEPT_CONTROLS or not is_control(c))


def visible(text: str) -> str:
    """`text` with every invisible character written out as `[U+200B]`, so that two codes that
    look identical in a message can be told apart."""
    if text.isprintable():
        return text
    return "".join(f"[U+{ord(c):04X}]" if is_invisible(c) else c for c in text)


def invisible_characters(text: str) -> list[str]:
    """The invisible characters of `text`, as `U+200B ZERO WIDTH SPACE`, each once."""
    found = dict.fromkeys(c for c in text if is_invisible(c))
    return [f"U+{ord(c):04X} {unicodedata.name(c, 'CONTROL')}" for c in found]


def name_bytes(name: str) -> bytes:
    """The bytes of a name as the file system gave it (str names carry undecodable bytes as
    surrogates)."""
    return os.fsencode(name)


def shown_name(raw: bytes) -> str:
    """A file name as people read it: UTF-8 when it is, else the Vietnamese Windows code page;
    control characters written out visibly. Never used to find the file again."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = unicodedata.normalize("NFC", raw.decode(LEGACY_ENCODING, errors="replace"))
    return "".join(f"[U+{ord(c):04X}]" if is_control(c) else c for c in text)


def raw_name(raw: bytes) -> str | None:
    """The name's bytes in hex when `shown_name` cannot give them back exactly, else None."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.hex()
    return raw.hex() if any(is_control(c) for c in text) else None


def name_key(raw: bytes) -> str:
    """A lossless text key for a name: the name itself when it is UTF-8, else `/` and its bytes
    in hex (unambiguous: a slash never occurs in a file name)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return _RAW_KEY_PREFIX + raw.hex()


def original_name(shown: str, raw_hex: str | None) -> bytes:
    """The bytes of a stored name: from its hex when kept, else the shown name is exact."""
    return bytes.fromhex(raw_hex) if raw_hex else shown.encode("utf-8")
