"""What the portal's tests share: the portal of a test workspace running the real `collect`
flow, a unit's personal links, and a form filled the way an officer fills it (openpyxl, into
the form the portal gave)."""

from __future__ import annotations

import html as html_module
import io
import re
from pathlib import Path

from openpyxl import load_workbook

from tests.test_end_to_end import PERIOD
from tonghop.config import Settings
from tonghop.context import local_now
from tonghop.periods import Period
from tonghop.portal.access import hash_password
from tonghop.portal.app import PortalConfig, create_app
from tonghop.portal.links import hand_out_links
from tonghop.registry_store import load_units
from tonghop.storage import transaction

OPERATOR, OPERATOR_PASSWORD = "vanhanh", "mat-khau-van-hanh-2025"
# What G1C2 (Chi bộ Thôn Hai, which sends nothing in the end-to-end workspace) reports.
GOOD_VALUES = {
    "members": 12,
    "members_exempt": 0,
    "members_attended": 11,
    "members_absent": 1,
    "sessions_in_person": 1,
    "sessions_total": 1,
}


def portal_settings(root: Path, **overrides: object) -> Settings:
    """The workspace's settings (its database from TONGHOP_DATABASE_URL) with one operator."""
    values = {"web_operators": {OPERATOR: hash_password(OPERATOR_PASSWORD)}} | overrides
    return Settings(workspace=root, **values)


def portal_app(settings: Settings):
    """The portal of the workspace, collecting with the real `collect` flow."""
    from tonghop_flows.collect import collect

    root = str(settings.workspace)

    def collect_uploaded(period: Period) -> None:
        collect(period=str(period), workspace=root)

    return create_app(PortalConfig(settings, collect_uploaded, Period.parse(PERIOD)))


def unit_links(settings: Settings, *codes: str, base: str = "") -> dict[str, str]:
    """New personal links for these units, by code (`base` + `/u/<secret>`)."""
    url = settings.resolved_database_url
    with transaction(url) as connection:
        units = load_units(connection)
    chosen = [unit for unit in units if unit.code in codes]
    issued = hand_out_links(
        url, chosen, base, local_now(settings.timezone), 30, settings.portal_key(), rotate=True
    )
    return {link.unit.code: link.url for link in issued}


def filled_form(blank: bytes, values: dict[str, object], **cells: object) -> bytes:
    """The blank form with `values` typed into column E beside their codes, and any cell of the
    top (`C2="G3"`) overwritten."""
    workbook = load_workbook(io.BytesIO(blank))
    sheet = workbook["BaoCao"]
    for row in sheet.iter_rows(min_col=2, max_col=2):
        cell = row[0]
        if cell.value in values:
            sheet.cell(cell.row, 5, values[cell.value])
    for reference, value in cells.items():
        sheet[reference] = value
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def page_text(html: str) -> str:
    """What a reader sees of a page: its text without tags, whitespace collapsed."""
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return " ".join(html_module.unescape(re.sub(r"<[^>]+>", " ", body)).split())
