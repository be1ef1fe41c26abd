"""The feedback a cell secretary reads: each problem in plain words (what is wrong, on which row,
what to write instead), how and by when to resend, rule codes and statistics only in the
operator's columns; the workbook as written and opened again, and the same words as lines of an
e-mail."""

from __future__ import annotations

import re
import string
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from tests.test_validation import CONTEXT, GOOD, audit, audit_context, form, leaf_report, news
from tonghop.feedback import (
    HEADERS,
    REJECTED,
    UNIT_COLUMNS,
    WARNED,
    EarlierFile,
    FeedbackFile,
    FeedbackSubject,
    feedback_workbook,
    plain_problem,
    plain_problem_lines,
    resend_lines,
    rule_for,
    unit_title,
    write_feedback_files,
)
from tonghop.parallel import process_pool
from tonghop.periods import Period
from tonghop.problems import Problem
from tonghop.validation import SubmissionInput, load_rules, validate_submissions

PERIOD = Period(2025, 4)
DEADLINE = date(2026, 1, 10)
RECEIVED = datetime(2026, 1, 5, 8, 30)
CHECKED = datetime(2026, 1, 5, 20, 0)
# What a cell secretary is not expected to know.
STATISTICS = ("trung vị", "ngưỡng", "độ lệch", "MAD")
O2_MESSAGE = (
    "Dòng 11: chỉ tiêu «Số tin bài tuyên truyền đã đăng tải» có giá trị 85, cao bất thường so "
    "với 12 chi bộ trực thuộc khác của Đảng bộ Sở Y tế (trung vị 6, ngưỡng 42). Đề nghị kiểm "
    "tra lại; nếu số liệu đúng, không cần gửi lại."
)
V1_MESSAGE = (
    "Dòng 9: chỉ tiêu «Tổng số đảng viên» có giá trị «mười hai» không hợp lệ. Đề nghị ghi số "
    "nguyên không âm (ví dụ 12 hoặc 1.117), để trống nếu không có số liệu."
)
R1_MESSAGE = (
    "Tổng số hội nghị học tập, quán triệt (4) phải bằng tổng số hội nghị trực tiếp, trực tuyến "
    "và kết hợp (3)."
)
F1_MESSAGE = (
    "Tệp «bao-cao.xls» không đọc được: tệp là bảng tính Excel cũ (.xls, Excel 97–2003), không "
    "phải định dạng .xlsx. Đề nghị mở bằng Excel, lưu lại dưới dạng .xlsx và gửi lại."
)


def stored(
    rule: str, severity: str, message: str, code: str | None = None, row: int | None = None
) -> dict[str, object]:
    """A problem as a row of the `problem` table reads."""
    return {
        "rule": rule,
        "severity": severity,
        "indicator_code": code,
        "row_number": row,
        "message": message,
    }


# --- rules.toml says what to write instead, for every rule ------------------------------------


def test_every_rule_says_what_to_write_instead_in_plain_words() -> None:
    allowed = {"row", "code", "label"}
    for rule in load_rules():
        assert rule.advice, rule.key
        for template in (rule.advice, rule.plain or ""):
            names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
            assert names <= allowed, (rule.key, names)
            assert not any(word in template for word in STATISTICS), rule.key
        # an instruction, not the finding: no advice repeats its rule's polite opening
        assert not rule.advice.startswith("Đề nghị"), rule.key


@pytest.mark.parametrize(
    ("rule", "code", "check"),
    [
        ("V1", "members", "count_whole"),
        ("V1", "secretary_presented", "flag_binary"),
        ("V1", "highlights", "text_length"),
        ("F6", "new_members", "known_indicator"),
        ("F6", "members", "indicator_once"),
        ("R7", "newmember_classes", "both_or_neither"),
        ("R4w", "members_attended", "at_least"),
        ("O2", "news_items", "sibling_outlier"),
        ("V3", "members_attended", "reported_by_leaf"),
    ],
)
def test_a_stored_problem_finds_the_rule_it_broke(rule: str, code: str, check: str) -> None:
    found = rule_for(rule, code)
    assert (found.id, found.check) == (rule, check)


def test_r7_and_r8_are_told_apart_by_their_indicator() -> None:
    assert rule_for("R7", "skills_classes").left == ("skills_classes",)
    assert rule_for("R7", "awareness_classes").left == ("awareness_classes",)
    assert rule_for("R8", "contests").left == ("contests",)
    assert rule_for("R8", "briefings").left == ("briefings",)
    assert rule_for("F1", None) is None and rule_for("Z9", "members") is None


# --- each problem in the unit's words ----------------------------------------------------------


@pytest.mark.parametrize(
    ("problem", "found", "advice", "detail"),
    [
        pytest.param(
            stored("V1", "error", V1_MESSAGE, "members", 9),
            "Chỉ tiêu «Tổng số đảng viên» có giá trị «mười hai» không hợp lệ.",
            "Ghi một số nguyên không âm (ví dụ 12 hoặc 1.117), không kèm chữ, không có phần thập "
            "phân; để trống nếu không có số liệu.",
            None,
            id="V1-count",
        ),
        pytest.param(
            stored(
                "V1",
                "error",
                "Dòng 20: chỉ tiêu «X» có giá trị «2» không hợp lệ. Đề nghị "
                "ghi 1 (có) hoặc 0 (không).",
                "secretary_presented",
                20,
            ),
            "Chỉ tiêu «X» có giá trị «2» không hợp lệ.",
            "Ghi 1 nếu có, ghi 0 nếu không.",
            None,
            id="V1-flag",
        ),
        pytest.param(
            stored("R1", "error", R1_MESSAGE, "sessions_total", 14),
            R1_MESSAGE,
            "Ghi lại các số sao cho tổng số hội nghị học tập, quán triệt bằng số hội nghị trực "
            "tiếp cộng số hội nghị trực tuyến cộng số hội nghị kết hợp.",
            None,
            id="R1-sum",
        ),
        pytest.param(
            stored(
                "R4w",
                "warning",
                "Số đảng viên tham gia học tập cộng số vắng (17) ít hơn số đảng viên phải học tập "
                "(19): còn đảng viên chưa được thống kê. Đề nghị kiểm tra lại.",
                "members_attended",
                11,
            ),
            "Số đảng viên tham gia học tập cộng số vắng (17) ít hơn số đảng viên phải học tập "
            "(19): còn đảng viên chưa được thống kê.",
            "Kiểm tra lại số đảng viên tham gia và số vắng: cộng lại thường bằng tổng số đảng "
            "viên trừ số được miễn. Nếu số liệu đúng thì không cần sửa.",
            None,
            id="R4w-warning",
        ),
        pytest.param(
            stored("O2", "warning", O2_MESSAGE, "news_items", 11),
            "Số liệu cao hơn nhiều so với số liệu của các đơn vị cùng loại trực thuộc cùng cấp ủy "
            "cấp trên.",
            "Kiểm tra lại số đã ghi (có thể gõ thừa một chữ số, hoặc ghi nhầm số của cả đảng bộ). "
            "Nếu số liệu đúng thì không cần sửa, không cần gửi lại.",
            O2_MESSAGE,  # the statistics stay, for the operator
            id="O2-outlier",
        ),
        pytest.param(
            stored(
                "V3",
                "error",
                "Chưa ghi chỉ tiêu «Số đảng viên tham gia học tập» "
                "(members_attended). Chi bộ phải báo cáo chỉ tiêu này.",
                "members_attended",
            ),
            "Chưa ghi chỉ tiêu «Số đảng viên tham gia học tập» (members_attended). Chi bộ phải "
            "báo cáo chỉ tiêu này.",
            "Ghi số liệu vào ô «Giá trị» của chỉ tiêu «Số đảng viên tham gia học tập».",
            None,
            id="V3-label-in-advice",
        ),
        pytest.param(
            stored("F1", "error", F1_MESSAGE),
            "Tệp «bao-cao.xls» không đọc được: tệp là bảng tính Excel cũ (.xls, Excel 97–2003), "
            "không phải định dạng .xlsx.",
            "Đề nghị mở bằng Excel, lưu lại dưới dạng .xlsx và gửi lại.",  # the reader's own
            None,
            id="F1-read",
        ),
        pytest.param(
            stored("F9", "error", "Có lỗi lạ."),
            "Có lỗi lạ.",
            "Sửa nội dung này trong tệp báo cáo rồi gửi lại.",
            None,
            id="unknown-error",
        ),
        pytest.param(
            stored("O9", "warning", "Có điều lạ."),
            "Có điều lạ.",
            "Kiểm tra lại nội dung này. Nếu số liệu đúng thì không cần sửa.",
            None,
            id="unknown-warning",
        ),
    ],
)
def test_each_problem_says_what_is_wrong_and_what_to_write_instead(
    problem: dict, found: str, advice: str, detail: str | None
) -> None:
    plain = plain_problem(problem)
    assert (plain.found, plain.advice, plain.detail) == (found, advice, detail)
    assert (plain.rule, plain.severity, plain.row) == (
        problem["rule"],
        problem["severity"],
        problem["row_number"],
    )


def test_a_problem_object_reads_like_its_stored_row() -> None:
    problem = Problem("V1", "error", V1_MESSAGE, "members", 9)
    assert plain_problem(problem) == plain_problem(stored("V1", "error", V1_MESSAGE, "members", 9))
    assert plain_problem(problem).indicator == "Tổng số đảng viên"


# Real problems from the validation itself, one case per rule.
@pytest.mark.parametrize(
    "change",
    [
        {"sessions_total": "4"},
        {"sessions_online": "0", "sessions_total": "2"},
        {"members_attended": "19", "members_absent": "1"},
        {"members_attended": "17"},
        {"members_makeup": "2", "members_absent": "1"},
        {"essays_excellent": "19"},
        {"awareness_trainees": "0"},
        {"briefing_attendance": "0"},
        {"members": "mười hai"},
        {"secretary_presented": "2"},
        {"highlights": "x" * 10_001},
        {"members_attended": None},
        {"new_members": "3"},
    ],
    ids=lambda change: "+".join(change),
)
def test_every_validation_problem_reads_plainly(change: dict) -> None:
    submission = SubmissionInput("s1", "CB1", form(GOOD | change))
    problems = validate_submissions([submission], CONTEXT)["s1"]
    assert problems
    rows = {row.indicator_code: row.row_number for row in submission.form.rows}
    for problem in problems:
        # every problem about an indicator of the form says on which row it is
        assert problem.row_number == rows.get(problem.indicator_code), problem
        plain = plain_problem(problem)
        rule = rule_for(problem.rule, problem.indicator_code)
        assert plain.advice == rule.advice.format(
            row=problem.row_number or "", code=problem.indicator_code, label=plain.indicator
        )
        assert "Đề nghị" not in plain.found and not plain.found.startswith("Dòng")
        assert plain.found[:1].isupper()


def test_an_outlier_found_by_validation_reads_without_statistics() -> None:
    siblings = news(4, 5, 5, 6, 6, 6, 6, 6, 7, 7, 8, 9)
    (problem,) = audit({"A00": leaf_report(news_items="85")}, audit_context(stored=siblings))["A00"]
    assert "trung vị" in problem.message  # the operator's record keeps the figures
    plain = plain_problem(problem)
    for text in (plain.found, plain.advice, *plain_problem_lines([problem])):
        assert not any(word in text for word in STATISTICS), text
    assert plain.detail == problem.message


def test_problem_lines_for_an_email_name_row_indicator_and_remedy() -> None:
    lines = plain_problem_lines(
        [
            stored("V1", "error", V1_MESSAGE, "members", 9),
            stored("R1", "error", R1_MESSAGE, "sessions_total", 14),
            stored("O2", "warning", O2_MESSAGE, "news_items", 11),
            stored("F1", "error", F1_MESSAGE),
        ]
    )
    assert lines == [
        # the text names the indicator already: it is not named twice
        "1. Dòng 9: chỉ tiêu «Tổng số đảng viên» có giá trị «mười hai» không hợp lệ. Cách sửa: "
        "ghi một số nguyên không âm (ví dụ 12 hoặc 1.117), không kèm chữ, không có phần thập "
        "phân; để trống nếu không có số liệu.",
        "2. Dòng 14, chỉ tiêu «Tổng số hội nghị học tập quán triệt»: tổng số hội nghị học tập, "
        "quán triệt (4) phải bằng tổng số hội nghị trực tiếp, trực tuyến và kết hợp (3). Cách "
        "sửa: ghi lại các số sao cho tổng số hội nghị học tập, quán triệt bằng số hội nghị trực "
        "tiếp cộng số hội nghị trực tuyến cộng số hội nghị kết hợp.",
        "3. Dòng 11, chỉ tiêu «Số tin bài tuyên truyền đã đăng tải»: số liệu cao hơn nhiều so "
        "với số liệu của các đơn vị cùng loại trực thuộc cùng cấp ủy cấp trên. Đề nghị: kiểm "
        "tra lại số đã ghi (có thể gõ thừa một chữ số, hoặc ghi nhầm số của cả đảng bộ). Nếu số "
        "liệu đúng thì không cần sửa, không cần gửi lại.",
        "4. Tệp «bao-cao.xls» không đọc được: tệp là bảng tính Excel cũ (.xls, Excel 97–2003), "
        "không phải định dạng .xlsx. Cách sửa: mở bằng Excel, lưu lại dưới dạng .xlsx và gửi "
        "lại.",
    ]


# --- how and by when to resend -----------------------------------------------------------------

KEEP = (
    "giữ nguyên định dạng .xlsx (không lưu thành .xls, PDF hay ảnh chụp), giữ nguyên tên trang "
    "«BaoCao» và không sửa mã đơn vị ở ô C2, kỳ báo cáo ở ô C3"
)


@pytest.mark.parametrize(
    ("outcome", "today", "in_letter", "expected"),
    [
        (
            REJECTED,
            date(2026, 1, 5),
            True,
            [
                "Đề nghị sửa tệp báo cáo theo các nội dung cần sửa, rồi gửi lại bằng cách trả lời "
                "thư này và đính kèm tệp đã sửa (hoặc gửi đến địa chỉ tonghop@example.vn).",
                f"Khi sửa, đề nghị {KEEP}.",
                "Thời hạn gửi lại: chậm nhất ngày 10/01/2026.",
            ],
        ),
        (  # on the deadline day itself there is still time
            REJECTED,
            DEADLINE,
            True,
            [
                "Đề nghị sửa tệp báo cáo theo các nội dung cần sửa, rồi gửi lại bằng cách trả lời "
                "thư này và đính kèm tệp đã sửa (hoặc gửi đến địa chỉ tonghop@example.vn).",
                f"Khi sửa, đề nghị {KEEP}.",
                "Thời hạn gửi lại: chậm nhất ngày 10/01/2026.",
            ],
        ),
        (
            REJECTED,
            date(2026, 1, 11),
            False,
            [
                "Đề nghị sửa tệp báo cáo theo các nội dung cần sửa, rồi gửi lại bằng cách trả lời "
                "thư điện tử báo kết quả tiếp nhận báo cáo của Hệ thống Tổng hợp và đính kèm tệp "
                "đã sửa (hoặc gửi đến địa chỉ tonghop@example.vn).",
                f"Khi sửa, đề nghị {KEEP}.",
                "Hạn gửi báo cáo (ngày 10/01/2026) đã qua; đề nghị gửi lại sớm nhất có thể.",
            ],
        ),
        (
            WARNED,
            date(2026, 1, 5),
            True,
            [
                "Báo cáo đã được tiếp nhận; đơn vị không cần gửi lại.",
                "Chỉ khi kiểm tra thấy số liệu thực sự sai, đề nghị sửa tệp và gửi lại bằng cách "
                "trả lời thư này và đính kèm tệp đã sửa (hoặc gửi đến địa chỉ tonghop@example.vn)"
                f"; {KEEP}.",
            ],
        ),
        (
            "accepted",
            date(2026, 1, 5),
            True,
            ["Báo cáo đã được tiếp nhận; đơn vị không cần gửi lại."],
        ),
    ],
    ids=["rejected-in-time", "rejected-on-the-day", "rejected-late-workbook", "warned", "accepted"],
)
def test_resend_instructions(outcome: str, today: date, in_letter: bool, expected: list) -> None:
    lines = resend_lines(
        outcome, DEADLINE, today, in_letter=in_letter, reply_to="tonghop@example.vn"
    )
    assert lines == expected


# --- the workbook as the unit opens it ----------------------------------------------------------


def subject(outcome: str, **changes: object) -> FeedbackSubject:
    fields = {
        "unit_code": "CB01",
        "unit_title": unit_title("Chi bộ Văn phòng", "Đảng bộ Sở Y tế"),
        "period": PERIOD,
        "file_name": "bao-cao-quy-4.xlsx",
        "received_at": RECEIVED,
        "deadline": DEADLINE,
        "checked_at": CHECKED,
        "outcome": outcome,
    }
    return FeedbackSubject(**(fields | changes))


def written(tmp_path: Path, about: FeedbackSubject, problems: list[dict]):
    path = tmp_path / "phan-hoi.xlsx"
    feedback_workbook(about, problems, reply_to="tonghop@example.vn").save(path)
    return openpyxl.load_workbook(path).active


def texts_of(sheet, max_col: int | None = None, max_row: int | None = None) -> list[str]:
    return [
        str(value)
        for row in sheet.iter_rows(max_col=max_col, max_row=max_row, values_only=True)
        for value in row
        if value is not None
    ]


def header_row(sheet) -> int:
    return next(row[0].row for row in sheet.iter_rows(max_col=1) if row[0].value == "STT")


def test_a_rejected_file_workbook(tmp_path: Path) -> None:
    counting = EarlierFile("bao-cao-lan-1.xlsx", datetime(2026, 1, 3, 7, 15))
    problems = [
        stored("V1", "error", V1_MESSAGE, "members", 9),
        stored("O2", "warning", O2_MESSAGE, "news_items", 11),
    ]
    sheet = written(tmp_path, subject(REJECTED, counting=counting), problems)
    top = header_row(sheet)
    above = texts_of(sheet, max_row=top - 1)
    assert above[:2] == ["PHẢN HỒI KẾT QUẢ KIỂM TRA BÁO CÁO", "Đơn vị:"]
    for expected in (
        "Chi bộ Văn phòng — Đảng bộ Sở Y tế (mã CB01)",
        "Quý IV năm 2025",
        "bao-cao-quy-4.xlsx",
        "05/01/2026 08:30",
        "10/01/2026",
        "05/01/2026 20:00",
        "Bị trả lại",
        "Báo cáo bị trả lại, chưa được tiếp nhận: tệp có 1 lỗi cần sửa và 1 cảnh báo (liệt kê ở "
        "bảng dưới đây).",
        "Báo cáo đơn vị gửi trước đó (tệp «bao-cao-lan-1.xlsx», nhận lúc 03/01/2026 07:15) đã "
        "được tiếp nhận và vẫn được dùng để tổng hợp; tệp bị trả lại lần này không thay thế báo "
        "cáo đó.",
        "Thời hạn gửi lại: chậm nhất ngày 10/01/2026.",
        f"Khi sửa, đề nghị {KEEP}.",
    ):
        assert expected in above, expected
    assert any("trả lời thư điện tử báo kết quả tiếp nhận" in text for text in above)
    assert (
        [cell.value for cell in sheet[top]]
        == HEADERS
        == [
            "STT",
            "Dòng (trang BaoCao)",
            "Chỉ tiêu",
            "Nội dung",
            "Cần sửa thế nào",
            "Mức độ",
            "Dành cho cán bộ tổng hợp: mã quy tắc",
            "Dành cho cán bộ tổng hợp: chi tiết kiểm tra",
        ]
    )
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=top + 1)]
    assert rows == [
        [
            1,
            9,
            "Tổng số đảng viên",
            "Chỉ tiêu «Tổng số đảng viên» có giá trị «mười hai» không hợp lệ.",
            plain_problem(problems[0]).advice,
            "Lỗi",
            "V1",
            None,
        ],
        [
            2,
            11,
            "Số tin bài tuyên truyền đã đăng tải",
            "Số liệu cao hơn nhiều so với số liệu của các đơn vị cùng loại trực thuộc cùng cấp ủy "
            "cấp trên.",
            plain_problem(problems[1]).advice,
            "Cảnh báo",
            "O2",
            O2_MESSAGE,
        ],
    ]
    # what the unit reads holds no statistics: they are in the operator's column only
    unit_facing = above + texts_of(sheet, max_col=len(UNIT_COLUMNS))
    assert not any(word in text for text in unit_facing for word in STATISTICS)
    assert any("trung vị 6, ngưỡng 42" in text for text in texts_of(sheet))
    assert sheet.freeze_panes == f"A{top + 1}"


def test_a_warned_file_workbook_says_nothing_needs_resending(tmp_path: Path) -> None:
    problems = [stored("O2", "warning", O2_MESSAGE, "news_items", 11)]
    # late: a warned file is still not asked to be resent, by a date or otherwise
    sheet = written(tmp_path, subject(WARNED, today=date(2026, 1, 20)), problems)
    above = texts_of(sheet, max_row=header_row(sheet) - 1)
    assert "Tiếp nhận, có cảnh báo" in above
    assert "Báo cáo đã được tiếp nhận, có 1 cảnh báo (liệt kê ở bảng dưới đây)." in above
    assert "Báo cáo đã được tiếp nhận; đơn vị không cần gửi lại." in above
    assert not any(re.search(r"trả lại|chậm nhất|đã qua", text) for text in above)


def test_after_the_deadline_the_workbook_asks_for_the_file_as_soon_as_possible(
    tmp_path: Path,
) -> None:
    problems = [stored("R1", "error", R1_MESSAGE, "sessions_total", 14)]
    late = subject(REJECTED, received_at=datetime(2026, 1, 12, 9, 0), today=date(2026, 1, 12))
    above = texts_of(written(tmp_path, late, problems))
    assert "Hạn gửi báo cáo (ngày 10/01/2026) đã qua; đề nghị gửi lại sớm nhất có thể." in above
    assert not any("chậm nhất ngày" in text for text in above)
    assert not any("vẫn được dùng" in text for text in above)  # nothing earlier counts


def test_a_unit_without_parent_is_named_alone() -> None:
    assert unit_title("Tỉnh ủy Thử nghiệm", None) == "Tỉnh ủy Thử nghiệm"
    assert unit_title("Chi bộ Văn phòng", "Đảng bộ Sở Y tế") == (
        "Chi bộ Văn phòng — Đảng bộ Sở Y tế"
    )


def many_files(folder: Path, count: int) -> list[FeedbackFile]:
    problems = [stored("R1", "error", R1_MESSAGE, "sessions_total", 14)]
    return [
        FeedbackFile(subject(REJECTED, unit_code=f"CB{n:02}"), problems, folder / f"{n}.xlsx")
        for n in range(count)
    ]


def test_feedback_written_in_two_processes_is_the_feedback_written_in_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tonghop import feedback

    write_feedback_files(many_files(tmp_path / "one", 5))
    monkeypatch.setattr(feedback, "FEEDBACK_IN_POOL_FROM", 2)
    with process_pool(1) as pool:
        write_feedback_files(many_files(tmp_path / "two", 5), pool)
        assert pool._processes  # the pool's process wrote some of them
    for n in range(5):
        one = openpyxl.load_workbook(tmp_path / "one" / f"{n}.xlsx").active
        two = openpyxl.load_workbook(tmp_path / "two" / f"{n}.xlsx").active
        assert texts_of(two) == texts_of(one) and "CB" in " ".join(texts_of(one))
    assert sorted(path.name for path in (tmp_path / "two").iterdir()) == [
        f"{n}.xlsx" for n in range(5)
    ]  # nothing left aside


def test_feedback_that_cannot_be_written_fails_the_writing_and_is_alone_in_failing(
    tmp_path: Path,
) -> None:
    files = many_files(tmp_path, 3)
    files[1].path.mkdir()  # a folder where the workbook should go
    with pytest.raises(OSError):
        write_feedback_files(files)
    # The others are written whole; no temporary file is left beside them.
    assert sorted(path.name for path in tmp_path.iterdir()) == ["0.xlsx", "1.xlsx", "2.xlsx"]
    assert files[1].path.is_dir() and openpyxl.load_workbook(files[2].path).active is not None
