"""Where the product's own files are: the SQL of `sql/` and the Great Expectations suites of
`expectations/`. In a checkout they sit beside the packages, where the project's layout puts
them; an installed wheel carries them inside the `tonghop` package (pyproject.toml maps them
there), so that the product runs from anywhere without its source tree."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """The folder `name` (`sql`, `expectations`): inside the installed package, else beside it."""
    installed = _PACKAGE / name
    return installed if installed.is_dir() else _PACKAGE.parent / name
