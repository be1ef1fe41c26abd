"""Great Expectations Data Docs of the runs' validations: each run's suite results kept in a file
Data Context inside the workspace (`Workspace.gx_project`), a page per suite and period, the
suites themselves, and GX's index of every run so far (`Workspace.data_docs_index`). The site is
made to work on a closed network and to read in Vietnamese: its views are the project's
(tonghop/data_docs_view.py), and the scripts, styles and fonts GX loads from CDNs are copied
into its `static/vendor/` from the project's vendored copy (tonghop/data/data_docs/vendor, made
by `make` from the npm packages of package.json)."""

from __future__ import annotations

import copy
import filecmp
import logging
import shutil
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

from tonghop.layout import DATA_DOCS_SITE, Workspace
from tonghop.validation import BatchValidation, SealedValidation, quiet, read_suite

VENDORED_ASSETS = Path(__file__).parent / "data" / "data_docs" / "vendor"
ASSET_LIST = VENDORED_ASSETS.parent / "assets.txt"
_VIEWS = "tonghop.data_docs_view"

# Long parameter lists (every active unit code: tens of thousands) are cut to this many values
# on the page: the page is for people, the run keeps the full list.
SHOWN_VALUES = 20
# Per-row detail of the full result; the page shows the partial lists and counts instead.
_ROW_DETAIL = ("unexpected_list", "unexpected_index_list", "unexpected_index_query")
SUITE_TITLES_VI = {
    "value_rules": "Kiểm tra từng số liệu",
    "submission_rules": "Kiểm tra từng báo cáo",
}


@dataclass(frozen=True)
class DocsPage:
    """One suite's result for one period in a run, and where its page is."""

    suite: str
    period: str
    rows: int
    evaluated: int
    failed: int
    url: str

    @property
    def path(self) -> Path:
        """The page's file (GX gives its address as a file:// URL)."""
        return Path(url2pathname(urlparse(self.url).path))

    @property
    def title_vi(self) -> str:
        return SUITE_TITLES_VI.get(self.suite, self.suite)


@dataclass(frozen=True)
class DataDocs:
    """The site's index and this run's pages."""

    index: Path
    pages: tuple[DocsPage, ...]


def run_name_of(period: object, run_time: datetime) -> str:
    """A collection's name in the Data Docs: its period and when it ran, ASCII since GX makes a
    folder of it (`2026Q3-thu-thap-20261130-060000`); the pages show it as
    `2026Q3 · thu thập 30/11/2026 06:00`."""
    return f"{period}-thu-thap-{run_time:%Y%m%d-%H%M%S}"


def site_config(timezone: str) -> dict[str, Any]:
    """The site as the workspace's GX project keeps it: GX's own builders with the project's
    Vietnamese views, and without GX's how-to buttons and newsletter."""
    view = {"module_name": _VIEWS, "class_name": "VietnamesePageView", "timezone": timezone}
    return {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": f"uncommitted/data_docs/{DATA_DOCS_SITE}/",
        },
        "site_index_builder": {
            "class_name": "DefaultSiteIndexBuilder",
            "view": {**view, "class_name": "VietnameseIndexPageView"},
        },
        "site_section_builders": {
            "expectations": {"view": view},
            "validations": {"view": view},
            "profiling": {"view": view},
        },
    }


def vendored_assets() -> list[str]:
    """The assets the pages load (paths inside node_modules, as assets.txt lists them)."""
    lines = ASSET_LIST.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def copy_vendored_assets(site: Path) -> bool:
    """Put the vendored assets into the site's `static/vendor/` where they are missing or
    differ; False (and a warning) when this installation has no vendored copy to give."""
    if not VENDORED_ASSETS.is_dir():
        logging.getLogger(__name__).warning(
            "Thiếu bản sao thư viện hiển thị của Data Docs (%s): chạy `make` để tạo; các trang "
            "vẫn được ghi nhưng cần Internet để hiển thị đúng.",
            VENDORED_ASSETS,
        )
        return False
    target = site / "static" / "vendor"
    for source in sorted(VENDORED_ASSETS.rglob("*")):
        if not source.is_file():
            continue
        copy = target / source.relative_to(VENDORED_ASSETS)
        if copy.is_file() and filecmp.cmp(source, copy, shallow=True):
            continue
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, copy)
    return True


def build_data_docs(
    validations: Sequence[BatchValidation], workspace: Path, run_name: str, run_time: datetime
) -> DataDocs | None:
    """Store the run's suite results and build their pages and the index, with times shown in
    `run_time`'s time zone; None when the run validated nothing."""
    runs = [(item.period, run) for item in validations for run in item.runs]
    if not runs:
        return None
    context = _docs_context(workspace, str(run_time.tzinfo or "UTC"))
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    run_id = RunIdentifier(run_name=run_name, run_time=run_time)
    keys = []
    for period, run in runs:
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=run.suite),
            run_id=run_id,
            batch_identifier=period,
        )
        context.validation_results_store.set(key, _for_page(run.result, period, run_id))
        keys.append(key)
    suites = _store_suites(context)
    context.build_data_docs(site_names=[DATA_DOCS_SITE], resource_identifiers=[*keys, *suites])
    copy_vendored_assets(Workspace(workspace).data_docs_index.parent)
    pages = []
    for (period, run), key in zip(runs, keys, strict=True):
        (found,) = context.get_docs_sites_urls(resource_identifier=key, site_name=DATA_DOCS_SITE)
        statistics = run.result.statistics
        pages.append(
            DocsPage(
                suite=run.suite,
                period=period,
                rows=run.rows,
                evaluated=int(statistics["evaluated_expectations"]),
                failed=int(statistics["unsuccessful_expectations"]),
                url=found["site_url"],
            )
        )
    return DataDocs(index=Workspace(workspace).data_docs_index, pages=tuple(pages))


def build_sealed_data_docs(
    validations: Sequence[SealedValidation],
    workspace: Path,
    run_name: str,
    run_time: datetime,
    pool: Executor | None = None,
) -> DataDocs | None:
    """`build_data_docs` of validations sealed where they were made, in `pool`'s process when
    one is given (the one that validated: Great Expectations is imported there)."""
    if pool is not None:
        return pool.submit(
            build_sealed_data_docs, validations, workspace, run_name, run_time
        ).result()
    return build_data_docs([item.opened() for item in validations], workspace, run_name, run_time)


def _docs_context(workspace: Path, timezone: str) -> Any:
    """The workspace's file Data Context, made on first use, quiet and without progress bars
    (GX makes its project folder, `Workspace.gx_project`, inside the root it is given), its
    site configured as `site_config` says."""
    import great_expectations as gx

    workspace.mkdir(parents=True, exist_ok=True)
    context = quiet(gx.get_context(mode="file", project_root_dir=str(workspace)))
    # The pages' logo is fetched from GX's servers with this id appended (usage tracking).
    context.variables.data_context_id = None
    wanted = site_config(timezone)
    if context.list_data_docs_sites().get(DATA_DOCS_SITE) != wanted:
        context.update_data_docs_site(DATA_DOCS_SITE, wanted)
    return context


def _store_suites(context: Any) -> list[Any]:
    """The suites as this run used them, so the site's suite pages show the current rules."""
    import great_expectations as gx
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
    )

    identifiers = []
    for name in SUITE_TITLES_VI:
        stored = read_suite(name)
        suite = gx.ExpectationSuite(
            name=name, expectations=stored["expectations"], meta=stored.get("meta")
        )
        context.suites.add_or_update(suite)
        identifiers.append(ExpectationSuiteIdentifier(name=name))
    return identifiers


def _for_page(result: Any, period: str, run_id: Any) -> Any:
    """A copy of a suite result light enough to store and render: without per-row detail and
    with long value lists cut (the copy says how many values it left out)."""
    light = copy.deepcopy(result)
    # What the page shows as the run and the data asset.
    light.meta["run_id"] = run_id
    light.meta["batch_spec"] = {**light.meta.get("batch_spec", {}), "data_asset_name": period}
    for outcome in light.results:
        for name in _ROW_DETAIL:
            outcome.result.pop(name, None)
        kwargs = outcome.expectation_config.kwargs
        for name, value in list(kwargs.items()):
            if isinstance(value, list) and len(value) > SHOWN_VALUES:
                left_out = len(value) - SHOWN_VALUES
                kwargs[name] = [*value[:SHOWN_VALUES], f"… và {left_out} giá trị khác"]
    return light
