"""The demo's registry: a province shaped exactly like seed 001's organisation (two upper-level
bloc committees, 121 grassroots organisations, 1,117 cells, 14,103 members), with names typical
of a provincial bloc of agencies and enterprises, and the members of every leaf."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, timedelta

from tonghop.registry import Unit

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
GRASSROOTS_CELLS_UNDER_PROVINCE = 2
# One cell in this many has no address of its own and is reached through its parent.
CELLS_WITHOUT_ADDRESS_EVERY = 100
MEMBERS_MIN, MEMBERS_MAX = 5, 40

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
    return _with_addresses(rows, office_email)


def _with_addresses(units: list[Unit], office_email: Callable[[str], str]) -> list[Unit]:
    """Every unit with an address (SPEC §1), except one cell in every
    CELLS_WITHOUT_ADDRESS_EVERY: those are reached through their parent, as in a real registry
    with gaps."""
    addressed = []
    cells = 0
    for unit in units:
        if unit.kind == "cell":
            cells += 1
            if cells % CELLS_WITHOUT_ADDRESS_EVERY == 0:
                addressed.append(unit)
                continue
            email = f"chibo.{unit.code.lower()}@example.vn"
        else:
            email = unit.email or office_email(unit.code)
        addressed.append(replace(unit, email=email))
    return addressed


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
