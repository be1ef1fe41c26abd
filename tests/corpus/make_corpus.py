"""Builds the corpus of hostile and broken submissions (tests/corpus/*.xlsx) byte for byte.

Every file is made here from constants and seeded randomness with a hand-written zip writer
(fixed timestamps, zlib level 9), so running `python -m tests.corpus.make_corpus` rewrites the
committed files identically. `CASES` says, for each file, which words the F1 message read_form
gives must contain; README.md lists the same in prose.
"""

from __future__ import annotations

import random
import struct
import sys
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

CORPUS_DIR = Path(__file__).resolve().parent
UNIT_CODE = "DONVI"
PERIOD = "2025Q3"

_DOS_TIME, _DOS_DATE = 0, (1980 - 1980) << 9 | 1 << 5 | 1  # 1980-01-01 00:00:00
_STORED, _DEFLATED = 0, 8


# --- a zip writer that can lie ------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """One zip member; `declared_size` and `flags` let a file lie about what it holds.

    A huge member is given as `pieces` (bytes, times repeated) and deflated as it streams, so
    that building a 200 MB bomb never holds 200 MB.
    """

    name: str
    data: bytes = b""
    deflate: bool = True
    declared_size: int | None = None  # file_size written in both headers, if not the real one
    flags: int = 0
    pieces: tuple[tuple[bytes, int], ...] = ()


def deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def _payload(member: Member) -> tuple[bytes, int, int]:
    """The member's bytes as stored, their CRC-32 and their real size."""
    if not member.pieces:
        payload = deflate(member.data) if member.deflate else member.data
        return payload, zlib.crc32(member.data), len(member.data)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    out, crc, size = [], 0, 0
    for piece, times in member.pieces:
        for _ in range(times):
            out.append(compressor.compress(piece))
            crc, size = zlib.crc32(piece, crc), size + len(piece)
    out.append(compressor.flush())
    return b"".join(out), crc, size


def _headers(member: Member, offset: int) -> tuple[bytes, bytes, bytes]:
    """The member's local header, its bytes as stored, and its central-directory entry."""
    payload, crc, real_size = _payload(member)
    name = member.name.encode()
    flags = member.flags | (0x800 if not name.isascii() else 0)
    method = _DEFLATED if member.deflate else _STORED
    size = real_size if member.declared_size is None else member.declared_size
    local = struct.pack(
        "<4s5H3L2H",
        b"PK\x03\x04",
        20,
        flags,
        method,
        _DOS_TIME,
        _DOS_DATE,
        crc,
        len(payload),
        size,
        len(name),
        0,
    )
    central = struct.pack(
        "<4s6H3L5H2L",
        b"PK\x01\x02",
        20,
        20,
        flags,
        method,
        _DOS_TIME,
        _DOS_DATE,
        crc,
        len(payload),
        size,
        len(name),
        0,
        0,
        0,
        0,
        0,
        offset,
    )
    return local + name, payload, central + name


def _end_record(entries: int, directory: bytes, offset: int) -> bytes:
    return struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, entries, entries, len(directory), offset, 0)


def zip_bytes(members: Sequence[Member]) -> bytes:
    """A zip of `members`, deterministic for the same input."""
    body, directory = bytearray(), bytearray()
    for member in members:
        local, payload, central = _headers(member, len(body))
        body += local + payload
        directory += central
    return bytes(body + directory + _end_record(len(members), directory, len(body)))


# --- a form that reads cleanly --------------------------------------------------------------------

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

# Labels go through sharedStrings.xml (as Excel writes them), values stay inline.
_LABELS = ["Mã đơn vị", "Kỳ báo cáo", "Người lập", "STT", "Mã chỉ tiêu", "Giá trị", "Ghi chú"]
GOOD_VALUES = {
    "members": "14",
    "members_attended": "13",
    "members_absent": "1",
    "sessions_in_person": "1",
    "sessions_total": "1",
}


def form_rows(
    unit_code: str = UNIT_CODE,
    period: str = PERIOD,
    values: Mapping[str, object] | None = None,
    preparer: str = "Nguyễn Văn An",
) -> list[list[object]]:
    """The cells of a form from A1: header fields, the table header on row 7, one indicator a
    row. A value is written as it is: a float or int as a number (`nan` included), text inline."""
    table = {code: int(value) for code, value in GOOD_VALUES.items()} if values is None else values
    rows: list[list[object]] = [
        [None, ("s", 0), unit_code],
        [None, ("s", 1), period],
        [None, ("s", 2), preparer],
        [],
        [],
        [],
        [("s", 3), ("s", 4), None, None, ("s", 5), ("s", 6)],
    ]
    rows += [
        [number, code, None, None, value] for number, (code, value) in enumerate(table.items(), 1)
    ]
    return rows


_ROWS = form_rows()


def _column_letters(number: int) -> str:
    letters = ""
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _cell(reference: str, value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):
        return f'<c r="{reference}" t="s"><v>{value[1]}</v></c>'
    if isinstance(value, int | float):
        return f'<c r="{reference}"><v>{value}</v></c>'
    return f'<c r="{reference}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


def sheet_xml(rows: Sequence[Sequence[object]] = _ROWS, extra_rows: str = "") -> str:
    """sheet1.xml with `rows` from A1; `extra_rows` is raw markup appended inside sheetData."""
    lines = []
    for number, row in enumerate(rows, start=1):
        cells = "".join(
            _cell(f"{_column_letters(column)}{number}", value)
            for column, value in enumerate(row, start=1)
        )
        if cells:
            lines.append(f'<row r="{number}">{cells}</row>')
    return (
        f'{_XML_DECLARATION}<worksheet xmlns="{_MAIN}" xmlns:r="{_RELATIONSHIPS}">'
        f"<sheetData>{''.join(lines)}{extra_rows}</sheetData></worksheet>"
    )


def shared_strings_xml(strings: Sequence[str] = _LABELS, unique_count: str | None = None) -> str:
    items = "".join(f"<si><t>{escape(text)}</t></si>" for text in strings)
    unique = unique_count if unique_count is not None else str(len(strings))
    return (
        f'{_XML_DECLARATION}<sst xmlns="{_MAIN}" count="{len(strings)}" '
        f'uniqueCount="{unique}">{items}</sst>'
    )


def workbook_xml(sheet_name: str = "BaoCao") -> str:
    return (
        f'{_XML_DECLARATION}<workbook xmlns="{_MAIN}" xmlns:r="{_RELATIONSHIPS}"><sheets>'
        f'<sheet name="{sheet_name}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )


_CONTENT_TYPES = (
    f"{_XML_DECLARATION}"
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType='
    '"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    f'{_XML_DECLARATION}<Relationships xmlns="{_PACKAGE}"><Relationship Id="rId1" '
    f'Type="{_RELATIONSHIPS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK_RELS = (
    f'{_XML_DECLARATION}<Relationships xmlns="{_PACKAGE}">'
    f'<Relationship Id="rId1" Type="{_RELATIONSHIPS}/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_RELATIONSHIPS}/sharedStrings" '
    'Target="sharedStrings.xml"/></Relationships>'
)


def workbook_parts(**replace: str) -> dict[str, str]:
    """The parts of the clean form; keyword arguments replace parts by their short name."""
    parts = {
        "content_types": _CONTENT_TYPES,
        "root_rels": ROOT_RELS,
        "workbook": workbook_xml(),
        "workbook_rels": _WORKBOOK_RELS,
        "shared_strings": shared_strings_xml(),
        "sheet": sheet_xml(),
    } | replace
    return {
        "[Content_Types].xml": parts["content_types"],
        "_rels/.rels": parts["root_rels"],
        "xl/workbook.xml": parts["workbook"],
        "xl/_rels/workbook.xml.rels": parts["workbook_rels"],
        "xl/sharedStrings.xml": parts["shared_strings"],
        "xl/worksheets/sheet1.xml": parts["sheet"],
    }


def workbook_members(**replace: str) -> list[Member]:
    return [Member(name, text.encode()) for name, text in workbook_parts(**replace).items()]


def good_workbook() -> bytes:
    """The control: a form every check lets through, and that reads as GOOD_VALUES."""
    return zip_bytes(workbook_members())


def form_workbook(
    unit_code: str, period: str, values: Mapping[str, object], preparer: str = "Nguyễn Văn An"
) -> bytes:
    """A clean form of another unit, with cell values no form writer would produce."""
    return zip_bytes(
        workbook_members(sheet=sheet_xml(form_rows(unit_code, period, values, preparer)))
    )


# --- not zips at all ------------------------------------------------------------------------------


def _ole2(streams: dict[str, bytes]) -> bytes:
    """A minimal compound file (version 3): header, one FAT sector, one directory sector, and
    each stream padded to 4,096 bytes so that it lives in ordinary sectors."""
    sector = 512
    end_of_chain, fat_sector, free = 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
    fat = [fat_sector, end_of_chain]
    data = bytearray()
    entries = [("Root Entry", 5, end_of_chain, 0)]
    for name, content in streams.items():
        padded = content.ljust(max(4096, -(-len(content) // sector) * sector), b"\0")
        first = len(fat)
        count = len(padded) // sector
        fat += [*range(first + 1, first + count), end_of_chain]
        entries.append((name, 2, first, len(content)))
        data += padded
    fat += [free] * (sector // 4 - len(fat))
    header = bytearray(sector)
    header[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<LLLLLLLLL", header, 40, 0, 1, 1, 0, 4096, end_of_chain, 0, end_of_chain, 0)
    struct.pack_into("<L", header, 76, 0)  # DIFAT[0]: the FAT is sector 0
    header[80:sector] = b"\xff" * (sector - 80)
    directory = bytearray()
    for index, (name, kind, start, size) in enumerate(entries):
        encoded = name.encode("utf-16-le") + b"\0\0"
        entry = bytearray(128)
        entry[: len(encoded)] = encoded
        child = 1 if index == 0 and len(entries) > 1 else free
        right = index + 1 if 0 < index < len(entries) - 1 else free
        struct.pack_into("<HBB3L", entry, 64, len(encoded), kind, 1, free, right, child)
        struct.pack_into("<LL", entry, 116, start, size)
        directory += entry
    directory = directory.ljust(sector, b"\0")
    return bytes(header + struct.pack(f"<{sector // 4}L", *fat) + directory + data)


def old_xls() -> bytes:
    """An Excel 97–2003 workbook: a compound file with a `Workbook` stream (BIFF8 BOF first)."""
    bof = struct.pack("<HHHHHHLL", 0x0809, 16, 0x0600, 0x0005, 0x1F3F, 1997, 0, 6)
    return _ole2({"Workbook": bof})


def encrypted_workbook() -> bytes:
    """What Excel writes for a password-protected .xlsx: the zip, encrypted, inside a compound
    file beside an agile EncryptionInfo stream."""
    info = struct.pack("<HHL", 4, 4, 0x40) + (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
        b'<encryption xmlns="http://schemas.microsoft.com/office/2006/encryption">'
        b'<keyData saltSize="16" blockSize="16" keyBits="256" hashSize="64" '
        b'cipherAlgorithm="AES" cipherChaining="ChainingModeCBC" hashAlgorithm="SHA512" '
        b'saltValue="AAAAAAAAAAAAAAAAAAAAAA=="/></encryption>'
    )
    package = struct.pack("<Q", 9000) + random.Random(11).randbytes(9008)
    return _ole2({"EncryptionInfo": info, "EncryptedPackage": package})


# --- zips that are no workbook, or a broken one ------------------------------------------------


def word_document() -> bytes:
    return zip_bytes(
        [
            Member("[Content_Types].xml", _CONTENT_TYPES.encode()),
            Member(
                "word/document.xml",
                b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/'
                b'main"><w:body><w:p><w:r><w:t>B\xc3\xa1o c\xc3\xa1o</w:t></w:r></w:p>'
                b"</w:body></w:document>",
            ),
        ]
    )


def ods_spreadsheet() -> bytes:
    return zip_bytes(
        [
            Member("mimetype", b"application/vnd.oasis.opendocument.spreadsheet", deflate=False),
            Member(
                "content.xml",
                b'<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:'
                b'xmlns:office:1.0"/>',
            ),
        ]
    )


def password_zip() -> bytes:
    """The workbook's members with the zip encryption flag set (ZipCrypto), as 7-Zip writes them."""
    noise = random.Random(5)
    return zip_bytes(
        [
            Member(name, noise.randbytes(12 + len(text)), deflate=False, flags=0x1)
            for name, text in workbook_parts().items()
        ]
    )


def truncated() -> bytes:
    content = good_workbook()
    return content[: len(content) // 2]


def corrupt_deflate() -> bytes:
    """Every structure intact, but the sheet's deflate stream damaged in the middle."""
    content = bytearray(good_workbook())
    start = content.find(b"xl/worksheets/sheet1.xml") + len("xl/worksheets/sheet1.xml")
    for offset in range(start + 40, start + 60):
        content[offset] ^= 0xA5
    return bytes(content)


# --- decompression bombs ----------------------------------------------------------------------


_MEGABYTE = 1024 * 1024


def bomb_declared(megabytes: int = 64) -> bytes:
    """Honest headers: a 64 MB member (zeros) declared as such."""
    zeros = Member("xl/media/image1.png", pieces=((bytes(_MEGABYTE), megabytes),))
    return zip_bytes([*workbook_members(), zeros])


def bomb_lying(megabytes: int = 200) -> bytes:
    """The sheet's headers declare its real 1 KB, but its deflate stream holds 200 MB more:
    spaces between two rows, which any XML reader must wade through."""
    sheet = sheet_xml().encode()
    at = sheet.index(b"</sheetData>")
    pieces = ((sheet[:at], 1), (b" " * _MEGABYTE, megabytes), (sheet[at:], 1))
    swollen = Member("xl/worksheets/sheet1.xml", pieces=pieces, declared_size=len(sheet))
    return zip_bytes(
        [swollen if member.name == swollen.name else member for member in workbook_members()]
    )


def bomb_ratio() -> bytes:
    """Honest headers under the 50 MB limit, but 2 MB of zeros squeezed into 2 KB."""
    return zip_bytes([*workbook_members(), Member("xl/media/image1.png", bytes(2 * 1024 * 1024))])


def bomb_many_members(count: int = 1_500) -> bytes:
    extra = [Member(f"xl/media/m{index:04d}", b"", deflate=False) for index in range(count)]
    return zip_bytes([*workbook_members(), *extra])


def bomb_overlapping(entries: int = 80, size: int = 900 * 1024) -> bytes:
    """Many central-directory entries all pointing at one local header whose stream inflates
    to 900 KB (under the ratio check's threshold), each declaring 100 bytes: 72 MB in all."""
    body = bytearray()
    directory = bytearray()
    members = workbook_members()
    for member in members:
        local, payload, central = _headers(member, len(body))
        body += local + payload
        directory += central
    shared = Member("xl/media/image.png", bytes(size), declared_size=100)
    local, payload, _ = _headers(shared, len(body))
    offset = len(body)
    body += local + payload
    for index in range(entries):
        alias = Member(f"xl/media/image{index:03d}.png", shared.data, declared_size=100)
        directory += _headers(alias, offset)[2]
    total = len(members) + entries
    return bytes(body + directory + _end_record(total, directory, len(body)))


def bomb_nested(width: int = 16, megabytes: int = 4) -> bytes:
    """42.zip in small: an embedded zip of 16 zips of 16 members of 4 MB of zeros (1 GB), which
    the form's own members do not reveal."""
    zeros = ((bytes(_MEGABYTE), megabytes),)
    inner = zip_bytes([Member(f"{index:02d}.bin", pieces=zeros) for index in range(width)])
    middle = zip_bytes([Member(f"{index:02d}.zip", inner) for index in range(width)])
    return zip_bytes(
        [*workbook_members(), Member("xl/embeddings/Microsoft_Excel_Worksheet.xlsx", middle)]
    )


# --- XML attacks ---------------------------------------------------------------------------------

LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{level} "{("&lol" + str(level - 1) + ";") * 10}">'.replace("&lol0;", "&lol;")
        for level in range(1, 10)
    )
    + "]>"
)
XXE = '<!DOCTYPE data [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
EXTERNAL_DTD = '<!DOCTYPE Types SYSTEM "http://127.0.0.1:9/evil.dtd">'


def _with_dtd(xml: str, dtd: str) -> str:
    return xml.replace(_XML_DECLARATION, _XML_DECLARATION + dtd, 1)


def xml_attack(part: str, dtd: str, entity: str) -> Callable[[], bytes]:
    """A form with `dtd` in one part and `entity` used where the part holds text."""

    def build() -> bytes:
        if part == "sheet":
            rows = [list(row) for row in _ROWS]
            rows[2][2] = "@@ENTITY@@"
            text = _with_dtd(sheet_xml(rows), dtd).replace("@@ENTITY@@", entity)
        elif part == "shared_strings":
            text = _with_dtd(shared_strings_xml([*_LABELS[:-1], "@@ENTITY@@"]), dtd)
            text = text.replace("@@ENTITY@@", entity)
        elif part == "workbook":
            text = _with_dtd(workbook_xml("@@ENTITY@@"), dtd).replace("@@ENTITY@@", entity)
        else:
            text = _with_dtd(_CONTENT_TYPES, dtd)
        return zip_bytes(workbook_members(**{part: text}))

    return build


# --- what would make calamine allocate without bound ----------------------------------------------


def far_cell() -> bytes:
    """One value at XFD1048576: calamine's dense grid would be 17 billion cells."""
    far = '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    return zip_bytes(workbook_members(sheet=sheet_xml(extra_rows=far)))


def implicit_cells(rows: int = 5_000) -> bytes:
    """Cells without `r`: one at XFD13, then 5,000 rows placed only by counting `</row>`."""
    filler = "".join(f"<row><c><v>{number}</v></c></row>" for number in range(rows))
    far = '<row r="13"><c r="XFD13"><v>1</v></c></row>' + filler
    return zip_bytes(workbook_members(sheet=sheet_xml(extra_rows=far)))


def shared_strings_count() -> bytes:
    """sharedStrings.xml declaring 4,000,000,000 unique strings, which calamine reserves."""
    return zip_bytes(workbook_members(shared_strings=shared_strings_xml(unique_count="4000000000")))


# --- the corpus -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One corpus file, what it is, and what its F1 message must say."""

    file_name: str
    build: Callable[[], bytes]
    expect: str
    description: str


_CSV = "Mã chỉ tiêu,Giá trị\nmembers,14\nmembers_attended,13\n".encode()
_PDF = (
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)
_HTML = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Báo cáo</title></head><body>'
    "<table><tr><td>Mã chỉ tiêu</td><td>Giá trị</td></tr><tr><td>members</td><td>14</td></tr>"
    "</table></body></html>"
).encode()
_DTD_WORDS = "khai báo DOCTYPE/ENTITY"
_BOMB_WORDS = "dung lượng sau giải nén vượt quá 50 MB"

CASES: tuple[Case, ...] = (
    Case("empty.xlsx", lambda: b"", "tệp rỗng (0 byte)", "0 bytes"),
    Case(
        "random-bytes.xlsx",
        lambda: random.Random(2025).randbytes(4096),
        "không nhận ra định dạng",
        "4 KB of random bytes",
    ),
    Case("csv-renamed.xlsx", lambda: _CSV, "tệp CSV", "a UTF-8 CSV file renamed .xlsx"),
    Case("pdf-renamed.xlsx", lambda: _PDF, "văn bản PDF", "a PDF file renamed .xlsx"),
    Case("html-renamed.xlsx", lambda: _HTML, "trang web (HTML)", "an HTML table renamed .xlsx"),
    Case(
        "old-xls.xlsx",
        old_xls,
        "Excel cũ (.xls",
        "an OLE2 compound file with a BIFF8 `Workbook` stream (Excel 97–2003)",
    ),
    Case(
        "encrypted.xlsx",
        encrypted_workbook,
        "đặt mật khẩu (bảng tính bị mã hoá)",
        "a password-protected workbook: OLE2 with EncryptionInfo and EncryptedPackage streams",
    ),
    Case(
        "zip-not-workbook.xlsx",
        lambda: zip_bytes([Member("bao-cao.txt", "Báo cáo quý III".encode())]),
        "không chứa bảng tính Excel",
        "a valid zip holding a text file",
    ),
    Case("word-renamed.xlsx", word_document, "văn bản Word (.docx)", "a .docx renamed .xlsx"),
    Case("ods-renamed.xlsx", ods_spreadsheet, "OpenDocument (.ods)", "an .ods renamed .xlsx"),
    Case(
        "zip-password.xlsx",
        password_zip,
        "tệp nén có đặt mật khẩu",
        "the workbook's members with the zip encryption flag set",
    ),
    Case(
        "truncated.xlsx",
        truncated,
        "chưa được tải về, sao chép trọn vẹn",
        "the first half of a valid workbook (no central directory)",
    ),
    Case(
        "corrupt-deflate.xlsx",
        corrupt_deflate,
        "chưa được tải về, sao chép trọn vẹn",
        "a valid workbook whose sheet's deflate stream is damaged",
    ),
    Case(
        "bomb-declared-size.xlsx",
        bomb_declared,
        _BOMB_WORDS,
        "(a) honest headers: a 64 MB member of zeros, declared as 64 MB",
    ),
    Case(
        "bomb-lying-sizes.xlsx",
        bomb_lying,
        _BOMB_WORDS,
        "(b) the sheet's local header and central directory declare 1 KB; its deflate stream "
        "inflates to 200 MB",
    ),
    Case(
        "bomb-high-ratio.xlsx",
        bomb_ratio,
        "nén hơn 200 lần",
        "(d) honest headers under 50 MB, but a 2 MB member compressed 1,000:1",
    ),
    Case(
        "bomb-many-members.xlsx",
        bomb_many_members,
        "quá nhiều thành phần",
        "(c) the workbook plus 1,500 empty members",
    ),
    Case(
        "bomb-overlapping.xlsx",
        bomb_overlapping,
        _BOMB_WORDS,
        "(b/c) 80 central-directory entries declaring 100 bytes each, all pointing at one "
        "stream that inflates to 900 KB",
    ),
    Case(
        "bomb-nested.xlsx",
        bomb_nested,
        "tệp nén lồng nhau",
        "(d) an embedded zip of 16 zips of 16 x 4 MB of zeros (1 GB)",
    ),
    Case(
        "xml-laughs-sheet.xlsx",
        xml_attack("sheet", LAUGHS, "&lol9;"),
        _DTD_WORDS,
        "billion laughs (10^9 `lol`) in xl/worksheets/sheet1.xml, used in cell C3",
    ),
    Case(
        "xml-laughs-shared-strings.xlsx",
        xml_attack("shared_strings", LAUGHS, "&lol9;"),
        _DTD_WORDS,
        "billion laughs in xl/sharedStrings.xml",
    ),
    Case(
        "xml-laughs-workbook.xlsx",
        xml_attack("workbook", LAUGHS, "&lol9;"),
        _DTD_WORDS,
        "billion laughs in xl/workbook.xml, used as the sheet name",
    ),
    Case(
        "xml-xxe-sheet.xlsx",
        xml_attack("sheet", XXE, "&xxe;"),
        _DTD_WORDS,
        "external entity file:///etc/passwd in xl/worksheets/sheet1.xml, used in cell C3",
    ),
    Case(
        "xml-xxe-shared-strings.xlsx",
        xml_attack("shared_strings", XXE, "&xxe;"),
        _DTD_WORDS,
        "external entity file:///etc/passwd in xl/sharedStrings.xml",
    ),
    Case(
        "xml-xxe-workbook.xlsx",
        xml_attack("workbook", XXE, "&xxe;"),
        _DTD_WORDS,
        "external entity file:///etc/passwd in xl/workbook.xml, used as the sheet name",
    ),
    Case(
        "xml-external-dtd.xlsx",
        xml_attack("content_types", EXTERNAL_DTD, ""),
        _DTD_WORDS,
        "an external DTD (http://127.0.0.1:9/evil.dtd) in [Content_Types].xml",
    ),
    Case(
        "sheet-far-cell.xlsx",
        far_cell,
        "ô dữ liệu ở vị trí bất thường",
        "one value at XFD1048576 (calamine would allocate 550 GB and abort the process)",
    ),
    Case(
        "sheet-implicit-cells.xlsx",
        implicit_cells,
        "ô dữ liệu ở vị trí bất thường",
        "a value at XFD13 and 5,000 rows of cells without `r` (82 million cells, 2.6 GB)",
    ),
    Case(
        "shared-strings-count.xlsx",
        shared_strings_count,
        "sharedStrings.xml",
        'sharedStrings.xml with uniqueCount="4000000000" (calamine reserves it and aborts)',
    ),
)


def write_corpus(folder: Path = CORPUS_DIR) -> list[Path]:
    """Write every corpus file into `folder`; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for case in CASES:
        path = folder / case.file_name
        path.write_bytes(case.build())
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in write_corpus(Path(sys.argv[1]) if len(sys.argv) > 1 else CORPUS_DIR):
        print(f"{written.stat().st_size:>9,} {written.name}")
