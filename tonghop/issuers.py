"""How each issuing unit (the province, every upper-level unit) signs its drafted reports: place,
heading, document symbol, to whom it reports, recipients, signer, and its Word template. One
editable TOML file per unit, `<workspace>/thiet-lap-bao-cao/<mã>.toml`, written with defaults
derived from the registry the first time one of the unit's reports is drafted (with the default
Word template beside it, `mau-bao-cao.docx`), and read each time after: what an operator sets
there is what the next drafts carry. Nothing of an issuer is written into the code."""

from __future__ import annotations

import json
import shutil
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path

from tonghop.layout import write_atomically

DEFAULT_TEMPLATE = Path(__file__).parent / "data" / "bao-cao-mau.docx"
TEMPLATE_NAME = "mau-bao-cao.docx"
_COMMITTEE_PREFIXES = ("Tỉnh ủy ", "Thành ủy ", "Huyện ủy ", "Quận ủy ", "Thị ủy ")
# The committee's name → the Party organisation it leads, for the line above the issuer's name.
_PARTY_BODIES = (
    ("Tỉnh ủy ", "Đảng bộ tỉnh "),
    ("Thành ủy ", "Đảng bộ thành phố "),
    ("Huyện ủy ", "Đảng bộ huyện "),
    ("Quận ủy ", "Đảng bộ quận "),
    ("Thị ủy ", "Đảng bộ thị xã "),
    ("Đảng ủy ", "Đảng bộ "),
)
# The 2025 name of the board the province reports its propaganda work to.
CENTRAL_BOARD = "Ban Tuyên giáo và Dân vận Trung ương"


@dataclass(frozen=True)
class IssuerSettings:
    """What a unit's report says of its issuer; each field is one key of the settings file."""

    dia_danh: str  # place on the date line: "Thanh Hóa, ngày … tháng … năm …"
    co_quan_cap_tren: str  # the line above the issuer's name (blank for none)
    co_quan_ban_hanh: str  # the issuer's name in the heading, upper case
    ten_trong_cau: str  # the issuer's name inside sentences
    so: str  # the document's number (blank: written by hand when issued)
    ky_hieu: str  # its symbol: "BC/TU" in "Số 12-BC/TU"
    bao_cao_len: str  # the closing sentence: "… <issuer> báo cáo <bao_cao_len>."
    noi_nhan: tuple[str, ...]  # recipients, in order, the last one usually "Lưu VT"
    thay_mat: str  # "T/M BAN THƯỜNG VỤ"
    chuc_vu: str  # "BÍ THƯ"
    nguoi_ky: str  # the signer's full name
    mau_word: str  # the Word template, a file name in the settings folder

    @property
    def number_line(self) -> str:
        """`Số 12-BC/TU`, or `Số      -BC/TU` with room to write the number by hand."""
        return f"Số {self.so.strip() or ' ' * 5}-{self.ky_hieu.strip()}"


_COMMENTS = {
    "dia_danh": 'Địa danh ở dòng ngày tháng: "<địa danh>, ngày … tháng … năm …".',
    "co_quan_cap_tren": "Tên cơ quan cấp trên, dòng trên tên cơ quan ban hành (để trống nếu "
    "không có).",
    "co_quan_ban_hanh": "Tên cơ quan ban hành ở đầu văn bản (chữ in hoa).",
    "ten_trong_cau": 'Tên đơn vị trong câu văn ("…, <tên> báo cáo …").',
    "so": "Số văn bản; để trống thì dự thảo chừa chỗ ghi số khi ban hành.",
    "ky_hieu": 'Ký hiệu văn bản, sau số: "Số 12-BC/TU".',
    "bao_cao_len": 'Cấp nhận báo cáo, trong câu kết: "Trên đây là báo cáo …, <tên> báo cáo '
    '<bao_cao_len>."',
    "noi_nhan": "Nơi nhận, mỗi dòng một nơi theo thứ tự in (dấu phẩy, dấu chấm cuối dòng do "
    'Tổng hợp thêm); dòng cuối thường là "Lưu VT".',
    "thay_mat": 'Thẩm quyền ký, ví dụ "T/M BAN THƯỜNG VỤ".',
    "chuc_vu": "Chức vụ người ký.",
    "nguoi_ky": "Họ và tên người ký.",
    "mau_word": "Mẫu báo cáo Word trong thư mục này: sửa các nhiệm vụ ở mục IV và cách trình "
    "bày ở đó.",
}


def committee_short(name: str) -> str:
    """`Tỉnh ủy Thanh Hóa` → `Tỉnh ủy`: how units of the province name it."""
    for prefix in _COMMITTEE_PREFIXES[:2]:
        if name.startswith(prefix):
            return prefix.strip()
    return name


def party_body(name: str) -> str:
    """`Tỉnh ủy Thanh Hóa` → `Đảng bộ tỉnh Thanh Hóa`: the organisation a committee leads."""
    for committee, body in _PARTY_BODIES:
        if name.startswith(committee):
            return body + name.removeprefix(committee)
    return name


def place_of(name: str) -> str:
    """`Tỉnh ủy Thanh Hóa` → `Thanh Hóa`; "" for a name that carries no place."""
    for prefix in _COMMITTEE_PREFIXES:
        if name.startswith(prefix):
            return name.removeprefix(prefix)
    return ""


def symbol_of(name: str, kind: str) -> str:
    """The symbol of a report: BC/TU for the province; for an upper-level unit BC/HU, QU, TU
    (thị ủy, thành ủy) by its name, BC/ĐUK for a bloc committee, else BC/ĐU."""
    if kind == "province":
        return "BC/TU"
    lowered = name.lower()
    for prefix, abbreviation in (
        ("huyện ủy", "HU"),
        ("quận ủy", "QU"),
        ("thị ủy", "TU"),
        ("thành ủy", "TU"),
        ("đảng ủy khối", "ĐUK"),
    ):
        if lowered.startswith(prefix):
            return f"BC/{abbreviation}"
    return "BC/ĐU"


def default_settings(
    name: str, kind: str, parent_name: str | None, root_name: str | None
) -> IssuerSettings:
    """The settings a unit starts with, from its place in the registry."""
    root_name = root_name or name
    place = place_of(name) or place_of(root_name) or "………"
    if kind == "province" or not parent_name:
        report_to = CENTRAL_BOARD
        recipients = (
            f"{CENTRAL_BOARD} (b/c)",
            f"Các đảng bộ, chi bộ trực thuộc {committee_short(name)}",
            "Lưu VT",
        )
        superior = ""
    else:
        parent_short = committee_short(parent_name)
        report_to = f"Ban Thường vụ {parent_short}"
        recipients = (
            f"{report_to} (b/c)",
            f"Ban Tuyên giáo và Dân vận {parent_short} (b/c)",
            "Các tổ chức cơ sở đảng trực thuộc",
            "Lưu VT",
        )
        superior = party_body(parent_name).upper()
    return IssuerSettings(
        dia_danh=place,
        co_quan_cap_tren=superior,
        co_quan_ban_hanh=name.upper(),
        ten_trong_cau=name,
        so="",
        ky_hieu=symbol_of(name, kind),
        bao_cao_len=report_to,
        noi_nhan=recipients,
        thay_mat="T/M BAN THƯỜNG VỤ",
        chuc_vu="BÍ THƯ",
        nguoi_ky="",
        mau_word=TEMPLATE_NAME,
    )


def settings_text(unit_code: str, settings: IssuerSettings) -> str:
    """The settings file as an operator reads and edits it: Vietnamese comments, one key each."""
    lines = [
        f"# Thiết lập ban hành báo cáo của {settings.ten_trong_cau} (mã đơn vị {unit_code}).",
        "# Tổng hợp dùng các giá trị dưới đây khi soạn dự thảo báo cáo định kỳ của đơn vị. Sửa",
        "# giá trị trong dấu ngoặc kép rồi lưu tệp (mã UTF-8): dự thảo của lần tổng hợp sau theo",
        "# đó. Xóa tệp để Tổng hợp tạo lại với giá trị mặc định lấy từ danh sách đơn vị.",
    ]
    for field in fields(IssuerSettings):
        value = getattr(settings, field.name)
        lines += ["", f"# {_COMMENTS[field.name]}"]
        if isinstance(value, tuple):
            lines.append(f"{field.name} = [")
            lines += [f"    {_toml_string(item)}," for item in value]
            lines.append("]")
        else:
            lines.append(f"{field.name} = {_toml_string(value)}")
    return "\n".join(lines) + "\n"


def _toml_string(value: str) -> str:
    # A JSON string is a TOML basic string: the same quotes and escapes.
    return json.dumps(value, ensure_ascii=False)


def read_settings(text: str, defaults: IssuerSettings) -> IssuerSettings:
    """The settings a file's text gives, each key it lacks taken from `defaults`; ValueError
    with a Vietnamese message when the text is not TOML or a value is not text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"tệp không đúng định dạng TOML ({error})") from error
    changes: dict[str, object] = {}
    for field in fields(IssuerSettings):
        if field.name not in data:
            continue
        value = data[field.name]
        if isinstance(getattr(defaults, field.name), tuple):
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                raise ValueError(f"«{field.name}» phải là danh sách các dòng chữ trong ngoặc kép")
            changes[field.name] = tuple(item.strip() for item in value if item.strip())
        elif isinstance(value, str):
            changes[field.name] = value.strip()
        else:
            raise ValueError(f"«{field.name}» phải là chữ trong ngoặc kép")
    return replace(defaults, **changes)


@dataclass(frozen=True)
class Issuer:
    """An issuing unit's settings as the drafting reads them, with the Word template to use
    and, when its file could not be read, why (the draft then says so and uses the defaults)."""

    settings: IssuerSettings
    template: Path
    source: Path | None = None  # the settings file, when there is a folder of them
    problem: str | None = None


def issuer_settings(folder: Path | None, unit_code: str, defaults: IssuerSettings) -> Issuer:
    """The unit's settings from `folder` (written there with `defaults` when missing, and the
    default template beside it); without a folder, the defaults and the packaged template."""
    if folder is None:
        return Issuer(defaults, DEFAULT_TEMPLATE)
    folder = Path(folder)
    path = folder / f"{unit_code}.toml"
    template = folder / TEMPLATE_NAME
    if not template.exists():
        write_atomically(template, lambda temp: shutil.copyfile(DEFAULT_TEMPLATE, temp))
    if not path.exists():
        text = settings_text(unit_code, defaults)
        write_atomically(path, lambda temp: temp.write_text(text, encoding="utf-8"))
    problem = None
    try:
        settings = read_settings(path.read_text(encoding="utf-8-sig"), defaults)
    except (ValueError, UnicodeDecodeError) as error:
        settings = defaults
        problem = f"Tệp thiết lập «{path}» có lỗi ({error}); dự thảo dùng giá trị mặc định."
    chosen = folder / settings.mau_word
    if not chosen.is_file():
        problem = problem or (
            f"Không có mẫu Word «{chosen}» ghi ở «mau_word» của tệp «{path}»; dự thảo dùng "
            "mẫu mặc định."
        )
        chosen = DEFAULT_TEMPLATE
    return Issuer(settings, chosen, path, problem)


def registry_defaults(units: Mapping[str, Mapping[str, object]], unit_code: str) -> IssuerSettings:
    """`default_settings` of a unit from units indexed by code (name, kind, parent_code)."""
    if unit_code not in units:
        raise ValueError(f"unit not in the consolidation: {unit_code!r}")
    unit = units[unit_code]
    parent = units.get(unit.get("parent_code") or "")
    root = unit
    while root.get("parent_code") and root["parent_code"] in units:
        root = units[root["parent_code"]]
    return default_settings(
        str(unit.get("name") or unit_code),
        str(unit.get("kind")),
        str(parent["name"]) if parent and parent.get("name") else None,
        str(root.get("name") or ""),
    )
