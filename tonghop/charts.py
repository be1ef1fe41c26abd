"""Charts for the narrative report (issue 5), also written as PNG files beside it.

Every chart must survive a black-and-white office printer: only greys, series told apart by
hatch patterns, and each bar labelled with its value, so nothing depends on colour. Numbers are
written the Vietnamese way through `tonghop.formatting` (97,3%; 14.103).

Figures are built with `matplotlib.figure.Figure` and the Agg canvas directly, never through
pyplot: pyplot keeps every figure in a global registry until it is closed, whereas these are
ordinary objects freed with their last reference, whatever backend the process has selected.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, FuncFormatter

from tonghop.catalogue import label_vi
from tonghop.consolidation import Consolidation, ConsolidationView
from tonghop.formatting import format_count, format_percent, is_blank
from tonghop.layout import CHART_NAMES, chart_file_name, check_code, write_atomically
from tonghop.periods import Period
from tonghop.quarter_figures import QuarterFigures
from tonghop.registry import GRASSROOTS_KINDS

MAX_BARS = 25  # more children than this: only the lowest are drawn, and the title says so
DPI = 200
WIDTH_CM = 16.0
MIN_HEIGHT_CM = 9.0
MAX_HEIGHT_CM = 22.0  # still fits a portrait A4 page with the report's margins
_CM = 1 / 2.54

# The units a chart compares: the unit's own children that report as organisations.
CHILD_KINDS = ("upper", *GRASSROOTS_KINDS)
SESSION_FORMS = (
    ("sessions_in_person", "Trực tiếp"),
    ("sessions_online", "Trực tuyến"),
    ("sessions_hybrid", "Trực tiếp kết hợp trực tuyến"),
)
NO_DATA_VI = "Chưa có số liệu"
# The main figures a longer period's report shows quarter by quarter: (code, kind), one panel
# each, under the catalogue's label.
QUARTER_PANELS = (
    ("sessions_total", "count"),
    ("attendance_rate", "rate"),
    ("news_items", "count"),
    ("reporting_completeness", "rate"),
)

_INK = "black"
_EDGE = "0.15"
_STYLE = {
    # DejaVu Sans ships with matplotlib and has every Vietnamese diacritic.
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "text.color": _INK,
    "axes.edgecolor": _EDGE,
    "axes.labelcolor": _INK,
    "axes.facecolor": "white",
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "xtick.color": _INK,
    "ytick.color": _INK,
    "grid.color": "0.8",
    "hatch.color": _EDGE,
    "hatch.linewidth": 0.7,
    "legend.frameon": False,
    # Any series drawn without an explicit colour still comes out grey.
    "axes.prop_cycle": matplotlib.cycler(color=["0.35", "0.6", "0.85"]),
}


@dataclass(frozen=True)
class _Look:
    """How one series or bar is drawn: grey fill plus hatch, both legible in print."""

    fill: str
    hatch: str = ""


_PLAIN = _Look("0.72")
_BELOW_THRESHOLD = _Look("white", "////")
_REPORTED = _Look("0.55")
_ON_TIME = _Look("white", "////")
_SESSION_LOOKS = (_Look("0.55"), _Look("white", "////"), _Look("0.85", "xxx"))


# --------------------------------------------------------------------------- entry points


def render_charts(
    consolidation: Consolidation,
    unit_code: str,
    out_dir: Path,
    *,
    threshold: float | None = None,
    quarters: QuarterFigures | None = None,
) -> dict[str, Path]:
    """Write the unit's charts as PNG files into out_dir (names:
    bieu-do-<chart>-<P>-<unit_code>[-vN].png, e.g. bieu-do-attendance-2026Q3-TU.png); return
    {chart name: path}. A chart with no data (e.g. no sessions reported) is skipped, not drawn
    empty; the chart of the quarters side by side is drawn from `quarters`, each quarter's
    figures of a longer period."""
    return render_unit_charts(
        consolidation, [unit_code], out_dir, threshold=threshold, quarters=quarters
    )[unit_code]


def render_unit_charts(
    consolidation: Consolidation,
    unit_codes: Iterable[str],
    out_dir: Path,
    *,
    threshold: float | None = None,
    quarters: QuarterFigures | None = None,
) -> dict[str, dict[str, Path]]:
    """`render_charts` for several units, the consolidation indexed once for all of them (at
    province scale the indexing costs more than drawing); {unit code: {chart name: path}}."""
    codes = list(unit_codes)
    for code in codes:
        check_code(code)
    _check_threshold(threshold)
    out_dir = Path(out_dir)
    view = consolidation.view
    builders = _builders(quarters)
    written: dict[str, dict[str, Path]] = {}
    with _style():
        for code in codes:
            written[code] = {}
            for name in CHART_NAMES:
                path = out_dir / chart_file_name(
                    name, consolidation.period, code, consolidation.version
                )
                figure = builders[name](view, code, threshold)
                if figure is None:
                    continue
                write_atomically(path, lambda temp, figure=figure: _save_png(figure, temp))
                written[code][name] = path
    return written


def chart_figure(
    consolidation: Consolidation,
    unit_code: str,
    name: str,
    threshold: float | None = None,
    quarters: QuarterFigures | None = None,
) -> Figure | None:
    """The chart `name` of the unit as a Figure (not saved), or None when it has no data."""
    if name not in CHART_NAMES:
        raise ValueError(f"unknown chart {name!r}; expected one of {CHART_NAMES}")
    _check_threshold(threshold)
    with _style():
        return _builders(quarters)[name](consolidation.view, unit_code, threshold)


# --------------------------------------------------------------------------- the data


def _unit(view: ConsolidationView, code: str) -> dict:
    unit = view.by_code.get(code)
    if unit is None:
        raise ValueError(f"unit {code!r} is not in the consolidation of {view.period}")
    return unit


def _unit_name(view: ConsolidationView, code: str) -> str:
    name = _unit(view, code).get("name")
    return code if is_blank(name) else str(name)


def _children(view: ConsolidationView, code: str) -> list[dict]:
    """The units a chart of `code` compares, in hierarchy order."""
    _unit(view, code)
    return [
        unit
        for unit in view.units
        if unit.get("parent_code") == code and unit.get("kind") in CHILD_KINDS
    ]


def _children_noun(children: Sequence[dict]) -> str:
    kinds = {child["kind"] for child in children}
    if kinds <= set(GRASSROOTS_KINDS):
        return "tổ chức cơ sở đảng"
    if kinds == {"upper"}:
        return "đảng bộ cấp trên cơ sở"
    return "đơn vị trực thuộc"


@dataclass
class _Selection:
    """The children a chart draws, in drawing order, and what the title and footnote say."""

    rows: list[tuple[dict, tuple[float | None, ...]]]
    heading: str
    footnote: str


def _select(
    children: Sequence[dict], values: Sequence[tuple[float | None, ...]], noun: str, what: str
) -> _Selection:
    """All children in hierarchy order, or, past MAX_BARS, the lowest by the first value."""
    rows = list(zip(children, values, strict=True))
    if len(rows) <= MAX_BARS:
        return _Selection(rows, f" của các {noun}", "")
    with_data = [row for row in rows if row[1][0] is not None]
    # sorted() is stable: equal rates keep hierarchy order. A blank second value ranks last.
    lowest = sorted(with_data, key=lambda row: tuple(math.inf if v is None else v for v in row[1]))[
        :MAX_BARS
    ]
    heading = (
        f"\n{format_count(len(lowest))} {noun} có {what} thấp nhất "
        f"(trong số {format_count(len(rows))})"
    )
    blank = len(rows) - len(with_data)
    footnote = (
        f"{format_count(blank)} {noun} chưa có số liệu, không đưa vào biểu đồ." if blank else ""
    )
    return _Selection(lowest, heading, footnote)


# --------------------------------------------------------------------------- the charts


def _attendance(view: ConsolidationView, unit_code: str, threshold: float | None) -> Figure | None:
    children = _children(view, unit_code)
    values = [(view.number(child["code"], "attendance_rate"),) for child in children]
    if all(value is None for (value,) in values):
        return None
    noun = _children_noun(children)
    chosen = _select(children, values, noun, "tỷ lệ")
    rates = [value for _, (value,) in chosen.rows]
    below = [
        threshold is not None and rate is not None and rate < threshold - 1e-9 for rate in rates
    ]
    figure, axes = _new_figure(len(rates))
    _title(figure, f"{label_vi('attendance_rate')}{chosen.heading}", view, unit_code)
    positions = list(range(len(rates)))
    bars = axes.barh(
        positions,
        [0.0 if rate is None else rate * 100 for rate in rates],
        height=0.65,
        label=label_vi("attendance_rate"),
        **_bar_style(_PLAIN),
    )
    for bar, is_below in zip(bars, below, strict=True):
        if is_below:
            bar.set_facecolor(_BELOW_THRESHOLD.fill)
            bar.set_hatch(_BELOW_THRESHOLD.hatch)
    _label_bars(axes, bars, rates, [format_percent(rate) for rate in rates])
    _unit_axis(axes, [child for child, _ in chosen.rows])
    _percent_axis(axes)
    handles = []
    if threshold is not None:
        label = f"Ngưỡng {_short_percent(threshold)}"
        handles.append(
            axes.axvline(threshold * 100, color=_INK, linestyle="--", linewidth=1, label=label)
        )
        if any(below):
            handles.append(
                Patch(label=f"Dưới ngưỡng {_short_percent(threshold)}", **_patch(_BELOW_THRESHOLD))
            )
    if handles:
        _legend(axes, handles)
    _footnote(figure, chosen.footnote)
    return figure


def _reporting(view: ConsolidationView, unit_code: str, threshold: float | None) -> Figure | None:
    del threshold  # the threshold is about attendance; the signature is shared
    children = _children(view, unit_code)
    values = [
        (
            view.number(child["code"], "reporting_completeness"),
            view.number(child["code"], "reporting_timeliness"),
        )
        for child in children
    ]
    if all(value is None for pair in values for value in pair):
        return None
    noun = _children_noun(children)
    chosen = _select(children, values, noun, "tỷ lệ báo cáo")
    title = f"Tỷ lệ đơn vị đã báo cáo và báo cáo đúng hạn{chosen.heading}"
    series = (("Đã báo cáo", _REPORTED), ("Đúng hạn", _ON_TIME))
    figure, axes = _new_figure(len(chosen.rows), per_row=len(series))
    _title(figure, title, view, unit_code)
    height = 0.38
    for index, (label, look) in enumerate(series):
        rates = [pair[index] for _, pair in chosen.rows]
        # Two bars per unit, the first above the second (the y axis is inverted).
        offset = (index - (len(series) - 1) / 2) * height
        bars = axes.barh(
            [row + offset for row in range(len(rates))],
            [0.0 if rate is None else rate * 100 for rate in rates],
            height=height,
            label=label,
            **_bar_style(look),
        )
        _label_bars(axes, bars, rates, [format_percent(rate) for rate in rates])
    _unit_axis(axes, [child for child, _ in chosen.rows])
    _percent_axis(axes)
    _legend(axes, axes.containers)
    _footnote(
        figure,
        " ".join(
            part
            for part in (
                "Tỷ lệ tính trên số đơn vị phải báo cáo trong từng đơn vị, kể cả chính đơn vị đó."
                if view.period.is_quarter
                else "Tỷ lệ tính trên số báo cáo quý phải gửi của các đơn vị trong từng đơn vị, "
                "kể cả chính đơn vị đó, cộng qua các quý của kỳ.",
                chosen.footnote,
            )
            if part
        ),
    )
    return figure


def _sessions(view: ConsolidationView, unit_code: str, threshold: float | None) -> Figure | None:
    del threshold
    _unit(view, unit_code)
    counts = [view.number(unit_code, code) for code, _ in SESSION_FORMS]
    total = sum(count for count in counts if count is not None)
    if total <= 0:
        return None
    shares = [None if count is None else count / total for count in counts]
    figure, axes = _new_figure(len(SESSION_FORMS))
    _title(figure, "Hội nghị học tập, quán triệt theo hình thức tổ chức", view, unit_code)
    positions = list(range(len(SESSION_FORMS)))
    bars = axes.barh(
        positions,
        [0.0 if count is None else count for count in counts],
        height=0.6,
        label="Số hội nghị",
        **_bar_style(_PLAIN),
    )
    for bar, look in zip(bars, _SESSION_LOOKS, strict=True):
        bar.set_facecolor(look.fill)
        bar.set_hatch(look.hatch)
    texts = [
        f"{format_count(count)} hội nghị ({format_percent(share)})"
        for count, share in zip(counts, shares, strict=True)
    ]
    _label_bars(axes, bars, counts, texts)
    axes.set_yticks(positions, [label for _, label in SESSION_FORMS])
    axes.set_ylim(len(positions) - 0.4, -0.6)
    axes.tick_params(axis="y", length=0)
    largest = max(count for count in counts if count is not None)
    # Room on the right for the longest label, "1.234 hội nghị (45,6%)".
    axes.set_xlim(0, largest * 1.45)
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: format_count(value)))
    axes.xaxis.get_major_locator().set_params(integer=True)
    _grid(axes)
    _footnote(figure, f"Tổng số: {format_count(total)} hội nghị.")
    return figure


def _quarters(
    view: ConsolidationView,
    unit_code: str,
    threshold: float | None,
    *,
    quarters: QuarterFigures | None,
) -> Figure | None:
    """The unit's main figures quarter by quarter, one panel per figure, the quarters side by
    side: drawn for a period of several quarters whose quarters' figures are given."""
    del threshold
    _unit(view, unit_code)
    if quarters is None or view.period.is_quarter or quarters.period != view.period:
        return None
    periods = quarters.quarters
    panels = [
        (code, kind, [quarters.number(quarter, unit_code, code) for quarter in periods])
        for code, kind in QUARTER_PANELS
    ]
    panels = [panel for panel in panels if any(value is not None for value in panel[2])]
    if not panels:
        return None
    columns = 2 if len(periods) <= 4 and len(panels) > 1 else 1
    rows = math.ceil(len(panels) / columns)
    height = min(MAX_HEIGHT_CM, max(MIN_HEIGHT_CM, 2.2 + 5.2 * rows))
    figure = Figure(figsize=(WIDTH_CM * _CM, height * _CM), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    _title(figure, "Một số chỉ tiêu chủ yếu qua các quý", view, unit_code)
    labels = _quarter_labels(periods)
    for index, (code, kind, values) in enumerate(panels, start=1):
        axes = figure.add_subplot(rows, columns, index)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        rate = kind == "rate"
        heights = [0.0 if value is None else value * (100 if rate else 1) for value in values]
        bars = axes.bar(range(len(values)), heights, width=0.6, **_bar_style(_PLAIN))
        texts = [format_percent(value) if rate else format_count(value) for value in values]
        annotations = axes.bar_label(
            bars,
            labels=[NO_DATA_VI if v is None else t for v, t in zip(values, texts, strict=True)],
            padding=2,
            fontsize=6.5 if len(values) > 4 else 7,
        )
        for annotation, value in zip(annotations, values, strict=True):
            if value is None:
                annotation.set_style("italic")
        axes.set_xticks(range(len(values)), labels, fontsize=7)
        axes.tick_params(axis="x", length=0)
        axes.set_title(
            "\n".join(textwrap.wrap(label_vi(code), 44)), fontsize=8, fontweight="bold", loc="left"
        )
        axes.set_axisbelow(True)
        axes.yaxis.grid(True, linewidth=0.5)
        if rate:
            axes.set_ylim(0, 118)
            axes.yaxis.set_major_locator(FixedLocator([0, 20, 40, 60, 80, 100]))
            axes.yaxis.set_major_formatter(
                FuncFormatter(lambda value, _: f"{format_count(value)}%")
            )
        else:
            axes.set_ylim(0, max(max(heights), 1) * 1.2)
            axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: format_count(value)))
            axes.yaxis.get_major_locator().set_params(integer=True)
    _footnote(
        figure,
        "Số liệu từng quý theo tổ chức hiện nay của đơn vị; tỷ lệ đơn vị đã báo cáo tính trên số "
        "đơn vị phải báo cáo trong quý.",
    )
    return figure


def _quarter_labels(quarters: Sequence[Period]) -> list[str]:
    """`Quý I` … when the quarters are of one year (the title names it), else `Quý I` over
    its year."""
    if len({quarter.year for quarter in quarters}) == 1:
        return [quarter.short_label_vi.split("/")[0] for quarter in quarters]
    return [quarter.short_label_vi.replace("/", "\n") for quarter in quarters]


_BUILDERS = {"attendance": _attendance, "reporting": _reporting, "sessions": _sessions}


def _builders(quarters: QuarterFigures | None) -> dict:
    """Each chart's builder, `(view, unit code, threshold) → Figure | None`."""
    return {**_BUILDERS, "quarters": partial(_quarters, quarters=quarters)}


# --------------------------------------------------------------------------- drawing helpers


@contextmanager
def _style() -> Iterator[None]:
    # Text and patches read their defaults when created and some when drawn: hold the style
    # over both.
    with matplotlib.rc_context(_STYLE):
        yield


def _new_figure(rows: int, *, per_row: int = 1) -> tuple[Figure, Axes]:
    bars = rows * per_row
    height = min(MAX_HEIGHT_CM, max(MIN_HEIGHT_CM, 3.6 + (0.55 if per_row == 1 else 0.4) * bars))
    figure = Figure(figsize=(WIDTH_CM * _CM, height * _CM), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return figure, axes


def _title(figure: Figure, what: str, view: ConsolidationView, unit_code: str) -> None:
    # `what` may hold its own line breaks: the selection of bars goes on a line of its own.
    period = view.period.label_vi
    parts = [*what.split("\n"), f"{_unit_name(view, unit_code)} – {period[:1].upper()}{period[1:]}"]
    lines = [line for part in parts for line in textwrap.wrap(part, 80)]
    figure.suptitle("\n".join(lines), fontsize=9.5, fontweight="bold", x=0.01, ha="left")


def _footnote(figure: Figure, text: str) -> None:
    if text:
        figure.supxlabel(
            "\n".join(textwrap.wrap(text, 120)), fontsize=6.5, style="italic", x=0.01, ha="left"
        )


def _legend(axes: Axes, handles: Sequence) -> None:
    # Above the plot, under the title: never over a bar, and the layout makes room for it.
    axes.legend(
        handles=list(handles),
        loc="lower left",
        bbox_to_anchor=(0, 1.01),
        ncols=len(handles),
        borderaxespad=0,
        fontsize=7.5,
    )


def _bar_style(look: _Look) -> dict:
    return {"color": look.fill, "hatch": look.hatch or None, "edgecolor": _EDGE, "linewidth": 0.6}


def _patch(look: _Look) -> dict:
    return {
        "facecolor": look.fill,
        "hatch": look.hatch or None,
        "edgecolor": _EDGE,
        "linewidth": 0.6,
    }


def _label_bars(
    axes: Axes, bars: BarContainer, values: Sequence[float | None], texts: Sequence[str]
) -> None:
    labels = [
        NO_DATA_VI if value is None else text for value, text in zip(values, texts, strict=True)
    ]
    annotations = axes.bar_label(bars, labels=labels, padding=2, fontsize=7)
    for annotation, value in zip(annotations, values, strict=True):
        # A white ground keeps the label legible where the threshold line or a grid line
        # runs through it.
        annotation.set_bbox({"facecolor": "white", "edgecolor": "none", "pad": 0.6})
        if value is None:
            annotation.set_style("italic")


def _unit_axis(axes: Axes, units: Sequence[dict]) -> None:
    # Past a dozen bars a second line per name would run into the next one.
    lines = 2 if len(units) <= 12 else 1
    names = [_short_name(unit, 34 if lines == 2 else 44, lines) for unit in units]
    axes.set_yticks(range(len(units)), names, fontsize=7.5)
    axes.set_ylim(len(units) - 0.4, -0.6)  # inverted: the first unit on top, as in the tables
    axes.tick_params(axis="y", length=0)


def _percent_axis(axes: Axes) -> None:
    # 0–100 % on the axis, the extra room on the right holds the "100,0%" labels.
    axes.set_xlim(0, 118)
    axes.xaxis.set_major_locator(FixedLocator([0, 20, 40, 60, 80, 100]))
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{format_count(value)}%"))
    _grid(axes)


def _grid(axes: Axes) -> None:
    axes.set_axisbelow(True)
    axes.xaxis.grid(True, linewidth=0.5)


def _short_name(unit: dict, width: int = 34, lines: int = 2) -> str:
    name = unit.get("name")
    name = str(unit["code"]) if is_blank(name) else " ".join(str(name).split())
    return "\n".join(textwrap.wrap(name, width, max_lines=lines, placeholder=" …"))


def _short_percent(fraction: float) -> str:
    """`0.9` → `90%`, `0.925` → `92,5%`: a threshold is usually round."""
    percent = round(fraction * 100, 1)
    return f"{format_count(percent)}%" if percent.is_integer() else format_percent(fraction)


def _save_png(figure: Figure, path: Path) -> None:
    with _style():
        # No "Software" stamp: the same data gives the same bytes, version after version.
        figure.savefig(path, format="png", dpi=DPI, metadata={"Software": None})


def _check_threshold(threshold: float | None) -> None:
    if threshold is not None and not 0 < threshold <= 1:
        raise ValueError(f"threshold is a fraction in (0, 1], e.g. 0.9; got {threshold!r}")


__all__ = ["CHART_NAMES", "chart_figure", "render_charts", "render_unit_charts"]
