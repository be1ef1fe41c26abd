"""Tests of the narrative report's charts: which bars are drawn, with which figures and labels,
that they print in black and white, and which PNG files are written."""

from __future__ import annotations

import gc
import math
import warnings
import weakref
from dataclasses import replace
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from tonghop.charts import (
    CHART_NAMES,
    MAX_BARS,
    chart_figure,
    render_charts,
    render_unit_charts,
)
from tonghop.consolidation import Consolidation
from tonghop.periods import Period
from tonghop.quarter_figures import QuarterFigures

PERIOD = Period(2026, 3)
# A quarter's report has every chart but the quarters side by side.
QUARTER_CHARTS = [name for name in CHART_NAMES if name != "quarters"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

UNITS = [
    # code, name, kind, parent_code, level
    ("TU", "Tỉnh ủy Thanh Hóa", "province", None, 0),
    ("DUK", "Đảng ủy Khối Cơ quan và Doanh nghiệp tỉnh", "upper", "TU", 1),
    ("G1", "Đảng bộ Sở Tư pháp", "grassroots_committee", "DUK", 2),
    ("C1", "Chi bộ Văn phòng Sở", "cell", "G1", 3),
    ("G2", "Chi bộ Công ty Điện lực", "grassroots_cell", "DUK", 2),
    ("HPB", "Huyện ủy Phú Bình", "upper", "TU", 1),
    ("G3", "Đảng bộ xã Kha Sơn", "grassroots_committee", "HPB", 2),
    ("G4", "Đảng bộ xã Xuân Phương", "grassroots_committee", "HPB", 2),
    ("GP", "Chi bộ Báo Thanh Hóa", "grassroots_cell", "TU", 1),
]
VALUES = [
    # unit_code, indicator_code, number
    ("TU", "attendance_rate", 0.951),
    ("TU", "sessions_in_person", 1234),
    ("TU", "sessions_online", 14103),
    ("TU", "sessions_hybrid", 0),
    ("DUK", "attendance_rate", 0.973),
    ("DUK", "reporting_completeness", 0.75),
    ("DUK", "reporting_timeliness", 0.5),
    ("DUK", "sessions_in_person", 12),
    ("DUK", "sessions_online", math.nan),
    ("DUK", "sessions_hybrid", 4),
    ("G1", "attendance_rate", 0.8),
    ("G1", "reporting_completeness", 1.0),
    ("G1", "reporting_timeliness", 0.5),
    ("C1", "attendance_rate", 0.1),  # a cell: never a bar of its own
    ("G2", "attendance_rate", 1.0),
    ("G2", "reporting_completeness", 1.0),
    ("G2", "reporting_timeliness", 1.0),
    ("HPB", "attendance_rate", 0.88),
    ("HPB", "reporting_completeness", 1 / 3),
    ("HPB", "reporting_timeliness", 0.0),
    ("HPB", "sessions_in_person", math.nan),
    ("G3", "attendance_rate", math.nan),
    ("G3", "reporting_completeness", 0.0),
    ("G3", "reporting_timeliness", 0.0),
    ("G4", "attendance_rate", 0.925),
    ("G4", "reporting_completeness", 1.0),
    ("G4", "reporting_timeliness", 0.0),
    ("GP", "attendance_rate", 0.9),
    ("GP", "reporting_completeness", 1.0),
    ("GP", "reporting_timeliness", 1.0),
]


def make_consolidation(units=UNITS, values=VALUES) -> Consolidation:
    frame = pd.DataFrame(units, columns=["code", "name", "kind", "parent_code", "level"])
    frame = frame.assign(sector=None, position=range(len(frame)))
    figures = pd.DataFrame(values, columns=["unit_code", "indicator_code", "number"])
    figures = figures.assign(number=figures["number"].astype(float), text=None)
    empty = pd.DataFrame()
    return Consolidation(
        period=PERIOD,
        generated_at=datetime(2026, 10, 9, 6, 30),
        deadline=date(2026, 10, 10),
        # Shuffled on purpose: the bars follow `position`, not the frame's order.
        units=frame.iloc[::-1].reset_index(drop=True),
        values=figures,
        sectors=empty,
        status=empty,
        problems=empty,
        texts=empty,
    )


@pytest.fixture(scope="module")
def consolidation() -> Consolidation:
    return make_consolidation()


def only_axes(figure):
    (axes,) = figure.axes
    return axes


def bar_names(axes) -> list[str]:
    return [label.get_text().replace("\n", " ") for label in axes.get_yticklabels()]


def series(axes, label: str) -> list[float]:
    (container,) = [c for c in axes.containers if c.get_label() == label]
    return [round(bar.get_width(), 9) for bar in container]


def title(figure) -> str:
    return figure.get_suptitle().replace("\n", " ")


def texts(axes) -> list[str]:
    return [text.get_text() for text in axes.texts]


# --------------------------------------------------------------------------- files


def test_render_writes_one_png_per_chart(consolidation, tmp_path):
    with warnings.catch_warnings():
        # A glyph missing from the font would print as a box: fail on matplotlib's warning.
        warnings.filterwarnings("error", message=".*missing from font.*")
        paths = render_charts(consolidation, "TU", tmp_path / "charts", threshold=0.9)
    assert list(paths) == QUARTER_CHARTS
    assert paths["attendance"] == tmp_path / "charts" / "bieu-do-attendance-2026Q3-TU.png"
    assert sorted(path.name for path in (tmp_path / "charts").iterdir()) == [
        "bieu-do-attendance-2026Q3-TU.png",
        "bieu-do-reporting-2026Q3-TU.png",
        "bieu-do-sessions-2026Q3-TU.png",
    ]
    for path in paths.values():
        assert path.read_bytes()[:8] == PNG_MAGIC
        with Image.open(path) as image:
            width, height = image.size
        # 16 cm wide at 200 dpi, at least 9 cm high.
        assert width == pytest.approx(16 / 2.54 * 200, abs=2)
        assert height >= 9 / 2.54 * 200 - 2


def test_a_chart_without_data_is_skipped(consolidation, tmp_path):
    paths = render_charts(consolidation, "HPB", tmp_path)
    # HPB reported no sessions at all (one blank form, the others absent).
    assert set(paths) == {"attendance", "reporting"}
    assert chart_figure(consolidation, "HPB", "sessions") is None
    assert not (tmp_path / "bieu-do-sessions-2026Q3-HPB.png").exists()


def test_each_version_draws_its_own_charts_beside_the_earlier_ones(consolidation, tmp_path):
    first = render_charts(consolidation, "TU", tmp_path)
    drawn = {name: path.read_bytes() for name, path in first.items()}
    second = render_charts(replace(consolidation, version=2), "TU", tmp_path)
    assert second["attendance"].name == "bieu-do-attendance-2026Q3-TU-v2.png"
    # version 1's report keeps the charts it was drafted with
    assert {name: path.read_bytes() for name, path in first.items()} == drawn


def test_a_grassroots_unit_has_no_children_to_compare(consolidation, tmp_path):
    # G1's only child is a cell, which is not compared; G1 reported no sessions either.
    assert render_charts(consolidation, "G1", tmp_path) == {}
    assert list(tmp_path.iterdir()) == []


def test_same_data_gives_the_same_bytes(consolidation, tmp_path):
    first = render_charts(consolidation, "TU", tmp_path / "a")
    second = render_charts(consolidation, "TU", tmp_path / "b")
    for name in QUARTER_CHARTS:
        assert first[name].read_bytes() == second[name].read_bytes()


def test_several_units_at_once_draw_what_each_alone_draws(consolidation, tmp_path):
    together = render_unit_charts(consolidation, ["TU", "DUK", "HPB"], tmp_path / "together")
    for code, charts in together.items():
        alone = render_charts(consolidation, code, tmp_path / code)
        assert set(charts) == set(alone) and charts
        for name, path in charts.items():
            assert path.read_bytes() == alone[name].read_bytes(), (code, name)


@pytest.mark.parametrize("code", ["../TU", "TU/x", "", ".hidden", "T U", None])
def test_unsafe_unit_codes_are_refused(consolidation, tmp_path, code):
    with pytest.raises(ValueError, match="unsafe"):
        render_charts(consolidation, code, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_unknown_unit_and_bad_threshold_are_refused(consolidation, tmp_path):
    with pytest.raises(ValueError, match="not in the consolidation"):
        render_charts(consolidation, "NOPE", tmp_path)
    with pytest.raises(ValueError, match="fraction"):
        render_charts(consolidation, "TU", tmp_path, threshold=90)
    with pytest.raises(ValueError, match="unknown chart"):
        chart_figure(consolidation, "TU", "pie")


# --------------------------------------------------------------------------- black and white


def test_every_pixel_is_grey(consolidation, tmp_path):
    paths = render_charts(consolidation, "TU", tmp_path, threshold=0.9)
    for path in paths.values():
        with Image.open(path) as image:
            pixels = np.asarray(image.convert("RGBA")).astype(int)
        red, green, blue = pixels[..., 0], pixels[..., 1], pixels[..., 2]
        assert np.abs(red - green).max() <= 2, path.name
        assert np.abs(green - blue).max() <= 2, path.name
        assert (pixels[..., 3] == 255).all(), path.name  # opaque: prints on white as shown
        assert (red < 60).any(), path.name  # there is ink on the page


def test_series_differ_by_hatch_not_only_by_colour(consolidation):
    axes = only_axes(chart_figure(consolidation, "TU", "reporting"))
    reported, on_time = (container.patches[0] for container in axes.containers)
    assert (reported.get_hatch(), on_time.get_hatch()) != (None, None)
    assert reported.get_hatch() != on_time.get_hatch()
    sessions = only_axes(chart_figure(consolidation, "TU", "sessions"))
    assert len({bar.get_hatch() for bar in sessions.containers[0]}) == 3


# --------------------------------------------------------------------------- attendance


def test_province_attendance_has_one_bar_per_upper_unit_and_direct_grassroots(consolidation):
    figure = chart_figure(consolidation, "TU", "attendance")
    axes = only_axes(figure)
    assert bar_names(axes) == [
        "Đảng ủy Khối Cơ quan và Doanh nghiệp tỉnh",
        "Huyện ủy Phú Bình",
        "Chi bộ Báo Thanh Hóa",
    ]
    assert series(axes, "Tỷ lệ đảng viên tham gia học tập") == [97.3, 88.0, 90.0]
    assert texts(axes) == ["97,3%", "88,0%", "90,0%"]
    assert title(figure) == (
        "Tỷ lệ đảng viên tham gia học tập của các đơn vị trực thuộc "
        "Tỉnh ủy Thanh Hóa – Quý III năm 2026"
    )


def test_upper_unit_attendance_shows_its_grassroots_and_the_unreported(consolidation):
    figure = chart_figure(consolidation, "HPB", "attendance")
    axes = only_axes(figure)
    assert bar_names(axes) == ["Đảng bộ xã Kha Sơn", "Đảng bộ xã Xuân Phương"]
    assert series(axes, "Tỷ lệ đảng viên tham gia học tập") == [0.0, 92.5]
    assert texts(axes) == ["Chưa có số liệu", "92,5%"]
    assert "của các tổ chức cơ sở đảng" in title(figure)
    # The cell under G1 is not a bar of DUK's chart.
    duk = only_axes(chart_figure(consolidation, "DUK", "attendance"))
    assert bar_names(duk) == ["Đảng bộ Sở Tư pháp", "Chi bộ Công ty Điện lực"]


def test_threshold_line_and_bars_below_it(consolidation):
    axes = only_axes(chart_figure(consolidation, "TU", "attendance", threshold=0.9))
    (line,) = axes.lines
    assert line.get_label() == "Ngưỡng 90%"
    assert list(line.get_xdata()) == [90, 90]
    legend = [text.get_text() for text in axes.get_legend().get_texts()]
    assert legend == ["Ngưỡng 90%", "Dưới ngưỡng 90%"]
    hatched = [bool(bar.get_hatch()) for bar in axes.containers[0]]
    # Only HPB (88%) is below; exactly 90% is not.
    assert hatched == [False, True, False]

    plain = only_axes(chart_figure(consolidation, "TU", "attendance"))
    assert len(plain.lines) == 0 and plain.get_legend() is None
    odd = only_axes(chart_figure(consolidation, "TU", "attendance", threshold=0.925))
    assert odd.lines[0].get_label() == "Ngưỡng 92,5%"


def test_past_25_children_only_the_lowest_are_drawn():
    count = MAX_BARS + 5
    units = [*UNITS[:2]]
    values = []
    for index in range(count):
        code = f"X{index:02d}"
        units.append((code, f"Chi bộ số {index}", "grassroots_cell", "DUK", 2))
        # X00 is blank; the others run 0.99, 0.98, ... so the lowest are the last ones.
        values.append((code, "attendance_rate", math.nan if index == 0 else 1 - index / 100))
        values.append((code, "reporting_completeness", 1.0 if index % 2 else 0.5))
        # X01's timeliness is blank: it ranks after its equals, and does not break the sort.
        values.append((code, "reporting_timeliness", math.nan if index == 1 else 0.5))
    consolidation = make_consolidation(units, values)

    figure = chart_figure(consolidation, "DUK", "attendance")
    axes = only_axes(figure)
    assert len(axes.containers[0]) == MAX_BARS
    expected = [f"Chi bộ số {index}" for index in range(count - 1, count - 1 - MAX_BARS, -1)]
    assert bar_names(axes) == expected
    assert series(axes, "Tỷ lệ đảng viên tham gia học tập") == [
        round((1 - index / 100) * 100, 9) for index in range(count - 1, count - 1 - MAX_BARS, -1)
    ]
    assert "25 tổ chức cơ sở đảng có tỷ lệ thấp nhất (trong số 30)" in title(figure)
    assert "1 tổ chức cơ sở đảng chưa có số liệu" in figure.get_supxlabel()

    reporting = only_axes(chart_figure(consolidation, "DUK", "reporting"))
    # The 15 at 50% first, then ten at 100%, each group in hierarchy order.
    assert series(reporting, "Đã báo cáo") == [50.0] * 15 + [100.0] * 10
    assert bar_names(reporting)[:2] == ["Chi bộ số 0", "Chi bộ số 2"]
    assert bar_names(reporting)[15:] == [f"Chi bộ số {index}" for index in range(3, 23, 2)]


# --------------------------------------------------------------------------- reporting


def test_reporting_has_two_series_per_child(consolidation):
    figure = chart_figure(consolidation, "TU", "reporting")
    axes = only_axes(figure)
    assert bar_names(axes) == [
        "Đảng ủy Khối Cơ quan và Doanh nghiệp tỉnh",
        "Huyện ủy Phú Bình",
        "Chi bộ Báo Thanh Hóa",
    ]
    assert series(axes, "Đã báo cáo") == [75.0, round(100 / 3, 9), 100.0]
    assert series(axes, "Đúng hạn") == [50.0, 0.0, 100.0]
    assert texts(axes) == ["75,0%", "33,3%", "100,0%", "50,0%", "0,0%", "100,0%"]
    assert [text.get_text() for text in axes.get_legend().get_texts()] == [
        "Đã báo cáo",
        "Đúng hạn",
    ]
    # Each child's two bars sit together, "Đã báo cáo" above "Đúng hạn".
    reported, on_time = axes.containers
    for top, bottom in zip(reported, on_time, strict=True):
        assert top.get_y() < bottom.get_y()
        assert bottom.get_y() - top.get_y() < 0.5


# --------------------------------------------------------------------------- sessions


def test_sessions_by_form_with_counts_and_shares(consolidation):
    figure = chart_figure(consolidation, "TU", "sessions")
    axes = only_axes(figure)
    assert bar_names(axes) == ["Trực tiếp", "Trực tuyến", "Trực tiếp kết hợp trực tuyến"]
    assert series(axes, "Số hội nghị") == [1234.0, 14103.0, 0.0]
    assert texts(axes) == [
        "1.234 hội nghị (8,0%)",
        "14.103 hội nghị (92,0%)",
        "0 hội nghị (0,0%)",
    ]
    assert "Hội nghị học tập, quán triệt theo hình thức tổ chức" in title(figure)
    assert "Tổng số: 15.337 hội nghị." in figure.get_supxlabel()
    # A blank form is said to be blank, not drawn as none held.
    duk = only_axes(chart_figure(consolidation, "DUK", "sessions"))
    assert texts(duk) == ["12 hội nghị (75,0%)", "Chưa có số liệu", "4 hội nghị (25,0%)"]


# --------------------------------------------------------------------------- memory


def test_figures_are_freed_after_use(consolidation, tmp_path):
    figure = chart_figure(consolidation, "TU", "attendance")
    reference = weakref.ref(figure)
    del figure
    render_charts(consolidation, "TU", tmp_path)
    gc.collect()
    assert reference() is None


# --------------------------------------------------------------------------- the quarters

YEAR = Period.parse("2026")
# The province's figures in each quarter of the year; the third quarter's news items blank.
QUARTERLY = {
    1: {"sessions_total": 1938, "attendance_rate": 0.938, "news_items": 3804},
    2: {"sessions_total": 1944, "attendance_rate": 0.9381, "news_items": 3761},
    3: {"sessions_total": 1947, "attendance_rate": 0.9379},
    4: {"sessions_total": 1983, "attendance_rate": 0.939, "news_items": 3841},
}


def year_figures() -> QuarterFigures:
    return QuarterFigures(
        YEAR,
        {
            Period(2026, quarter): {
                **{("TU", code): float(value) for code, value in figures.items()},
                ("TU", "reporting_completeness"): 0.963,
            }
            for quarter, figures in QUARTERLY.items()
        },
    )


def test_a_year_s_chart_sets_its_quarters_side_by_side(tmp_path):
    year = replace(make_consolidation(), period=YEAR)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*missing from font.*")
        paths = render_charts(year, "TU", tmp_path, threshold=0.9, quarters=year_figures())
    assert paths["quarters"] == tmp_path / "bieu-do-quarters-2026-TU.png"
    assert paths["quarters"].read_bytes()[:8] == PNG_MAGIC
    figure = chart_figure(year, "TU", "quarters", quarters=year_figures())
    assert "Tỉnh ủy Thanh Hóa – Năm 2026" in title(figure)
    panels = {axes.get_title(loc="left"): axes for axes in figure.axes}
    assert list(panels) == [
        "Tổng số hội nghị học tập quán triệt",
        "Tỷ lệ đảng viên tham gia học tập",
        "Số tin bài tuyên truyền đã đăng tải",
        "Tỷ lệ đơn vị đã báo cáo",
    ]
    sessions = panels["Tổng số hội nghị học tập quán triệt"]
    assert [label.get_text() for label in sessions.get_xticklabels()] == [
        "Quý I",
        "Quý II",
        "Quý III",
        "Quý IV",
    ]
    (bars,) = sessions.containers
    assert [bar.get_height() for bar in bars] == [1938, 1944, 1947, 1983]
    assert texts(sessions) == ["1.938", "1.944", "1.947", "1.983"]
    rates = panels["Tỷ lệ đảng viên tham gia học tập"]
    assert texts(rates) == ["93,8%", "93,8%", "93,8%", "93,9%"]
    # a quarter without the figure says so rather than showing 0
    assert texts(panels["Số tin bài tuyên truyền đã đăng tải"])[2] == "Chưa có số liệu"
    # printed in greys only
    for axes in figure.axes:
        for bar in axes.containers[0]:
            red, green, blue, _ = bar.get_facecolor()
            assert red == green == blue


def test_the_quarters_chart_is_drawn_only_for_a_longer_period_given_its_quarters(
    consolidation, tmp_path
):
    # a quarter has no quarters to set side by side
    assert chart_figure(consolidation, "TU", "quarters", quarters=year_figures()) is None
    year = replace(make_consolidation(), period=YEAR)
    # a year without its quarters' figures draws the other charts only
    assert "quarters" not in render_charts(year, "TU", tmp_path / "a")
    # nor is a year drawn from another period's quarters
    other = QuarterFigures(Period.parse("2025"), year_figures().numbers)
    assert chart_figure(year, "TU", "quarters", quarters=other) is None


def test_a_review_s_quarters_name_their_years(tmp_path):
    span = Period.parse("2021Q2-2023Q2")
    figures = QuarterFigures(
        span, {q: {("TU", "sessions_total"): 100.0 + i} for i, q in enumerate(span.quarters())}
    )
    figure = chart_figure(
        replace(make_consolidation(), period=span), "TU", "quarters", quarters=figures
    )
    (axes,) = figure.axes  # one figure reported: one panel, across the page
    labels = [label.get_text() for label in axes.get_xticklabels()]
    assert labels[0] == "Quý II\n2021" and labels[-1] == "Quý II\n2023" and len(labels) == 9
