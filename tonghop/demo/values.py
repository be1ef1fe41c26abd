"""What one unit's demo form holds: sound, internally consistent values for its kind (SPEC §4
R1–R8 hold), the units' own texts, typed the ways people type them, and who prepared it."""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

from tonghop.registry import Unit

_HIGHLIGHTS = (
    "Bí thư cấp ủy trực tiếp quán triệt nghị quyết; cấp ủy xây dựng kế hoạch thực hiện gắn với "
    "nhiệm vụ chính trị của cơ quan, đơn vị.",
    "Tổ chức hội nghị học tập, quán triệt theo hình thức trực tiếp kết hợp trực tuyến, bảo đảm "
    "đảng viên ở các đơn vị xa trung tâm được tham gia đầy đủ.",
    "Đảng viên vắng mặt được bố trí học tập bổ sung kịp thời; bài thu hoạch được cấp ủy đánh giá, "
    "nhận xét nghiêm túc, đúng quy định.",
    "Duy trì chuyên mục «Học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh» trên trang "
    "thông tin điện tử và nhóm Zalo của đơn vị.",
    "Tổ chức thi trắc nghiệm tìm hiểu nội dung nghị quyết sau học tập, thu hút đông đảo cán bộ, "
    "đảng viên, người lao động tham gia.",
    "Gắn việc học tập, quán triệt nghị quyết với đánh giá, xếp loại chất lượng đảng viên và kết "
    "quả thực hiện nhiệm vụ chuyên môn.",
    "Mời báo cáo viên cấp trên truyền đạt chuyên đề; sau học tập, đảng viên thảo luận, đăng ký "
    "việc làm cụ thể để thực hiện.",
    "Phát huy vai trò nêu gương của người đứng đầu trong học tập và làm theo tư tưởng, đạo đức, "
    "phong cách Hồ Chí Minh.",
)
_LIMITATIONS = (
    "Việc xây dựng chương trình hành động còn chậm, nội dung còn chung chung, chưa sát với nhiệm "
    "vụ chính trị của đơn vị.",
    "Một số đảng viên làm việc theo ca, kíp chưa bố trí được thời gian tham gia học tập tập trung, "
    "phải học tập bổ sung.",
    "Chất lượng bài thu hoạch của một bộ phận đảng viên chưa cao, còn sao chép tài liệu.",
    "Đường truyền tại một số điểm cầu chưa ổn định, ảnh hưởng đến chất lượng hội nghị trực tuyến.",
    "Việc tổ chức hội nghị thông tin thời sự, cập nhật kiến thức mới chưa thường xuyên.",
    "Đội ngũ báo cáo viên cơ sở còn mỏng, chủ yếu kiêm nhiệm, kỹ năng truyền đạt còn hạn chế.",
)
# The form asks for the causes of the limitations in a row of their own (template 2026.1).
_CAUSES = (
    "Khối lượng công việc chuyên môn lớn, một số cấp ủy chưa thật sự quan tâm đúng mức đến công "
    "tác giáo dục chính trị, tư tưởng.",
    "Kinh phí đầu tư trang thiết bị cho hội nghị trực tuyến còn hạn hẹp.",
    "Một bộ phận đảng viên chưa xác định đúng động cơ học tập, còn ngại nghiên cứu tài liệu.",
    "Tài liệu học tập, đề cương giới thiệu nghị quyết đến cơ sở còn chậm.",
    "Đội ngũ báo cáo viên chưa được bồi dưỡng, tập huấn thường xuyên về kỹ năng truyền đạt.",
)
# A unit's proposals go to its parent ({parent}) mostly, some to the province's propaganda board,
# a few to the Centre: the report relays only those addressed above its issuer.
_PROPOSALS = (
    "Đề nghị {parent} cung cấp tài liệu học tập, đề cương giới thiệu nghị quyết sớm hơn để cơ sở "
    "chủ động xây dựng kế hoạch.",
    "Đề nghị {parent} mở thêm lớp bồi dưỡng nghiệp vụ công tác tuyên giáo cho cấp ủy viên phụ "
    "trách tuyên giáo ở cơ sở.",
    "Đề nghị {parent} quan tâm hỗ trợ kinh phí nâng cấp thiết bị tại các điểm cầu trực tuyến.",
    "Đề nghị {parent} tổ chức lớp học nghị quyết chung cho các chi bộ có ít đảng viên, không đủ "
    "điều kiện tổ chức lớp riêng.",
    "Đề nghị {parent} sớm ban hành hướng dẫn thống nhất việc đánh giá, xếp loại bài thu hoạch.",
)
_PROVINCE_BOARDS = ("Ban Tuyên giáo và Dân vận Tỉnh ủy", "Ban Tuyên giáo Tỉnh ủy")
_PROPOSALS_TO_PROVINCE = (
    "Đề nghị {board} mở thêm lớp bồi dưỡng nghiệp vụ công tác tuyên giáo cho cấp ủy viên phụ "
    "trách tuyên giáo ở cơ sở.",
    "Đề nghị {board} thường xuyên cung cấp tài liệu tuyên truyền, định hướng thông tin cho đội "
    "ngũ báo cáo viên cơ sở.",
)
_PROPOSALS_TO_CENTRE = (
    "Đề nghị Ban Tuyên giáo và Dân vận Trung ương sớm phát hành tài liệu hỏi - đáp về các nghị "
    "quyết mới để cơ sở sử dụng khi quán triệt.",
)
_UPPER_HIGHLIGHTS = (
    "Ban Thường vụ ban hành kế hoạch học tập, quán triệt kịp thời; tổ chức {sessions} hội nghị, "
    "trong đó {online} hội nghị trực tuyến, trực tiếp kết hợp trực tuyến với {points} lượt điểm "
    "cầu, thu hút {attendance} lượt cán bộ, đảng viên, người lao động tham gia. Các đồng chí Ủy "
    "viên Ban Thường vụ trực tiếp làm báo cáo viên, giúp cơ sở giới thiệu, truyền đạt nghị quyết."
)
_UPPER_LIMITATIONS = (
    "Một số tổ chức cơ sở đảng báo cáo chậm, số liệu chưa đầy đủ; việc học tập bổ sung cho đảng "
    "viên vắng ở một số chi bộ chưa kịp thời. Chất lượng chương trình hành động của một số cấp ủy "
    "còn chung chung, chưa cụ thể."
)
_UPPER_CAUSES = (
    "Một số cấp ủy cơ sở chưa quan tâm đúng mức đến chế độ thông tin, báo cáo; cán bộ làm công "
    "tác tuyên giáo ở cơ sở chủ yếu kiêm nhiệm, thường xuyên thay đổi."
)
_UPPER_PROPOSALS = (
    "Đề nghị {parent} tiếp tục cung cấp kịp thời tài liệu, cử báo cáo viên hỗ trợ truyền đạt các "
    "chuyên đề; quan tâm hỗ trợ kinh phí nâng cấp hệ thống hội nghị trực tuyến đến cơ sở."
)
_SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đỗ", "Bùi", "Đặng", "Ngô")
_MIDDLE = ("Văn", "Thị", "Đức", "Minh", "Thu", "Hữu", "Ngọc", "Thanh", "Quốc", "Thị Thu")
_GIVEN = (
    "Hải",
    "Lan",
    "Hùng",
    "Hương",
    "Tuấn",
    "Hà",
    "Dũng",
    "Thảo",
    "Nam",
    "Mai",
    "Phương",
    "Sơn",
    "Hòa",
    "Linh",
    "Quang",
    "Thủy",
    "Trang",
    "Cường",
    "Yến",
    "Long",
)
SESSION_CODES = ("sessions_in_person", "sessions_online", "sessions_hybrid")


@dataclass(frozen=True)
class UnitContext:
    """What the values of one unit's form depend on."""

    unit: Unit
    parent_name: str
    has_children: bool
    members: int  # the unit's own members when it is a leaf, else its subtree's
    children: int
    cells_below: int
    grassroots_below: int
    online: bool  # whether the unit's grassroots organisation held online study


def _vn_number(value: int, separator: str = ".") -> str:
    """`1117` → `1.117`, as people type numbers in Vietnamese."""
    return f"{value:,}".replace(",", separator)


def _pair(
    rng: random.Random, chance: float, count: tuple[int, int], each: tuple[int, int]
) -> tuple[int, int]:
    """(classes, trainees) or (briefings, attendance): both zero or both positive."""
    if rng.random() >= chance:
        return 0, 0
    number = rng.randint(*count)
    return number, sum(rng.randint(*each) for _ in range(number))


def _leaf_values(ctx: UnitContext, rng: random.Random) -> dict[str, object]:
    members = ctx.members
    exempt = min(rng.choices((0, 1, 2), (70, 22, 8))[0], max(0, members - 3))
    base = members - exempt
    attended = min(base, max(1, round(base * rng.uniform(0.88, 0.995))))
    absent = base - attended
    makeup = rng.randint(absent // 2, absent) if absent else 0
    grassroots = ctx.unit.kind == "grassroots_cell"
    # A cell studies in one or two sessions a quarter, each attended by its members and a few
    # workers: with three or four sessions at up to 1.5 times its size, a big cell's attendance
    # read like a typing error next to its small siblings' (rule O2).
    if grassroots and ctx.online:
        online, hybrid, in_person = 1, rng.randint(0, 1), rng.randint(0, 1)
    elif ctx.online and rng.random() < 0.2:
        online, hybrid, in_person = 0, 1, rng.randint(0, 1)
    else:
        online, hybrid, in_person = 0, 0, rng.randint(1, 2)
    sessions = in_person + online + hybrid
    essays = attended - rng.randint(0, attended // 20)
    values: dict[str, object] = {
        "members": members,
        "members_exempt": exempt,
        "sessions_in_person": in_person,
        "sessions_online": online,
        "sessions_hybrid": hybrid,
        "sessions_total": sessions,
        "connection_points": rng.randint(1, 2) if online + hybrid else 0,
        "attendance": sum(round(attended * rng.uniform(1.0, 1.2)) for _ in range(sessions)),
        "members_attended": attended,
        "members_absent": absent,
        "members_makeup": makeup,
        "essays": essays,
        "essays_excellent": round(essays * rng.uniform(0.15, 0.35)),
        "action_programs": rng.choices((0, 1, 2), (15, 75, 10))[0],
        "secretary_presented": int(rng.random() < 0.88),
        "news_items": rng.randint(0, 4),
        "orgs_inspected": 0,
        "orgs_supervised": 0,
        "members_supervised": rng.randint(0, 2),
        "collectives_commended": rng.randint(0, 1) if grassroots else 0,
        "individuals_commended": rng.randint(0, 2),
        "members_reprimanded": int(rng.random() < 0.04),
    }
    classes = _pair(rng, 0.15 if grassroots else 0.0, (1, 1), (5, 25))
    values["awareness_classes"], values["awareness_trainees"] = classes
    for code in ("newmember_classes", "newmember_trainees", "skills_classes", "skills_trainees"):
        values[code] = 0
    briefings = _pair(rng, 0.35, (1, 1), (members, 2 * members))
    values["briefings"], values["briefing_attendance"] = briefings
    contests = _pair(rng, 0.1 if grassroots else 0.0, (1, 1), (10, 60))
    values["contests"], values["contest_entries"] = contests
    if grassroots:
        _add_texts(values, ctx, rng, 0.45)
    return values


def _committee_values(ctx: UnitContext, rng: random.Random) -> dict[str, object]:
    """A grassroots or partial committee: only what it organised itself, no `leaf` indicators."""
    partial = ctx.unit.kind == "partial_committee"
    subtree = ctx.members
    if ctx.online and (not partial or rng.random() < 0.3):
        online, hybrid = rng.randint(0, 1), rng.randint(1, 2)
        in_person = rng.randint(0, 2)
    else:
        online, hybrid, in_person = 0, 0, rng.randint(0 if partial else 1, 3)
    sessions = in_person + online + hybrid
    points = sum(
        rng.randint(max(1, ctx.cells_below // 2), ctx.cells_below + 1)
        for _ in range(online + hybrid)
    )
    values: dict[str, object] = {
        "sessions_in_person": in_person,
        "sessions_online": online,
        "sessions_hybrid": hybrid,
        "sessions_total": sessions,
        "connection_points": points,
        "attendance": sum(round(subtree * rng.uniform(1.1, 2.2)) for _ in range(sessions)),
        "action_programs": rng.randint(0, 2) if partial else rng.randint(1, 4),
        "secretary_presented": int(rng.random() < 0.92),
        "news_items": rng.randint(0, 5) if partial else rng.randint(3, 25),
        "orgs_inspected": rng.randint(0, max(1, ctx.children // 3)),
        "orgs_supervised": rng.randint(0, max(1, ctx.children // 4)),
        "members_supervised": rng.randint(0, 8),
        "collectives_commended": rng.randint(0, 1 if partial else 4),
        "individuals_commended": rng.randint(0, 3 if partial else 10),
        "members_reprimanded": rng.randint(1, 2) if rng.random() < 0.15 else 0,
    }
    scale = 0.0 if partial else 1.0
    pairs = (
        ("awareness_classes", "awareness_trainees", 0.45 * scale, (1, 2), (15, 45)),
        ("newmember_classes", "newmember_trainees", 0.35 * scale, (1, 1), (3, 20)),
        ("skills_classes", "skills_trainees", 0.3 * scale, (1, 1), (15, 60)),
        (
            "briefings",
            "briefing_attendance",
            0.3 if partial else 0.6,
            (1, 3),
            (max(5, subtree // 2), subtree + 20),
        ),
        (
            "contests",
            "contest_entries",
            0.0 if partial else 0.25,
            (1, 1),
            (max(5, subtree // 2), 3 * subtree),
        ),
    )
    for first, second, chance, count, each in pairs:
        values[first], values[second] = _pair(rng, chance, count, each)
    if not partial:
        _add_texts(values, ctx, rng, 0.5)
    return values


def _upper_values(ctx: UnitContext, rng: random.Random) -> dict[str, object]:
    """An upper-level committee or the province: conferences, classes, press, inspection."""
    province = ctx.unit.kind == "province"
    subtree = ctx.members
    in_person, online, hybrid = rng.randint(1, 2), rng.randint(0, 2), rng.randint(2, 4)
    sessions = in_person + online + hybrid
    per_point = (
        (150, 300)
        if province
        else (max(1, round(ctx.grassroots_below * 0.6)), max(2, ctx.grassroots_below))
    )
    points = sum(rng.randint(*per_point) for _ in range(online + hybrid))
    attendance = sum(round(subtree * rng.uniform(0.4, 0.9)) for _ in range(sessions))
    values: dict[str, object] = {
        "sessions_in_person": in_person,
        "sessions_online": online,
        "sessions_hybrid": hybrid,
        "sessions_total": sessions,
        "connection_points": points,
        "attendance": attendance,
        "action_programs": rng.randint(5, 12) if province else rng.randint(3, 8),
        "secretary_presented": 1,
        "news_items": rng.randint(80, 200) if province else rng.randint(30, 90),
        "orgs_inspected": rng.randint(3, 10),
        "orgs_supervised": rng.randint(2, 6),
        "members_supervised": rng.randint(5, 20),
        "collectives_commended": rng.randint(3, 12),
        "individuals_commended": rng.randint(5, 25),
        "members_reprimanded": 0,
    }
    pairs = (
        ("awareness_classes", "awareness_trainees", (2, 5), (40, 90)),
        ("newmember_classes", "newmember_trainees", (1, 3), (30, 60)),
        ("skills_classes", "skills_trainees", (1, 3), (60, 150)),
        ("briefings", "briefing_attendance", (1, 4), (100, 250)),
        ("contests", "contest_entries", (1, 1), (1500, 7000)),
    )
    for first, second, count, each in pairs:
        values[first], values[second] = _pair(rng, 0.6 if first == "contests" else 1.0, count, each)
    values["highlights"] = _UPPER_HIGHLIGHTS.format(
        sessions=_vn_number(sessions),
        online=_vn_number(online + hybrid),
        points=_vn_number(points),
        attendance=_vn_number(attendance),
    )
    values["limitations"] = _UPPER_LIMITATIONS
    values["causes"] = _UPPER_CAUSES
    parent = (
        "Ban Tuyên giáo và Dân vận Trung ương" if province else "Ban Tuyên giáo và Dân vận Tỉnh ủy"
    )
    values["proposals"] = _UPPER_PROPOSALS.format(parent=parent)
    return values


def _add_texts(
    values: dict[str, object], ctx: UnitContext, rng: random.Random, chance: float
) -> None:
    if rng.random() < chance:
        values["highlights"] = _sentences_as_written(
            rng.sample(_HIGHLIGHTS, rng.randint(1, 2)), rng
        )
    if rng.random() < chance * 0.8:
        values["limitations"] = _sentences_as_written(
            rng.sample(_LIMITATIONS, rng.randint(1, 2)), rng
        )
        if rng.random() < 0.7:
            values["causes"] = _as_written(rng.choice(_CAUSES), rng)
    if rng.random() < chance * 0.5:
        draw = rng.random()
        if draw < 0.12:
            proposal = rng.choice(_PROPOSALS_TO_CENTRE)
        elif draw < 0.4:
            board = rng.choice(_PROVINCE_BOARDS)
            proposal = rng.choice(_PROPOSALS_TO_PROVINCE).format(board=board)
        else:
            proposal = rng.choice(_PROPOSALS).format(parent=ctx.parent_name)
        values["proposals"] = _as_written(proposal, rng)


def _sentences_as_written(sentences: list[str], rng: random.Random) -> str:
    """Sentences one after the other as a unit typed them (see `_as_written`)."""
    last = len(sentences) - 1
    return " ".join(_as_written(text, rng, last=i == last) for i, text in enumerate(sentences))


def _as_written(text: str, rng: random.Random, *, last: bool = True) -> str:
    """The sentence as one unit typed it: most as given, others with the slips and rewordings
    people make — the period left out, «Một số» said another way, a word without its accents,
    a doubled space, a dash in front — so that the report must tell the same point apart from
    a different one. Only the `last` sentence of a text may lose its final period."""
    if rng.random() < 0.5:
        return text
    for _ in range(rng.randint(1, 2)):
        slip = rng.randrange(6)
        if slip == 0 and last:
            text = text.rstrip(".")
        elif slip == 1 and "Một số" in text:
            text = text.replace("Một số", rng.choice(("Một vài", "Còn một số")), 1)
        elif slip == 2:
            words = text.split(" ")
            accented = [i for i, word in enumerate(words) if word != _unaccented(word)]
            if accented:
                chosen = rng.choice(accented)
                words[chosen] = _unaccented(words[chosen])
                text = " ".join(words)
        elif slip == 3:
            position = rng.choice([i for i, char in enumerate(text) if char == " "] or [0])
            text = text[:position] + " " + text[position:]
        elif slip == 4:
            text = "- " + text
        elif slip == 5 and text.endswith(".") and not text.startswith("Đề nghị"):
            text = text[:-1] + rng.choice((", cần sớm khắc phục.", " trong thời gian qua."))
    return text


def _unaccented(word: str) -> str:
    """`chưa` → `chua`: Vietnamese typed without its tone marks and vowel hooks."""
    stripped = unicodedata.normalize("NFD", word.replace("đ", "d").replace("Đ", "D"))
    kept = "".join(char for char in stripped if not unicodedata.combining(char))
    return unicodedata.normalize("NFC", kept)


def unit_values(ctx: UnitContext, rng: random.Random) -> dict[str, object]:
    """Sound, internally consistent values (SPEC §4 R1–R8 hold) for one unit."""
    if not ctx.has_children:
        return _leaf_values(ctx, rng)
    if ctx.unit.kind in ("province", "upper"):
        return _upper_values(ctx, rng)
    return _committee_values(ctx, rng)


def as_typed(values: dict[str, object], rng: random.Random, chance: float) -> dict[str, object]:
    """Some people type numbers as text the Vietnamese way (`1.117`, `1 117`, `12`)."""
    if rng.random() >= chance:
        return values
    separator = rng.choice((".", ".", " "))
    return {
        code: _vn_number(value, separator)
        if isinstance(value, int) and value >= 1000
        else str(value)
        if isinstance(value, int) and rng.random() < 0.3
        else value
        for code, value in values.items()
    }


def blank_zeros(values: dict[str, object], rng: random.Random) -> dict[str, object]:
    """Some units leave the rows of what they did not do blank instead of writing 0."""
    if rng.random() >= 0.25:
        return values
    keep = (
        "members",
        "members_attended",
        "members_absent",
        "members_exempt",
        *SESSION_CODES,
        "sessions_total",
    )
    return {code: value for code, value in values.items() if value != 0 or code in keep}


def preparer_name(rng: random.Random) -> str:
    """A plausible Vietnamese full name."""
    return f"{rng.choice(_SURNAMES)} {rng.choice(_MIDDLE)} {rng.choice(_GIVEN)}"
