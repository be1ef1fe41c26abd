"""Demo data for `tonghop demo` (SPEC §8): a registry shaped like seed 001's organisation and a
quarter's filled forms in the inbox, most of them sound, a few missing, late or deliberately wrong.

Everything is deterministic: the registry and the members of each cell never change, and the
forms depend only on the period and the seed.
"""

from __future__ import annotations

import os
import random
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from tonghop.periods import Period
from tonghop.registry import Unit, codes_with_active_children, write_registry_csv

__all__ = [
    "DemoPlan",
    "DemoSubmission",
    "demo_members",
    "demo_units",
    "plan_demo",
    "write_demo_workspace",
]

PROVINCE_CODE = "TU"
AGENCY_UPPER_CODE = "DUK-CQ"
ENTERPRISE_UPPER_CODE = "DUK-DN"
PROVINCE_NAME = "Thanh Hóa"

# Seed 001, "Tình hình chung": the shape demo_units() reproduces exactly.
SEED_GRASSROOTS = 121
SEED_GRASSROOTS_COMMITTEES = 93
SEED_GRASSROOTS_CELLS = 28
SEED_PARTIAL_COMMITTEES = 12
SEED_CELLS = 1117
SEED_MEMBERS = 14103
SEED_SECTORS = {"agency": 88, "soe_full": 12, "soe_majority": 6, "soe_minority": 1, "private": 14}
# Seed 001: "Có 68% cấp ủy cơ sở đã tổ chức ... bằng hình thức trực tuyến".
ONLINE_GRASSROOTS_SHARE = 0.68
GRASSROOTS_CELLS_UNDER_PROVINCE = 2
MEMBERS_MIN, MEMBERS_MAX = 5, 40

# Deliberate mistakes, one submission each; the first ten are errors (the file is rejected).
ERROR_FAULTS = (
    "R1",
    "V1_text",
    "V1_negative",
    "V1_fraction",
    "V2_leaf_values",
    "F6_unknown_code",
    "F4_other_unit",
    "F5_wrong_period",
    "F1_corrupt",
    "F2_no_sheet",
)
WARNING_FAULTS = (
    "R4w_cell",
    "R4w_grassroots_cell",
    "R8_briefings",
    "R8_contests",
    "O2_news_items",
)
# Rejected units that send a corrected file later: the first one before the deadline, the
# second one after it (so that unit ends accepted but late).
CORRECTED_FAULTS = ("R1", "F5_wrong_period")
MISSING_SHARE = 0.03
LATE_SHARE = 0.04
# The code F6_unknown_code adds: plausible (units do count new members) but not in the catalogue.
UNKNOWN_CODE = "new_members"
# O2_news_items: a cell types 40 news items for 4, an extra zero. Cells publish 0–4 a quarter,
# so 40 is beyond any threshold rule O2 can set from them (at most 4 + 8 × 3 = 28); the cell is
# picked under a parent with more cells than this, so that enough of the others report news
# items to compare with.
OUTLIER_NEWS_ITEMS = 40
OUTLIER_MIN_SIBLINGS = 15

# Which kind of unit commits each mistake; the first available kind is used.
_FAULT_KINDS: dict[str, tuple[str, ...]] = {
    "R1": ("grassroots_committee", "upper", "cell"),
    "V1_text": ("cell", "grassroots_cell"),
    "V1_negative": ("grassroots_committee", "upper", "cell"),
    "V1_fraction": ("cell", "grassroots_cell"),
    "V2_leaf_values": ("grassroots_committee", "partial_committee", "upper"),
    "F6_unknown_code": ("cell", "grassroots_cell"),
    "F4_other_unit": ("cell",),
    "F5_wrong_period": ("grassroots_cell", "cell"),
    "F1_corrupt": ("cell", "grassroots_cell"),
    "F2_no_sheet": ("partial_committee", "cell", "grassroots_cell"),
    "R4w_cell": ("cell", "grassroots_cell"),
    "R4w_grassroots_cell": ("grassroots_cell", "cell"),
    "R8_briefings": ("grassroots_committee", "upper", "cell"),
    "R8_contests": ("cell", "grassroots_cell"),
    "O2_news_items": ("cell",),
}


@dataclass(frozen=True)
class DemoSubmission:
    """One file dropped into an inbox folder; `fault` tags what is deliberately wrong in it."""

    unit_code: str  # the inbox folder it goes to
    file_name: str
    received_at: datetime  # naive local time; becomes the file's mtime
    fault: str | None
    # What the file holds, for tests of the whole pipeline: the code in C2, the period in C3,
    # and column E as written (numbers, Vietnamese-style number texts, texts).
    form_unit_code: str = ""
    form_period: str = ""
    values: dict[str, object] = field(default_factory=dict)
    preparer: str | None = None
    prepared_on: date | None = None

    @property
    def path_parts(self) -> tuple[str, str, str]:
        """(`inbox`, folder, file name) relative to the workspace."""
        return ("inbox", self.unit_code, self.file_name)


@dataclass(frozen=True)
class DemoPlan:
    """The demo workspace: the registry, every file sent, and who sent nothing or sent late."""

    units: list[Unit]
    submissions: list[DemoSubmission]
    missing: list[str]  # unit codes that sent nothing
    late: list[str]  # unit codes whose only/first good file arrives after the deadline
    members: dict[str, int] = field(default_factory=dict)  # planned members of every leaf


# --- The registry ------------------------------------------------------------------------------

# (name without "Đảng bộ " / "Chi bộ ", naming style of its cells, size): size "big" units get
# partial committees and many cells. The names are typical of a provincial bloc of agencies and
# enterprises; none of them is taken from a real registry.
_AGENCY_COMMITTEES: tuple[tuple[str, str, str], ...] = (
    ("Sở Tài chính", "department", ""),
    ("Sở Kế hoạch và Đầu tư", "department", ""),
    ("Sở Nội vụ", "department", ""),
    ("Sở Tư pháp", "department", ""),
    ("Sở Công Thương", "department", ""),
    ("Sở Xây dựng", "department", ""),
    ("Sở Giao thông vận tải", "department", ""),
    ("Sở Nông nghiệp và Phát triển nông thôn", "agriculture", "big"),
    ("Sở Tài nguyên và Môi trường", "department", ""),
    ("Sở Y tế", "department", ""),
    ("Sở Giáo dục và Đào tạo", "department", ""),
    ("Sở Văn hóa, Thể thao và Du lịch", "culture", "big"),
    ("Sở Lao động - Thương binh và Xã hội", "labour", "big"),
    ("Sở Khoa học và Công nghệ", "department", ""),
    ("Sở Thông tin và Truyền thông", "department", ""),
    ("Thanh tra tỉnh", "department", ""),
    ("Văn phòng Ủy ban nhân dân tỉnh", "department", ""),
    ("Văn phòng Đoàn đại biểu Quốc hội và Hội đồng nhân dân tỉnh", "department", ""),
    ("Văn phòng Tỉnh ủy", "department", ""),
    ("Cơ quan Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh", "department", ""),
    ("Cục Thuế tỉnh", "tax", "big"),
    ("Kho bạc Nhà nước tỉnh", "treasury", ""),
    ("Cục Hải quan tỉnh", "customs", ""),
    ("Cục Thống kê tỉnh", "statistics", ""),
    ("Bảo hiểm xã hội tỉnh", "insurance", ""),
    ("Ngân hàng Nhà nước Chi nhánh tỉnh", "department", ""),
    ("Ngân hàng Chính sách xã hội Chi nhánh tỉnh", "bank", ""),
    (f"Báo {PROVINCE_NAME}", "media", ""),
    ("Đài Phát thanh và Truyền hình tỉnh", "media", ""),
    ("Bệnh viện Đa khoa tỉnh", "hospital", "big"),
    ("Bệnh viện Nhi", "hospital", ""),
    ("Bệnh viện Phụ sản", "hospital", ""),
    ("Bệnh viện Y dược cổ truyền", "hospital", ""),
    ("Bệnh viện Phổi", "hospital", ""),
    ("Bệnh viện Tâm thần", "hospital", ""),
    ("Bệnh viện Mắt", "hospital", ""),
    ("Bệnh viện Da liễu", "hospital", ""),
    ("Bệnh viện Ung bướu", "hospital", ""),
    ("Bệnh viện Phục hồi chức năng", "hospital", ""),
    ("Bệnh viện Đa khoa khu vực Ngọc Lặc", "hospital", ""),
    ("Bệnh viện Đa khoa khu vực Nghi Sơn", "hospital", ""),
    ("Bệnh viện Nội tiết", "hospital", ""),
    ("Trung tâm Kiểm soát bệnh tật tỉnh", "department", ""),
    ("Trường Đại học Hồng Đức", "school", "big"),
    ("Trường Đại học Văn hóa, Thể thao và Du lịch", "school", ""),
    ("Trường Chính trị tỉnh", "school", ""),
    ("Trường Cao đẳng Nông lâm", "school", ""),
    ("Trường Cao đẳng Nghề Công nghiệp", "school", ""),
    ("Trường Cao đẳng Văn hóa Nghệ thuật", "school", ""),
    ("Trường Cao đẳng Kỹ thuật Công nghiệp", "school", ""),
    ("Trường Cao đẳng Thể dục Thể thao", "school", ""),
    ("Ban Quản lý Khu kinh tế Nghi Sơn và các khu công nghiệp", "department", ""),
    ("Ban Quản lý dự án đầu tư xây dựng công trình dân dụng và công nghiệp tỉnh", "project", ""),
    ("Ban Quản lý dự án đầu tư xây dựng công trình giao thông tỉnh", "project", ""),
    ("Ban Quản lý dự án đầu tư xây dựng công trình nông nghiệp tỉnh", "project", ""),
    ("Vườn quốc gia Bến En", "forestry", ""),
    ("Khu bảo tồn thiên nhiên Pù Luông", "forestry", ""),
    ("Cơ quan Liên đoàn Lao động tỉnh", "department", ""),
    ("Trung tâm Huấn luyện và Thi đấu thể dục thể thao tỉnh", "culture", ""),
    ("Nhà hát Nghệ thuật truyền thống tỉnh", "culture", ""),
    ("Viện Nông nghiệp tỉnh", "agriculture", ""),
    ("Trung tâm Dịch vụ việc làm tỉnh", "labour", ""),
    ("Ban Quản lý Di tích lịch sử Lam Kinh", "culture", ""),
    ("Cục Quản lý thị trường tỉnh", "market", ""),
    ("Trung tâm Phát triển quỹ đất tỉnh", "department", ""),
    ("Đài Khí tượng thủy văn tỉnh", "weather", ""),
)
_AGENCY_CELLS: tuple[str, ...] = (
    "Sở Ngoại vụ",
    "Ban Dân tộc tỉnh",
    "Trường Cao đẳng Y tế",
    "Hội Văn học Nghệ thuật tỉnh",
    f"Nhà xuất bản {PROVINCE_NAME}",
    "Liên hiệp các Hội Khoa học và Kỹ thuật tỉnh",
    "Liên minh Hợp tác xã tỉnh",
    "Hội Chữ thập đỏ tỉnh",
    "Hội Nhà báo tỉnh",
    "Hội Luật gia tỉnh",
    "Trung tâm Phục vụ hành chính công tỉnh",
    "Cơ quan Hội Nông dân tỉnh",
    "Cơ quan Hội Liên hiệp Phụ nữ tỉnh",
    "Cơ quan Tỉnh đoàn",
    "Cơ quan Hội Cựu chiến binh tỉnh",
    "Thư viện tỉnh",
    "Bảo tàng tỉnh",
    "Quỹ Đầu tư phát triển tỉnh",
    "Ban Quản lý Di sản văn hóa Thành Nhà Hồ",
    "Trung tâm Pháp y tỉnh",
    # The last two sit directly under the province: the ragged part of the hierarchy.
    "Liên hiệp các tổ chức hữu nghị tỉnh",
    "Hội Cựu thanh niên xung phong tỉnh",
)
# (name, sector, cell naming style, size); then the enterprises that are grassroots cells.
_ENTERPRISE_COMMITTEES: tuple[tuple[str, str, str, str], ...] = (
    (f"Công ty Điện lực {PROVINCE_NAME}", "soe_full", "power", "big"),
    (f"Viễn thông {PROVINCE_NAME}", "soe_full", "telecom", ""),
    ("Bưu điện tỉnh", "soe_full", "post", ""),
    ("Ngân hàng Nông nghiệp và Phát triển nông thôn Chi nhánh tỉnh", "soe_full", "bank", "big"),
    ("Công ty TNHH MTV Thủy lợi Bắc Sông Mã", "soe_full", "irrigation", ""),
    ("Công ty TNHH MTV Thủy lợi Nam Sông Mã", "soe_full", "irrigation", ""),
    ("Công ty TNHH MTV Sông Chu", "soe_full", "irrigation", ""),
    ("Công ty TNHH MTV Lâm nghiệp Lang Chánh", "soe_full", "forestry", ""),
    ("Công ty TNHH MTV Lâm nghiệp Như Xuân", "soe_full", "forestry", ""),
    ("Công ty TNHH MTV Xổ số kiến thiết tỉnh", "soe_full", "company", ""),
    ("Chi nhánh Viettel tỉnh", "soe_full", "telecom", ""),
    (f"Công ty Xăng dầu {PROVINCE_NAME}", "soe_majority", "fuel", ""),
    ("Ngân hàng TMCP Ngoại thương Chi nhánh tỉnh", "soe_majority", "bank", ""),
    ("Ngân hàng TMCP Đầu tư và Phát triển Chi nhánh tỉnh", "soe_majority", "bank", ""),
    ("Ngân hàng TMCP Công thương Chi nhánh tỉnh", "soe_majority", "bank", ""),
    ("Công ty cổ phần Cấp nước tỉnh", "soe_majority", "company", ""),
    ("Công ty cổ phần Mía đường Lam Sơn", "soe_minority", "company", ""),
    ("Công ty cổ phần Xây dựng Giao thông tỉnh", "private", "construction", ""),
    ("Công ty cổ phần Vận tải ô tô tỉnh", "private", "company", ""),
    ("Công ty cổ phần Dược - Vật tư y tế tỉnh", "private", "company", ""),
    (f"Công ty cổ phần Bia {PROVINCE_NAME}", "private", "company", ""),
    ("Công ty cổ phần May xuất khẩu Hoằng Hóa", "private", "company", ""),
    ("Công ty cổ phần Thương mại và Du lịch Sầm Sơn", "private", "company", ""),
    ("Công ty cổ phần Khoáng sản tỉnh", "private", "company", ""),
    ("Công ty cổ phần Tư vấn Xây dựng Giao thông", "private", "construction", ""),
    ("Công ty cổ phần Phát triển Nhà và Đô thị", "private", "construction", ""),
    ("Công ty cổ phần Nông sản Thực phẩm xuất khẩu", "private", "company", ""),
)
_ENTERPRISE_CELLS: tuple[tuple[str, str], ...] = (
    ("Công ty TNHH MTV Lâm nghiệp Ngọc Lặc", "soe_full"),
    ("Công ty cổ phần Môi trường và Công trình đô thị", "soe_majority"),
    ("Công ty cổ phần Sách và Thiết bị trường học", "private"),
    ("Công ty cổ phần In tỉnh", "private"),
    ("Công ty cổ phần Giống cây trồng", "private"),
    ("Công ty cổ phần Quản lý và Xây dựng đường bộ", "private"),
)

# The districts of Thanh Hóa (seed 001's province), for units named after a place.
DISTRICTS = (
    "thành phố Thanh Hóa",
    "thị xã Bỉm Sơn",
    "thành phố Sầm Sơn",
    "thị xã Nghi Sơn",
    "huyện Hà Trung",
    "huyện Nga Sơn",
    "huyện Hậu Lộc",
    "huyện Hoằng Hóa",
    "huyện Quảng Xương",
    "huyện Nông Cống",
    "huyện Đông Sơn",
    "huyện Triệu Sơn",
    "huyện Thiệu Hóa",
    "huyện Yên Định",
    "huyện Vĩnh Lộc",
    "huyện Thạch Thành",
    "huyện Cẩm Thủy",
    "huyện Ngọc Lặc",
    "huyện Lang Chánh",
    "huyện Bá Thước",
    "huyện Quan Hóa",
    "huyện Quan Sơn",
    "huyện Mường Lát",
    "huyện Thường Xuân",
    "huyện Như Xuân",
    "huyện Như Thanh",
    "huyện Thọ Xuân",
)
# Cell names by naming style: fixed names first, then one per district with the template.
_CELL_NAMES: dict[str, tuple[tuple[str, ...], str | None]] = {
    "department": (
        (
            "Văn phòng",
            "Thanh tra",
            "Phòng Kế hoạch - Tài chính",
            "Phòng Tổ chức cán bộ",
            "Phòng Pháp chế",
            "Phòng Quản lý chuyên ngành",
            "Phòng Nghiệp vụ 1",
            "Phòng Nghiệp vụ 2",
            "Phòng Cải cách hành chính",
            "Trung tâm Công nghệ thông tin",
            "Trung tâm Dịch vụ công",
            "Ban Quản lý dự án",
            "Phòng Thi đua - Khen thưởng",
            "Phòng Hành chính - Quản trị",
        ),
        None,
    ),
    "agriculture": (
        (
            "Văn phòng Sở",
            "Phòng Kế hoạch - Tài chính",
            "Chi cục Trồng trọt và Bảo vệ thực vật",
            "Chi cục Chăn nuôi và Thú y",
            "Chi cục Thủy sản",
            "Chi cục Phát triển nông thôn",
            "Chi cục Quản lý chất lượng nông lâm sản và thủy sản",
            "Trung tâm Khuyến nông",
            "Trung tâm Nước sạch và Vệ sinh môi trường nông thôn",
            "Trung tâm Giống thủy sản",
            "Ban Quản lý cảng cá",
        ),
        "Hạt Kiểm lâm {district}",
    ),
    "culture": (
        (
            "Văn phòng",
            "Phòng Quản lý văn hóa",
            "Phòng Quản lý thể dục thể thao",
            "Phòng Quản lý du lịch",
            "Trung tâm Văn hóa tỉnh",
            "Trung tâm Điện ảnh",
            "Đoàn Nghệ thuật truyền thống",
            "Trung tâm Xúc tiến du lịch",
            "Đội tuyển thể thao",
            "Ban Quản lý Khu di tích Hàm Rồng",
        ),
        None,
    ),
    "labour": (
        (
            "Văn phòng",
            "Phòng Lao động - Việc làm",
            "Phòng Người có công",
            "Phòng Bảo trợ xã hội",
            "Trung tâm Bảo trợ xã hội",
            "Trung tâm Công tác xã hội",
            "Cơ sở cai nghiện ma túy",
            "Trung tâm Điều dưỡng người có công",
            "Làng trẻ em SOS",
        ),
        "Điểm giới thiệu việc làm {district}",
    ),
    "tax": (
        (
            "Văn phòng Cục",
            "Phòng Tổ chức cán bộ",
            "Phòng Kiểm tra thuế số 1",
            "Phòng Kiểm tra thuế số 2",
            "Phòng Thanh tra thuế",
            "Phòng Quản lý nợ",
        ),
        "Chi cục Thuế {district}",
    ),
    "treasury": (
        ("Văn phòng", "Phòng Kế toán nhà nước", "Phòng Kiểm soát chi"),
        "Kho bạc Nhà nước {district}",
    ),
    "customs": (
        (
            "Văn phòng Cục",
            "Phòng Nghiệp vụ",
            "Đội Kiểm soát hải quan",
            "Chi cục Hải quan cửa khẩu cảng Nghi Sơn",
            "Chi cục Kiểm tra sau thông quan",
        ),
        None,
    ),
    "statistics": (("Văn phòng Cục", "Phòng Thống kê tổng hợp"), "Chi cục Thống kê {district}"),
    "insurance": (
        ("Văn phòng", "Phòng Thu", "Phòng Chế độ bảo hiểm xã hội", "Phòng Giám định bảo hiểm y tế"),
        "Bảo hiểm xã hội {district}",
    ),
    "market": (
        ("Văn phòng Cục", "Phòng Nghiệp vụ - Tổng hợp"),
        "Đội Quản lý thị trường {district}",
    ),
    "weather": (("Văn phòng", "Phòng Dự báo"), "Trạm Khí tượng {district}"),
    "bank": (
        (
            "Phòng Tổng hợp",
            "Phòng Kế toán - Ngân quỹ",
            "Phòng Khách hàng doanh nghiệp",
            "Phòng Khách hàng cá nhân",
            "Phòng Quản lý rủi ro",
        ),
        "Phòng giao dịch {district}",
    ),
    "media": (
        (
            "Ban Thời sự",
            "Ban Kinh tế",
            "Ban Văn hóa - Xã hội",
            "Ban Xây dựng Đảng",
            "Ban Điện tử",
            "Phòng Kỹ thuật",
            "Phòng Hành chính - Tổ chức",
            "Ban Chuyên đề",
            "Phòng Thư ký tòa soạn",
            "Trung tâm Quảng cáo và Dịch vụ",
        ),
        None,
    ),
    "hospital": (
        (
            "Khoa Khám bệnh",
            "Khoa Cấp cứu",
            "Khoa Hồi sức tích cực - Chống độc",
            "Khoa Nội tổng hợp",
            "Khoa Ngoại tổng hợp",
            "Khoa Xét nghiệm",
            "Khoa Chẩn đoán hình ảnh",
            "Khoa Dược",
            "Khoa Gây mê hồi sức",
            "Khoa Tim mạch",
            "Khoa Thần kinh",
            "Khoa Tiêu hóa",
            "Khoa Thận - Tiết niệu",
            "Khoa Chấn thương chỉnh hình",
            "Khoa Phụ sản",
            "Khoa Nhi",
            "Khoa Mắt",
            "Khoa Tai Mũi Họng",
            "Khoa Răng Hàm Mặt",
            "Khoa Y học cổ truyền",
            "Khoa Dinh dưỡng",
            "Khoa Kiểm soát nhiễm khuẩn",
            "Khoa Ung bướu",
            "Khoa Truyền nhiễm",
            "Khoa Phục hồi chức năng",
            "Khoa Nội tiết",
            "Khoa Hô hấp",
            "Khoa Huyết học",
            "Khoa Giải phẫu bệnh",
            "Khoa Ngoại thần kinh",
            "Phòng Kế hoạch tổng hợp",
            "Phòng Tổ chức cán bộ",
            "Phòng Tài chính kế toán",
            "Phòng Điều dưỡng",
            "Phòng Hành chính quản trị",
            "Phòng Vật tư - Thiết bị y tế",
        ),
        None,
    ),
    "school": (
        (
            "Khoa Khoa học Xã hội",
            "Khoa Khoa học Tự nhiên",
            "Khoa Kinh tế - Quản trị kinh doanh",
            "Khoa Công nghệ thông tin và Truyền thông",
            "Khoa Ngoại ngữ",
            "Khoa Giáo dục Tiểu học",
            "Khoa Giáo dục Mầm non",
            "Khoa Lý luận chính trị - Luật",
            "Khoa Kỹ thuật - Công nghệ",
            "Khoa Nông - Lâm - Ngư nghiệp",
            "Khoa Tâm lý - Giáo dục",
            "Khoa Giáo dục Thể chất",
            "Phòng Đào tạo",
            "Phòng Tổ chức cán bộ",
            "Phòng Quản lý khoa học và Hợp tác quốc tế",
            "Phòng Công tác học sinh, sinh viên",
            "Phòng Kế hoạch - Tài chính",
            "Phòng Hành chính - Tổng hợp",
            "Phòng Đảm bảo chất lượng và Khảo thí",
            "Trung tâm Thông tin - Thư viện",
            "Trung tâm Giáo dục quốc phòng và an ninh",
            "Sinh viên",
        ),
        None,
    ),
    "project": (
        (
            "Văn phòng",
            "Phòng Kỹ thuật",
            "Phòng Kế hoạch - Tổng hợp",
            "Phòng Tài chính - Kế toán",
            "Phòng Giải phóng mặt bằng",
        ),
        None,
    ),
    "forestry": (
        (
            "Văn phòng",
            "Phòng Kỹ thuật",
            "Phòng Bảo tồn",
            "Trạm Kiểm lâm số 1",
            "Trạm Kiểm lâm số 2",
        ),
        "Đội sản xuất {district}",
    ),
    "power": (
        (
            "Văn phòng",
            "Phòng Kỹ thuật",
            "Phòng Kinh doanh",
            "Phòng Điều độ",
            "Phòng Tài chính kế toán",
            "Phòng Kế hoạch vật tư",
            "Phòng An toàn",
            "Đội Quản lý vận hành lưới điện cao thế",
            "Trung tâm Chăm sóc khách hàng",
            "Phân xưởng Thí nghiệm điện",
        ),
        "Điện lực {district}",
    ),
    "telecom": (
        (
            "Văn phòng",
            "Phòng Kỹ thuật - Đầu tư",
            "Phòng Kế hoạch - Kế toán",
            "Trung tâm Điều hành thông tin",
        ),
        "Trung tâm Viễn thông {district}",
    ),
    "post": (
        ("Văn phòng", "Phòng Kinh doanh", "Trung tâm Khai thác vận chuyển"),
        "Bưu điện {district}",
    ),
    "irrigation": (
        ("Văn phòng", "Phòng Kỹ thuật", "Phòng Quản lý nước"),
        "Xí nghiệp Thủy lợi {district}",
    ),
    "fuel": (("Văn phòng", "Phòng Kinh doanh", "Kho xăng dầu"), "Cửa hàng xăng dầu {district}"),
    "construction": (
        (
            "Văn phòng",
            "Phòng Kỹ thuật",
            "Phòng Kế hoạch",
            "Đội Thi công số 1",
            "Đội Thi công số 2",
            "Đội Thi công số 3",
            "Xưởng Cơ khí",
        ),
        None,
    ),
    "company": (
        (
            "Văn phòng",
            "Phòng Kỹ thuật",
            "Phòng Kinh doanh",
            "Phòng Tài chính - Kế toán",
            "Phân xưởng sản xuất số 1",
            "Phân xưởng sản xuất số 2",
            "Phân xưởng sản xuất số 3",
            "Xí nghiệp Dịch vụ",
            "Nhà máy số 1",
            "Nhà máy số 2",
        ),
        None,
    ),
}
# Cells per grassroots committee by naming style (before the total is brought to 1,117).
_CELL_RANGES = {
    "hospital": (8, 22),
    "school": (6, 18),
    "tax": (10, 27),
    "treasury": (8, 20),
    "statistics": (8, 20),
    "insurance": (10, 24),
    "market": (6, 16),
    "bank": (6, 18),
    "power": (12, 30),
    "telecom": (8, 20),
    "post": (10, 22),
    "department": (4, 12),
    "project": (3, 6),
    "weather": (3, 8),
}
_BIG_CELLS = (28, 40)
_DEFAULT_CELLS = (4, 14)
_PARTIAL_NAMES = {
    "agriculture": ("Chi cục Kiểm lâm", "Chi cục Thủy lợi"),
    "culture": ("Trung tâm Huấn luyện thể thao",),
    "labour": ("Khối Trung tâm Bảo trợ xã hội",),
    "tax": ("Chi cục Thuế khu vực Bỉm Sơn - Hà Trung",),
    "hospital": ("Khối Nội", "Khối Ngoại"),
    "school": ("Khối Phòng, Trung tâm",),
    "power": ("Điện lực Nghi Sơn", "Điện lực Bỉm Sơn"),
    "bank": ("Chi nhánh Nam Thanh Hóa", "Chi nhánh Bắc Thanh Hóa"),
}
_PARTIAL_CELL_NAMES = {
    "agriculture": ("Hạt Kiểm lâm số {n}", "Đội Kiểm lâm cơ động số {n}"),
    "culture": ("Đội tuyển số {n}",),
    "labour": ("Trung tâm Bảo trợ xã hội số {n}",),
    "tax": ("Đội Kiểm tra thuế số {n}",),
    "hospital": ("Khoa Nội {n}", "Khoa Ngoại {n}"),
    "school": ("Phòng, Trung tâm số {n}",),
    "power": ("Đội Quản lý điện khu vực {n}", "Đội Quản lý điện khu vực {n}"),
    "bank": ("Phòng giao dịch số {n}", "Phòng giao dịch số {n}"),
}
_GROUNDING_DAY = date(2020, 1, 1)
_REGISTRY_SEED = 14103


def _cell_names(style: str, count: int, rng: random.Random) -> list[str]:
    fixed, template = _CELL_NAMES.get(style, _CELL_NAMES["company"])
    names = list(fixed)
    if template:
        districts = list(DISTRICTS)
        rng.shuffle(districts)
        names += [template.format(district=district) for district in districts]
    # Large units really do number their cells once the names run out: "Chi bộ số 12".
    number = 1
    while len(names) < count:
        names.append(f"số {number}")
        number += 1
    return [f"Chi bộ {name}" for name in names[:count]]


def _committee_sizes(styles: list[tuple[str, str]], rng: random.Random) -> list[int]:
    """Cells of each grassroots committee, summing exactly to SEED_CELLS."""
    sizes = []
    for style, size in styles:
        low, high = _BIG_CELLS if size == "big" else _CELL_RANGES.get(style, _DEFAULT_CELLS)
        sizes.append(rng.randint(low, high))
    low_bound, high_bound = 3, 45
    while sum(sizes) != SEED_CELLS:
        index = rng.randrange(len(sizes))
        if sum(sizes) < SEED_CELLS and sizes[index] < high_bound:
            sizes[index] += 1
        elif sum(sizes) > SEED_CELLS and sizes[index] > low_bound:
            sizes[index] -= 1
    return sizes


def demo_units() -> list[Unit]:
    """A registry shaped exactly like seed 001's organisation, in hierarchy order."""
    rng = random.Random(_REGISTRY_SEED)
    rows: list[Unit] = []

    def add(
        code: str,
        name: str,
        parent: str | None,
        kind: str,
        sector: str | None,
        valid_from: date,
        email: str | None = None,
    ) -> None:
        rows.append(
            Unit(code, name, parent, kind, sector, valid_from, None, email, line=len(rows) + 2)
        )

    def office_email(code: str) -> str:
        return f"vanphong.{code.lower()}@example.vn"

    add(
        PROVINCE_CODE,
        f"Tỉnh ủy {PROVINCE_NAME}",
        None,
        "province",
        None,
        _GROUNDING_DAY,
        office_email(PROVINCE_CODE),
    )

    # (code prefix, name, sector, style, size, is committee) per grassroots organisation.
    agency = [("CQ", name, "agency", style, size, True) for name, style, size in _AGENCY_COMMITTEES]
    agency += [("CQ", name, "agency", "", "", False) for name in _AGENCY_CELLS]
    enterprise = [
        ("DN", name, sector, style, size, True)
        for name, sector, style, size in _ENTERPRISE_COMMITTEES
    ]
    enterprise += [("DN", name, sector, "", "", False) for name, sector in _ENTERPRISE_CELLS]
    # Committees and grassroots cells interleaved as a real list would have them.
    rng.shuffle(agency)
    rng.shuffle(enterprise)
    # The two grassroots cells directly under the province go last, after the uppers' subtrees.
    under_province = set(_AGENCY_CELLS[-GRASSROOTS_CELLS_UNDER_PROVINCE:])
    agency.sort(key=lambda item: item[1] in under_province)

    committees = [item for item in agency + enterprise if item[5]]
    sizes = dict(
        zip(
            (item[1] for item in committees),
            _committee_sizes([(item[3], item[4]) for item in committees], rng),
            strict=True,
        )
    )
    big_left = SEED_PARTIAL_COMMITTEES
    uppers = (
        (AGENCY_UPPER_CODE, "Đảng ủy Khối Cơ quan tỉnh", agency),
        (ENTERPRISE_UPPER_CODE, "Đảng ủy Khối Doanh nghiệp tỉnh", enterprise),
    )
    deferred: list[tuple[str, str, str]] = []
    for upper_code, upper_name, members in uppers:
        add(
            upper_code,
            upper_name,
            PROVINCE_CODE,
            "upper",
            None,
            _GROUNDING_DAY,
            office_email(upper_code),
        )
        for number, (prefix, name, sector, style, size, is_committee) in enumerate(members, 1):
            code = f"{prefix}{number:03d}"
            # Most organisations date from the start of the term; some were set up later.
            since = _GROUNDING_DAY
            if rng.random() < 0.2:
                since += timedelta(days=rng.randint(30, 1100))
            if not is_committee:
                if name in under_province:
                    deferred.append((code, name, sector))
                    continue
                add(code, f"Chi bộ {name}", upper_code, "grassroots_cell", sector, since)
                continue
            add(code, f"Đảng bộ {name}", upper_code, "grassroots_committee", sector, since)
            total = sizes[name]
            partials = _PARTIAL_NAMES.get(style, ()) if size == "big" else ()
            partials = partials[: min(len(partials), big_left)]
            big_left -= len(partials)
            in_partials = [rng.randint(3, 5) for _ in partials]
            direct = total - sum(in_partials)
            for p_index, (partial_name, cells) in enumerate(
                zip(partials, in_partials, strict=True), 1
            ):
                partial_code = f"{code}-BP{p_index:02d}"
                add(
                    partial_code,
                    f"Đảng bộ bộ phận {partial_name}",
                    code,
                    "partial_committee",
                    None,
                    since,
                )
                template = _PARTIAL_CELL_NAMES[style][p_index - 1]
                for c_index in range(1, cells + 1):
                    add(
                        f"{partial_code}-CB{c_index:02d}",
                        f"Chi bộ {template.format(n=c_index)}",
                        partial_code,
                        "cell",
                        None,
                        since,
                    )
            for c_index, cell_name in enumerate(_cell_names(style, direct, rng), 1):
                add(f"{code}-CB{c_index:02d}", cell_name, code, "cell", None, since)
    for code, name, sector in deferred:
        add(code, f"Chi bộ {name}", PROVINCE_CODE, "grassroots_cell", sector, _GROUNDING_DAY)
    if big_left:
        raise AssertionError("not enough big committees for the partial committees")
    return rows


def _children(units: Sequence[Unit]) -> dict[str, list[Unit]]:
    children: dict[str, list[Unit]] = defaultdict(list)
    for unit in units:
        if unit.parent_code is not None:
            children[unit.parent_code].append(unit)
    return children


def demo_members(units: Sequence[Unit], total: int | None = None) -> dict[str, int]:
    """Members of every leaf (5–40 each), summing to `total` when given; stable across periods."""
    parents = {unit.parent_code for unit in units}
    leaves = [unit for unit in units if unit.code not in parents]
    members: dict[str, int] = {}
    for unit in leaves:
        # A per-unit stream: a unit's members do not move when other units are added.
        rng = random.Random(f"members:{unit.code}")
        if unit.kind == "grassroots_cell":
            members[unit.code] = round(rng.triangular(8, MEMBERS_MAX, 16))
        else:
            members[unit.code] = round(rng.triangular(MEMBERS_MIN, 30, 7))
    if total is not None:
        low, high = MEMBERS_MIN * len(leaves), MEMBERS_MAX * len(leaves)
        if not low <= total <= high:
            raise ValueError(f"{total} members cannot be spread over {len(leaves)} leaves")
        rng = random.Random(f"members-total:{total}")
        codes = [unit.code for unit in leaves]
        gap = total - sum(members.values())
        while gap:
            code = rng.choice(codes)
            step = 1 if gap > 0 else -1
            if MEMBERS_MIN <= members[code] + step <= MEMBERS_MAX:
                members[code] += step
                gap -= step
    return members


# --- Values of a form --------------------------------------------------------------------------

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
    "Nguyên nhân chủ yếu do khối lượng công việc chuyên môn lớn; một số cấp ủy chưa thật sự quan "
    "tâm đúng mức đến công tác giáo dục chính trị, tư tưởng.",
)
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
_SESSION_CODES = ("sessions_in_person", "sessions_online", "sessions_hybrid")


@dataclass(frozen=True)
class _Context:
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


def _leaf_values(ctx: _Context, rng: random.Random) -> dict[str, object]:
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


def _committee_values(ctx: _Context, rng: random.Random) -> dict[str, object]:
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


def _upper_values(ctx: _Context, rng: random.Random) -> dict[str, object]:
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
    parent = "Ban Tuyên giáo Trung ương" if province else "Ban Tuyên giáo Tỉnh ủy"
    values["proposals"] = _UPPER_PROPOSALS.format(parent=parent)
    return values


def _add_texts(values: dict[str, object], ctx: _Context, rng: random.Random, chance: float) -> None:
    if rng.random() < chance:
        values["highlights"] = " ".join(rng.sample(_HIGHLIGHTS, rng.randint(1, 2)))
    if rng.random() < chance * 0.8:
        values["limitations"] = " ".join(rng.sample(_LIMITATIONS, rng.randint(1, 2)))
    if rng.random() < chance * 0.5:
        values["proposals"] = rng.choice(_PROPOSALS).format(parent=ctx.parent_name)


def _unit_values(ctx: _Context, rng: random.Random) -> dict[str, object]:
    """Sound, internally consistent values (SPEC §4 R1–R8 hold) for one unit."""
    if not ctx.has_children:
        return _leaf_values(ctx, rng)
    if ctx.unit.kind in ("province", "upper"):
        return _upper_values(ctx, rng)
    return _committee_values(ctx, rng)


def _as_typed(values: dict[str, object], rng: random.Random, chance: float) -> dict[str, object]:
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


def _blank_zeros(values: dict[str, object], rng: random.Random) -> dict[str, object]:
    """Some units leave the rows of what they did not do blank instead of writing 0."""
    if rng.random() >= 0.25:
        return values
    keep = (
        "members",
        "members_attended",
        "members_absent",
        "members_exempt",
        *_SESSION_CODES,
        "sessions_total",
    )
    return {code: value for code, value in values.items() if value != 0 or code in keep}


def _apply_fault(
    fault: str, values: dict[str, object], ctx: _Context, rng: random.Random
) -> dict[str, object]:
    """The values of a deliberately wrong (or warned) file; file-level faults change nothing."""
    values = dict(values)
    if fault == "R1":
        values["sessions_total"] = sum(int(values[code]) for code in _SESSION_CODES) + 1
    elif fault == "V1_text":
        values["news_items"] = "mười hai"
    elif fault == "V1_negative":
        values["collectives_commended"] = -rng.randint(1, 3)
    elif fault == "V1_fraction":
        values["attendance"] = int(values["attendance"]) + 0.5
    elif fault == "V2_leaf_values":
        attended = round(ctx.members * 0.95)
        values |= {
            "members": ctx.members,
            "members_attended": attended,
            "members_absent": ctx.members - attended,
        }
    elif fault == "F6_unknown_code":
        values[UNKNOWN_CODE] = rng.randint(1, 2)
    elif fault.startswith("R4w"):
        # A few members missing from both attended and absent: accepted with a warning.
        attended, absent = int(values["members_attended"]), int(values["members_absent"])
        short = min(2, attended + absent)
        cut = min(short, absent)
        values["members_absent"] = absent - cut
        values["members_makeup"] = min(int(values.get("members_makeup") or 0), absent - cut)
        values["members_attended"] = attended - (short - cut)
        values["essays"] = min(int(values["essays"]), int(values["members_attended"]))
        values["essays_excellent"] = min(int(values["essays_excellent"]), int(values["essays"]))
    elif fault == "R8_briefings":
        values["briefings"] = max(1, int(values.get("briefings") or 0))
        values["briefing_attendance"] = 0
    elif fault == "R8_contests":
        values["contests"] = 1
        values.pop("contest_entries", None)
    elif fault == "O2_news_items":
        values["news_items"] = OUTLIER_NEWS_ITEMS
    return values


# --- The plan ----------------------------------------------------------------------------------


def _contexts(units: Sequence[Unit], members: dict[str, int], day: date) -> dict[str, _Context]:
    active = [unit for unit in units if unit.active_on(day)]
    by_code = {unit.code: unit for unit in active}
    children = _children(active)
    with_children = codes_with_active_children(active, day)

    subtree_members: dict[str, int] = {}
    cells_below: dict[str, int] = {}
    grassroots_below: dict[str, int] = {}
    # Children before parents: every unit's subtree is complete when its parent reads it.
    for unit in reversed(_preorder(active, children)):
        own = 0 if unit.code in with_children else members.get(unit.code, 0)
        kids = children.get(unit.code, [])
        subtree_members[unit.code] = own + sum(subtree_members[kid.code] for kid in kids)
        cells_below[unit.code] = sum(cells_below[kid.code] + (kid.kind == "cell") for kid in kids)
        grassroots_below[unit.code] = sum(
            grassroots_below[kid.code] + kid.is_grassroots for kid in kids
        )

    grassroots = sorted(unit.code for unit in active if unit.is_grassroots)
    rng = random.Random(f"online:{len(grassroots)}")
    online_roots = set(rng.sample(grassroots, round(ONLINE_GRASSROOTS_SHARE * len(grassroots))))

    def online(unit: Unit) -> bool:
        current: Unit | None = unit
        while current is not None:
            if current.is_grassroots:
                return current.code in online_roots
            if current.kind in ("province", "upper"):
                return True
            current = by_code.get(current.parent_code or "")
        return False

    return {
        unit.code: _Context(
            unit=unit,
            parent_name=by_code[unit.parent_code].name if unit.parent_code in by_code else "",
            has_children=unit.code in with_children,
            members=subtree_members[unit.code],
            children=len(children.get(unit.code, [])),
            cells_below=cells_below[unit.code],
            grassroots_below=grassroots_below[unit.code],
            online=online(unit),
        )
        for unit in active
    }


def _preorder(units: Sequence[Unit], children: dict[str, list[Unit]]) -> list[Unit]:
    codes = {unit.code for unit in units}
    roots = [unit for unit in units if unit.parent_code not in codes]
    ordered: list[Unit] = []
    stack = list(reversed(roots))
    while stack:
        unit = stack.pop()
        ordered.append(unit)
        stack.extend(reversed(children.get(unit.code, [])))
    return ordered


def _file_name(unit: Unit, period: Period, rng: random.Random) -> str:
    roman = period.label_vi.split()[1]
    style = rng.choices(range(5), (50, 20, 15, 10, 5))[0]
    if style == 0:
        return f"BaoCao_{period}_{unit.code}.xlsx"
    if style == 1:
        return f"{unit.code}_{period}.xlsx"
    if style == 2:
        return f"Bao cao quy {roman} nam {period.year}.xlsx"
    if style == 3:
        return f"Báo cáo quý {roman} năm {period.year}.xlsx"
    return f"bc_hoc_tap_nghi_quyet_q{period.quarter}_{period.year}.xlsx"


def _moment(day: date, rng: random.Random) -> datetime:
    """A time of day on `day`: office hours mostly, some evenings."""
    if rng.random() < 0.9:
        start, end = 7 * 3600 + 30 * 60, 17 * 3600 + 30 * 60
    else:
        start, end = 18 * 3600, 22 * 3600 + 30 * 60
    seconds = rng.randint(start, end)
    return datetime.combine(day, time(seconds // 3600, seconds // 60 % 60, seconds % 60))


def _on_time_moment(
    period: Period, deadline: date, rng: random.Random, latest: int | None = None
) -> datetime:
    """A receipt time in the collection window, more of them near the deadline."""
    days = (deadline - period.last_day).days
    last = max(0, days if latest is None else min(days, latest))
    offset = round(rng.triangular(1, last, last * 0.8)) if last >= 1 else 0
    return _moment(period.last_day + timedelta(days=offset), rng)


def _name(rng: random.Random) -> str:
    return f"{rng.choice(_SURNAMES)} {rng.choice(_MIDDLE)} {rng.choice(_GIVEN)}"


def _pick_faults(
    contexts: dict[str, _Context], rng: random.Random
) -> tuple[dict[str, str], str | None]:
    """Unit code → fault tag, each fault on a different unit; and the F4 sender's victim."""
    by_kind: dict[str, list[str]] = defaultdict(list)
    for code in sorted(contexts):
        by_kind[contexts[code].unit.kind].append(code)
    for codes in by_kind.values():
        rng.shuffle(codes)
    siblings: dict[str | None, list[str]] = defaultdict(list)
    for code in sorted(contexts):
        siblings[contexts[code].unit.parent_code].append(code)
    taken: set[str] = set()
    faults: dict[str, str] = {}
    victim: str | None = None
    for fault in (*ERROR_FAULTS, *WARNING_FAULTS):
        for kind in _FAULT_KINDS[fault]:
            candidates = [code for code in by_kind.get(kind, []) if code not in taken]
            if fault == "F4_other_unit":
                # The sender needs a sibling whose form it sends by mistake.
                candidates = [
                    code
                    for code in candidates
                    if any(
                        other not in taken and other != code
                        for other in siblings[contexts[code].unit.parent_code]
                    )
                ]
            if fault.startswith("R4w"):
                candidates = [code for code in candidates if contexts[code].members >= 8]
            if fault.startswith("O2"):
                candidates = [
                    code
                    for code in candidates
                    if sum(
                        contexts[other].unit.kind == kind
                        for other in siblings[contexts[code].unit.parent_code]
                    )
                    > OUTLIER_MIN_SIBLINGS
                ]
            if candidates:
                code = candidates[0]
                faults[code] = fault
                taken.add(code)
                if fault == "F4_other_unit":
                    parent = contexts[code].unit.parent_code
                    victim = next(
                        other
                        for other in sorted(contexts)
                        if contexts[other].unit.parent_code == parent and other not in taken
                    )
                    taken.add(victim)
                break
    return faults, victim


def plan_demo(
    period: Period,
    deadline_days: int = 10,
    seed: int = 2025,
    units: Sequence[Unit] | None = None,
) -> DemoPlan:
    """Plan the demo workspace for `period` without writing anything."""
    if units is None:
        units = demo_units()
        members = demo_members(units, SEED_MEMBERS)
    else:
        units = list(units)
        members = demo_members(units)
    rng = random.Random(f"demo:{seed}:{period}")
    deadline = period.deadline(deadline_days)
    contexts = _contexts(units, members, period.last_day)
    codes = [unit.code for unit in units if unit.code in contexts]

    faults, victim = _pick_faults(contexts, rng)
    protected = set(faults) | ({victim} if victim else set())
    # The province and the uppers run the collection: they always report, on time.
    ordinary = [
        code
        for code in codes
        if code not in protected and contexts[code].unit.kind not in ("province", "upper")
    ]
    rng.shuffle(ordinary)
    missing_count = max(1, round(MISSING_SHARE * len(codes)))
    late_count = max(1, round(LATE_SHARE * len(codes)))
    # One grassroots organisation sends nothing at all; the rest of the missing are cells.
    grassroots = [code for code in ordinary if contexts[code].unit.is_grassroots]
    missing = grassroots[:1]
    missing += [
        code for code in ordinary if contexts[code].unit.kind == "cell" and code not in missing
    ][: missing_count - len(missing)]
    rest = [code for code in ordinary if code not in missing]
    late = rest[:late_count]

    submissions: list[DemoSubmission] = []
    for code in codes:
        if code in missing:
            continue
        ctx = contexts[code]
        unit_rng = random.Random(f"demo:{seed}:{period}:{code}")
        sound = _unit_values(ctx, unit_rng)
        chance = 0.5 if ctx.unit.kind in ("province", "upper") else 0.1
        typed = _as_typed(_blank_zeros(sound, unit_rng), unit_rng, chance)
        fault = faults.get(code)
        # A wrong file is wrong in one way only: its other values are written plainly.
        values = typed if fault is None else _apply_fault(fault, sound, ctx, unit_rng)
        preparer = _name(unit_rng)
        if code in late:
            received = _moment(deadline + timedelta(days=unit_rng.randint(1, 12)), unit_rng)
        elif fault in CORRECTED_FAULTS:
            received = _on_time_moment(period, deadline, unit_rng, latest=max(1, deadline_days - 4))
        else:
            received = _on_time_moment(period, deadline, unit_rng)
        file_name = _file_name(ctx.unit, period, unit_rng)
        form_code, form_period = code, str(period)
        if fault == "F4_other_unit" and victim is not None:
            victim_rng = random.Random(f"demo:{seed}:{period}:{victim}:copy")
            values = _unit_values(contexts[victim], victim_rng)
            form_code = victim
            file_name = f"BaoCao_{period}_{victim}.xlsx"
        elif fault == "F5_wrong_period":
            form_period = str(period.previous())
        submissions.append(
            DemoSubmission(
                unit_code=code,
                file_name=file_name,
                received_at=received,
                fault=fault,
                form_unit_code=form_code,
                form_period=form_period,
                values=values,
                preparer=preparer,
                prepared_on=received.date() - timedelta(days=unit_rng.randint(0, 2)),
            )
        )
        if fault in CORRECTED_FAULTS:
            if fault == CORRECTED_FAULTS[0]:
                day = min(deadline, received.date() + timedelta(days=unit_rng.randint(1, 3)))
            else:
                day = deadline + timedelta(days=unit_rng.randint(2, 5))
                late.append(code)
            again = _moment(day, unit_rng)
            if again <= received:
                again = received + timedelta(hours=2)
            stem = file_name.removesuffix(".xlsx")
            submissions.append(
                DemoSubmission(
                    unit_code=code,
                    file_name=f"{stem} (đã sửa).xlsx",
                    received_at=again,
                    fault=None,
                    form_unit_code=code,
                    form_period=str(period),
                    values=typed,
                    preparer=preparer,
                    prepared_on=again.date(),
                )
            )
    submissions.sort(key=lambda item: (item.received_at, item.unit_code, item.file_name))
    return DemoPlan(
        units=list(units),
        submissions=submissions,
        missing=sorted(missing),
        late=sorted(late),
        members=members,
    )


# --- Writing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Job:
    path: Path
    unit: Unit
    period: Period
    has_children: bool
    submission: DemoSubmission
    corrupt_bytes: bytes | None
    timezone: str


def _write_job(job: _Job) -> None:
    # Imported here: the forms module pulls in openpyxl, which only the writers need.
    from tonghop.forms import SHEET_NAME, write_form

    submission = job.submission
    job.path.parent.mkdir(parents=True, exist_ok=True)
    if job.corrupt_bytes is not None:
        job.path.write_bytes(job.corrupt_bytes)
    else:
        write_form(
            job.path,
            job.unit,
            job.period,
            job.has_children,
            values=submission.values,
            preparer=submission.preparer,
            prepared_on=submission.prepared_on,
        )
        if submission.fault == "F2_no_sheet":
            from openpyxl import load_workbook

            # The unit renamed the sheet: the table is intact, but not where the reader looks.
            workbook = load_workbook(job.path)
            workbook[SHEET_NAME].title = "Báo cáo quý"
            workbook.save(job.path)
    # Receipt times are the operators' local times, whatever the machine's own zone is.
    stamp = submission.received_at.replace(tzinfo=ZoneInfo(job.timezone)).timestamp()
    os.utime(job.path, (stamp, stamp))


def _write_jobs(jobs: list[_Job]) -> int:
    for job in jobs:
        _write_job(job)
    return len(jobs)


def write_demo_workspace(
    root: Path,
    period: Period,
    deadline_days: int = 10,
    seed: int = 2025,
    *,
    units: Sequence[Unit] | None = None,
    workers: int | None = None,
    timezone: str = "Asia/Ho_Chi_Minh",
) -> DemoPlan:
    """Write `root/registry.csv` and the forms into `root/inbox/<unit>/`; return the plan.

    File times are set to each submission's receipt time in `timezone`."""
    plan = plan_demo(period, deadline_days, seed, units)
    root.mkdir(parents=True, exist_ok=True)
    write_registry_csv(root / "registry.csv", plan.units)

    by_code = {unit.code: unit for unit in plan.units}
    with_children = codes_with_active_children(plan.units, period.last_day)
    jobs = []
    for submission in plan.submissions:
        form_unit = by_code[submission.form_unit_code]
        corrupt = None
        if submission.fault == "F1_corrupt":
            corrupt = random.Random(f"corrupt:{seed}:{submission.unit_code}").randbytes(6144)
        jobs.append(
            _Job(
                path=root.joinpath(*submission.path_parts),
                unit=form_unit,
                period=Period.parse(submission.form_period),
                has_children=form_unit.code in with_children,
                submission=submission,
                corrupt_bytes=corrupt,
                timezone=timezone,
            )
        )
    workers = workers if workers is not None else (os.cpu_count() or 1)
    # A form takes ~15–20 ms (~20 s for the whole demo on one core); below a few hundred forms,
    # starting processes costs more than it saves.
    if workers <= 1 or len(jobs) < 200:
        _write_jobs(jobs)
    else:
        chunks = [jobs[index :: workers * 4] for index in range(workers * 4)]
        with ProcessPoolExecutor(max_workers=workers) as pool:
            written = sum(pool.map(_write_jobs, chunks))
        if written != len(jobs):
            raise RuntimeError(f"wrote {written} of {len(jobs)} demo forms")
    return plan
