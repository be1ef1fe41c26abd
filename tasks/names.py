"""Task run names as the Prefect UI can draw them. Its run graph writes every name with a bitmap
font of ASCII letters only (PrefectHQ/prefect#21344, PrefectHQ/graphs#164), which drops each
Vietnamese letter with a mark ("Kim tra kt ni c s d liu"); written without the marks ("Kiem tra
ket noi co so du lieu"), a name reads the same in the graph as in every list of the UI."""

from __future__ import annotations

import unicodedata


def unmarked(text: str) -> str:
    """`text` without its diacritical marks, đ written d."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))
