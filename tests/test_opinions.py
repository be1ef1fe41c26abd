"""Tests of how units' texts are read for a report: points split, the same point retyped by
several units grouped (the threshold measured on the demo's texts), and each proposal's addressee
found in the hierarchy."""

from __future__ import annotations

import random

import pytest
from rapidfuzz import fuzz

from tonghop.demo import values as demo
from tonghop.opinions import (
    CENTRAL,
    SIMILAR,
    Tree,
    addressed_points,
    addressee,
    group_points,
    normalised,
    same_point,
    split_points,
    tidy,
)

PARENT = "Đảng ủy Khối Cơ quan tỉnh"


def _pools() -> dict[str, list[str]]:
    """The demo's points, by the text row they are written in (proposals to one addressee)."""
    return {
        "highlights": list(demo._HIGHLIGHTS),
        "limitations": [*demo._LIMITATIONS, *split_points(demo._UPPER_LIMITATIONS)],
        "causes": [*demo._CAUSES, demo._UPPER_CAUSES],
        "proposals": [text.format(parent=PARENT) for text in demo._PROPOSALS],
    }


def _retyped(text: str, count: int = 60) -> set[str]:
    """The ways the demo's units retype a point (`tonghop.demo.values._as_written`)."""
    return {" ".join(split_points(demo._as_written(text, random.Random(i)))) for i in range(count)}


def test_the_threshold_separates_retyped_points_from_different_ones() -> None:
    """The measure behind SIMILAR: every retyped point scores above it against the point it
    retypes, every different point of the same row below it, with room on both sides."""
    worst_same, best_other = 100.0, 0.0
    for pool in _pools().values():
        for text in pool:
            for retyped in _retyped(text):
                for other in pool:
                    score = fuzz.token_set_ratio(normalised(retyped), normalised(tidy(other)))
                    if other == text:
                        worst_same = min(worst_same, score)
                    else:
                        best_other = max(best_other, score)
    assert worst_same >= SIMILAR + 5 and best_other <= SIMILAR - 5, (worst_same, best_other)


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        # retyped: no period, no accents on a word, «Một số» said another way, a clause added
        (
            "Đường truyền tại một số điểm cầu chưa ổn định.",
            "- duong truyền tại một số điểm cầu chưa ổn định",
            True,
        ),
        (
            "Một số đảng viên làm việc theo ca chưa bố trí được thời gian học tập.",
            "Một vài đảng viên làm việc theo ca chưa bố trí được thời gian học tập.",
            True,
        ),
        (
            "Việc tổ chức hội nghị thông tin thời sự chưa thường xuyên.",
            "Việc tổ chức hội nghị thông tin thời sự chưa thường xuyên, cần sớm khắc phục.",
            True,
        ),
        # different points that share words
        (
            "Chất lượng bài thu hoạch của một bộ phận đảng viên chưa cao.",
            "Chất lượng chương trình hành động của một số cấp ủy chưa cao.",
            False,
        ),
        # the same sentence with different figures states a different fact
        ("Tổ chức 5 hội nghị trực tuyến.", "Tổ chức 6 hội nghị trực tuyến.", False),
    ],
)
def test_same_point(first: str, second: str, same: bool) -> None:
    assert same_point(first, second) is same


def test_points_are_split_at_sentences_and_list_items() -> None:
    text = "- Đường truyền chưa ổn định; ảnh hưởng hội nghị.\n+ Báo cáo chậm. 2. Thiếu kinh phí"
    assert split_points(text) == [
        "Đường truyền chưa ổn định; ảnh hưởng hội nghị.",
        "Báo cáo chậm.",
        "Thiếu kinh phí.",
    ]
    assert split_points("Tháng 10. năm nay") == ["Tháng 10. năm nay."]
    assert split_points("   ") == []


def test_groups_count_units_and_take_the_most_common_wording() -> None:
    groups = group_points(
        [
            ("A", "Báo cáo viên cơ sở còn mỏng"),
            ("B", "Báo cáo viên cơ sở còn mỏng."),
            ("C", "Báo cáo viên cơ sở còn mỏng."),
            ("C", "Báo cáo viên cơ sở còn mỏng."),
            ("D", "Kinh phí còn hạn hẹp."),
        ]
    )
    assert [(group.text, group.units) for group in groups] == [
        ("Báo cáo viên cơ sở còn mỏng.", ["A", "B", "C"]),
        ("Kinh phí còn hạn hẹp.", ["D"]),
    ]


TREE = Tree(
    names={
        "TU": "Tỉnh ủy Thanh Hóa",
        "DUK": "Đảng ủy Khối Cơ quan tỉnh",
        "G1": "Đảng bộ Sở Y tế",
        "C1": "Chi bộ Văn phòng",
    },
    parents={"TU": None, "DUK": "TU", "G1": "DUK", "C1": "G1"},
)


@pytest.mark.parametrize(
    ("text", "writer", "expected"),
    [
        ("Đề nghị Ban Tuyên giáo và Dân vận Trung ương sớm cấp tài liệu.", "G1", CENTRAL),
        ("Kiến nghị Bộ Chính trị …", "DUK", CENTRAL),
        ("Đề nghị Ban Tuyên giáo Tỉnh ủy mở lớp.", "G1", "TU"),
        ("Đề nghị Tỉnh ủy Thanh Hóa mở lớp.", "G1", "TU"),
        ("Đề nghị Ban Thường vụ Đảng ủy Khối Cơ quan tỉnh mở lớp.", "G1", "DUK"),
        ("Đề nghị Đảng ủy Khối quan tâm.", "C1", "DUK"),
        ("Đề nghị cấp trên quan tâm.", "C1", "G1"),
        ("Đề nghị Đảng ủy hỗ trợ.", "C1", "G1"),
        ("Đề nghị Đảng ủy Sở Y tế hỗ trợ.", "C1", "G1"),
        # the first body named after the verb: a Centre's speaker invited by the province
        ("Đề nghị Tỉnh ủy mời báo cáo viên Trung ương.", "G1", "TU"),
        ("Quan tâm hỗ trợ kinh phí.", "G1", None),
    ],
)
def test_addressee(text: str, writer: str, expected: str | None) -> None:
    assert addressee(text, writer, TREE) == expected


def test_a_point_naming_no_one_follows_the_point_before_it() -> None:
    text = "Đề nghị Trung ương sớm cấp tài liệu. Đồng thời hỗ trợ kinh phí. "
    assert addressed_points(text, "G1", TREE) == [
        ("Đề nghị Trung ương sớm cấp tài liệu.", CENTRAL),
        ("Đồng thời hỗ trợ kinh phí.", CENTRAL),
    ]
    # the first point naming no one goes to the writer's parent
    assert addressed_points("Hỗ trợ kinh phí.", "C1", TREE) == [("Hỗ trợ kinh phí.", "G1")]
    assert TREE.is_above(CENTRAL, "TU") and TREE.is_above("TU", "DUK")
    assert not TREE.is_above("DUK", "DUK") and not TREE.is_above("G1", "DUK")
