"""Text from outside: names kept losslessly and shown readably, control characters dropped by
the stated rule, invisible characters made visible — pure functions, tested by table."""

from __future__ import annotations

import unicodedata

import pytest

from tonghop.text import (
    invisible_characters,
    name_key,
    original_name,
    raw_name,
    shown_name,
    visible,
    without_controls,
)


@pytest.mark.parametrize(
    ("raw", "shown", "kept_raw", "key"),
    [
        (b"bao-cao.xlsx", "bao-cao.xlsx", None, "bao-cao.xlsx"),
        ("Báo cáo.xlsx".encode(), "Báo cáo.xlsx", None, "Báo cáo.xlsx"),
        # cp1258 from an unconverted Windows copy: decoded, kept as bytes
        (
            b"B\xe1o c\xe1o.xlsx",
            "Báo cáo.xlsx",
            "42e16f2063e16f2e786c7378",
            "/42e16f2063e16f2e786c7378",
        ),
        # cp1258 writes tone marks as combining characters: shown composed
        (b"S\xf4\xd2.xlsx", "Sổ.xlsx", "53f4d22e786c7378", "/53f4d22e786c7378"),
        # a control character in a UTF-8 name: shown visibly, bytes kept
        (b"a\x01b.xlsx", "a[U+0001]b.xlsx", "6101622e786c7378", "a\x01b.xlsx"),
    ],
)
def test_names_are_kept_losslessly_and_shown_readably(
    raw: bytes, shown: str, kept_raw: str | None, key: str
) -> None:
    assert shown_name(raw) == shown
    assert raw_name(raw) == kept_raw
    assert name_key(raw) == key
    assert original_name(shown_name(raw), raw_name(raw)) == raw


def test_a_utf8_name_and_its_cp1258_twin_have_different_keys() -> None:
    assert shown_name(b"B\xe1o.xlsx") == shown_name("Báo.xlsx".encode())
    assert name_key(b"B\xe1o.xlsx") != name_key("Báo.xlsx".encode())


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Học tập tốt", "Học tập tốt"),
        ("Học tập\x00 tốt", "Học tập tốt"),  # `_x0000_` in the workbook
        ("dòng 1\ndòng 2\tcột", "dòng 1\ndòng 2\tcột"),  # layout kept
        ("a\x07\x1b[31mb\x7f\x85c", "a[31mbc"),  # bell, escape, DEL, a C1 control
        ("\x00\x01", ""),
    ],
)
def test_control_characters_are_dropped(typed: str, stored: str) -> None:
    assert without_controls(typed) == stored


def test_every_control_character_is_dropped_and_nothing_else() -> None:
    every = "".join(chr(point) for point in range(0x10000) if not 0xD800 <= point <= 0xDFFF)
    kept = without_controls(every)
    assert all(unicodedata.category(c) != "Cc" or c in "\t\n\r" for c in kept)
    assert len(every) - len(kept) == 65 - 3


@pytest.mark.parametrize(
    ("typed", "shown", "named"),
    [
        ("DUK-CQ-0004-CB05", "DUK-CQ-0004-CB05", []),
        ("DUK-CQ-0004-CB05\u200b", "DUK-CQ-0004-CB05[U+200B]", ["U+200B ZERO WIDTH SPACE"]),
        ("\ufeffCB01", "[U+FEFF]CB01", ["U+FEFF ZERO WIDTH NO-BREAK SPACE"]),
        ("CB\u00a001", "CB[U+00A0]01", ["U+00A0 NO-BREAK SPACE"]),
        ("CB\x0001", "CB[U+0000]01", ["U+0000 CONTROL"]),
        ("Chi bộ Văn phòng", "Chi bộ Văn phòng", []),
    ],
)
def test_invisible_characters_are_made_visible(typed: str, shown: str, named: list[str]) -> None:
    assert visible(typed) == shown
    assert invisible_characters(typed) == named
