"""The web portal (FastAPI, Jinja2 templates, no JavaScript): a unit opens its personal link,
downloads its form, uploads it and reads the official answer at once; an upper level follows its
subtree's progress and downloads its drafted report and its own workbook; an operator signs in
and opens every published file and the Data Docs. Nothing of a unit is shown to anyone but the
unit itself, the units above it and operators.

The portal records nothing by itself: an uploaded form is put into the unit's inbox folder and
the collection given to `create_app` (the `collect` flow, from the command line) reads, checks
and stores it under the run lock, as every form is; the page then shows what was recorded.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles

from tonghop.catalogue import label_vi
from tonghop.config import Settings
from tonghop.consolidation import STATUS_LABELS_VI
from tonghop.context import local_now
from tonghop.errors import TonghopError
from tonghop.formatting import format_bytes, format_count, format_date, format_datetime
from tonghop.forms import write_form_in_place
from tonghop.layout import blank_form_name
from tonghop.periods import Period
from tonghop.portal import access, views
from tonghop.portal.uploads import UploadLimit, save_upload
from tonghop.problems import SEVERITY_LABELS_VI
from tonghop.storage import load_sql, transaction

SESSION_COOKIE = "tonghop_phien"
UPLOAD_PATH = "/don-vi/nop"
LOGIN_PATH = "/dang-nhap"
# The pages are self-contained: no script, style or frame from anywhere else, and forms post
# only back here. The Data Docs (GX's own pages, with their inline scripts) get their own.
PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
DATA_DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; frame-ancestors 'none'"
)
WRONG_LINK_VI = (
    "Đường liên kết không đúng hoặc đã hết hiệu lực. Đề nghị dùng đường liên kết mới nhất trong "
    "thư gửi mẫu biểu của đơn vị, hoặc liên hệ Ban Tuyên giáo để được cấp lại."
)
TOO_MANY_VI = "Có quá nhiều lần thử không đúng từ máy này. Đề nghị chờ một phút rồi thử lại."


@dataclass(frozen=True)
class PortalConfig:
    """What the portal runs with: the settings, the period it collects (None: the quarter that
    just ended, each time a page is opened) and the collection it runs after an upload."""

    settings: Settings
    collect: Callable[[Period], object]
    period: Period | None = None


class Refusal(Exception):
    """A request the portal answers with a Vietnamese page and this status code."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


def _templates() -> Environment:
    environment = Environment(
        loader=PackageLoader("tonghop.portal", "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        date=format_date,
        datetime=format_datetime,
        count=format_count,
        size=format_bytes,
        status=lambda outcome: STATUS_LABELS_VI.get(outcome, outcome),
        standing=lambda key: views.STANDING_LABELS_VI.get(key, key),
        severity=lambda key: SEVERITY_LABELS_VI.get(key, key),
        indicator=label_vi,
    )
    return environment


def create_app(config: PortalConfig) -> FastAPI:
    """The portal's application for one workspace and database."""
    settings = config.settings
    workspace = settings.layout
    url = settings.resolved_database_url
    templates = _templates()
    limiter = access.AttemptLimiter(settings.web_attempts_per_minute)
    secure_cookie = (settings.web_public_url or "").startswith("https://")
    app = FastAPI(title="Tổng hợp", docs_url=None, redoc_url=None, openapi_url=None)

    def now() -> datetime:
        return local_now(settings.timezone)

    def open_period() -> Period:
        return config.period or Period.just_ended(now().date())

    def page(name: str, status: int = 200, **values: Any) -> HTMLResponse:
        values.setdefault("visitor", None)
        body = templates.get_template(name).render(**values)
        return HTMLResponse(body, status_code=status)

    def refusal_page(refusal: Refusal, visitor: access.Visitor | None = None) -> HTMLResponse:
        return page(
            "message.html",
            refusal.status,
            title=refusal.title,
            message=refusal.message,
            visitor=visitor,
        )

    async def too_large(scope, receive, send) -> None:
        megabytes = settings.web_max_upload_bytes / (1024 * 1024)
        response = refusal_page(
            Refusal(
                413,
                "Tệp quá lớn",
                f"Tệp gửi lên lớn hơn giới hạn {megabytes:g} MB nên không được nhận. Một mẫu "
                "biểu báo cáo chỉ vài chục KB: đề nghị kiểm tra lại đúng tệp .xlsx của đơn vị.",
            )
        )
        response.headers["Connection"] = "close"
        await response(scope, receive, send)

    app.add_middleware(
        UploadLimit,
        max_bytes=settings.web_max_upload_bytes,
        paths=(UPLOAD_PATH,),
        too_large=too_large,
    )

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        data_docs = request.url.path.startswith("/van-hanh/data-docs/")
        response.headers["Content-Security-Policy"] = DATA_DOCS_POLICY if data_docs else PAGE_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        # The personal link is in the address a unit opens: never passed on to another site.
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(Refusal)
    async def refused(request: Request, refusal: Refusal) -> HTMLResponse:
        return refusal_page(refusal, _visitor_or_none(request))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> HTMLResponse:
        if error.status_code == 405:
            return refusal_page(Refusal(405, "Không thực hiện được", "Thao tác không hợp lệ."))
        return refusal_page(
            Refusal(error.status_code, "Không tìm thấy trang", "Trang này không có trên cổng.")
        )

    @app.exception_handler(Exception)
    async def failed(request: Request, error: Exception) -> HTMLResponse:
        message = (
            str(error)
            if isinstance(error, TonghopError)
            else (
                "Hệ thống gặp sự cố khi xử lý yêu cầu; không có gì bị mất. Đề nghị thử lại sau ít "
                "phút hoặc liên hệ Ban Tuyên giáo."
            )
        )
        return refusal_page(Refusal(500, "Có sự cố", message))

    def _visitor_or_none(request: Request) -> access.Visitor | None:
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            return None
        with transaction(url) as connection:
            return access.find_session(connection, token, now())

    def visitor_of(request: Request, *, operator: bool = False) -> access.Visitor:
        found = _visitor_or_none(request)
        if found is None or (operator and not found.is_operator):
            if operator:
                raise Refusal(
                    401, "Cần đăng nhập", "Trang này dành cho cán bộ vận hành: đề nghị đăng nhập."
                )
            raise Refusal(
                401,
                "Cần mở đường liên kết của đơn vị",
                "Để xem trang của đơn vị, đề nghị mở đường liên kết riêng của đơn vị trong thư "
                "gửi mẫu biểu (phiên làm việc có thể đã hết hạn).",
            )
        return found

    def unit_visitor(request: Request) -> access.Visitor:
        found = visitor_of(request)
        if found.unit_code is None:
            raise Refusal(
                403, "Không có quyền", "Trang này dành cho đơn vị mở bằng đường liên kết."
            )
        return found

    def check_csrf(visitor: access.Visitor, sent: object) -> None:
        if not isinstance(sent, str) or not hmac.compare_digest(sent, visitor.csrf):
            raise Refusal(
                403,
                "Yêu cầu không hợp lệ",
                "Yêu cầu này không xuất phát từ trang của cổng thông tin nên không được thực "
                "hiện. Đề nghị mở lại trang rồi thao tác lại.",
            )

    def client(request: Request) -> str:
        return request.client.host if request.client else "?"

    def may_see(visitor: access.Visitor, unit_code: str) -> bool:
        if visitor.is_operator:
            return True
        with transaction(url) as connection:
            return views.is_below(connection, unit_code, visitor.unit_code)

    def not_found() -> Refusal:
        return Refusal(404, "Không tìm thấy", "Không có nội dung này, hoặc đơn vị không được xem.")

    def set_session(response: Response, token: str) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=int(settings.web_session_hours * 3600),
            httponly=True,
            samesite="lax",
            secure=secure_cookie,
            path="/",
        )

    # ---- pages everyone may open -------------------------------------------------------

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        visitor = _visitor_or_none(request)
        if visitor is not None:
            return RedirectResponse("/van-hanh" if visitor.is_operator else "/don-vi", 303)
        return page("home.html")

    @app.get("/u/{secret}")
    def open_link(secret: str, request: Request) -> Response:
        address = client(request)
        if limiter.blocked(address):
            raise Refusal(429, "Tạm dừng", TOO_MANY_VI)
        with transaction(url) as connection:
            link = access.find_link(connection, secret, now())
            if link is None:
                limiter.failed(address)
                raise Refusal(404, "Đường liên kết không hợp lệ", WRONG_LINK_VI)
            token, _ = access.open_session(connection, now(), settings.web_session_hours, link=link)
        # The secret leaves the address bar at once: the next address holds nothing of it.
        response = RedirectResponse("/don-vi", 303)
        set_session(response, token)
        return response

    @app.get("/static/portal.css")
    def stylesheet() -> FileResponse:
        response = FileResponse(
            Path(__file__).parent / "static" / "portal.css", media_type="text/css"
        )
        response.headers["Cache-Control"] = "max-age=3600"
        return response

    @app.get(LOGIN_PATH, response_class=HTMLResponse)
    def login_page() -> HTMLResponse:
        return page("login.html")

    @app.post(LOGIN_PATH)
    async def login(request: Request) -> Response:
        address = client(request)
        if limiter.blocked(address):
            raise Refusal(429, "Tạm dừng", TOO_MANY_VI)
        form = await request.form(max_files=0, max_fields=4)
        user, password = str(form.get("ten", "")).strip(), str(form.get("mat_khau", ""))
        if not await run_in_threadpool(
            access.check_password, settings.web_operators, user, password
        ):
            limiter.failed(address)
            return page(
                "login.html", 401, error="Tên đăng nhập hoặc mật khẩu không đúng.", user=user
            )
        with transaction(url) as connection:
            token, _ = access.open_session(
                connection, now(), settings.web_session_hours, operator=user
            )
        response = RedirectResponse("/van-hanh", 303)
        set_session(response, token)
        return response

    @app.post("/dang-xuat")
    async def logout(request: Request) -> Response:
        visitor = visitor_of(request)
        form = await request.form(max_files=0, max_fields=2)
        check_csrf(visitor, form.get("csrf"))
        with transaction(url) as connection:
            access.close_session(connection, request.cookies[SESSION_COOKIE], now())
        response = RedirectResponse("/", 303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # ---- a unit's pages ----------------------------------------------------------------

    @app.get("/don-vi", response_class=HTMLResponse)
    def unit_home(request: Request) -> HTMLResponse:
        visitor = unit_visitor(request)
        period = open_period()
        with transaction(url) as connection:
            unit = views.find_unit(connection, visitor.unit_code)
            if unit is None:
                raise not_found()
            parent = views.find_unit(connection, unit.parent_code) if unit.parent_code else None
            versions = views.unit_versions(connection, unit.code, period, workspace)
            upper = views.has_children(connection, unit.code)
            progress = (
                views.subtree_progress(connection, unit.code, period, settings.deadline_days)
                if upper
                else None
            )
            figures = views.own_figures(connection, unit.code, period) if upper else None
        version = figures.version if figures else None
        reports = views.drafted_reports(workspace, period, version)
        workbook = views.unit_workbook(workspace, period, version, unit) if upper else None
        return page(
            "unit.html",
            visitor=visitor,
            unit=unit,
            parent=parent,
            period=period,
            deadline=period.deadline(settings.deadline_days),
            versions=list(reversed(versions)),
            progress=progress,
            figures=figures,
            report=reports.get(unit.code),
            workbook=workbook,
            max_megabytes=settings.web_max_upload_bytes / (1024 * 1024),
        )

    @app.get("/don-vi/mau-bieu")
    def blank_form(request: Request) -> FileResponse:
        visitor = unit_visitor(request)
        period = open_period()
        with transaction(url) as connection:
            unit = views.find_unit(connection, visitor.unit_code)
            if unit is None:
                raise not_found()
            upper = views.has_children(connection, unit.code)
        path = workspace.forms_folder(period) / blank_form_name(unit.code, period)
        if not path.is_file():
            # The forms of the period were not issued yet: this unit's is written now, the
            # same form `issue_forms` writes.
            path.parent.mkdir(parents=True, exist_ok=True)
            write_form_in_place((path, unit, period, upper))
        return _download(path)

    @app.post(UPLOAD_PATH)
    async def upload(request: Request) -> Response:
        visitor = unit_visitor(request)
        form = await request.form(max_files=1, max_fields=3)
        check_csrf(visitor, form.get("csrf"))
        sent = form.get("tep")
        if not isinstance(sent, UploadFile) or not sent.filename:
            raise Refusal(
                400, "Chưa chọn tệp", "Đề nghị chọn tệp báo cáo (.xlsx) rồi bấm «Gửi báo cáo»."
            )
        content = await sent.read()
        if not content:
            raise Refusal(400, "Tệp rỗng", f"Tệp «{sent.filename}» không có nội dung (0 byte).")
        return await run_in_threadpool(_receive, visitor.unit_code, sent.filename, content)

    def _receive(unit_code: str, sent_name: str, content: bytes) -> Response:
        checksum = hashlib.sha256(content).hexdigest()
        recorded = _recorded(unit_code, checksum)
        if recorded is not None:
            # The same bytes again: no new version, the answer already given stands.
            return RedirectResponse(f"/don-vi/lan-nop/{recorded}?trung=1", 303)
        save_upload(workspace.inbox, unit_code, sent_name, content)
        try:
            config.collect(open_period())
        except TonghopError as error:
            raise Refusal(
                503,
                "Đã lưu tệp, chưa xử lý được",
                "Tệp đã được lưu an toàn và sẽ được kiểm tra ở lần thu thập sau; kết quả được "
                f"gửi qua thư điện tử. Lý do: {error}",
            ) from error
        recorded = _recorded(unit_code, checksum)
        if recorded is None:
            raise Refusal(
                503,
                "Đã lưu tệp, chưa xử lý được",
                "Tệp đã được lưu an toàn và sẽ được kiểm tra ở lần thu thập sau; kết quả được "
                "gửi qua thư điện tử.",
            )
        return RedirectResponse(f"/don-vi/lan-nop/{recorded}", 303)

    def _recorded(unit_code: str, checksum: str) -> str | None:
        with transaction(url) as connection:
            row = connection.execute(
                text(load_sql("select_submission_by_checksum")),
                {"unit_code": unit_code, "sha256": checksum},
            ).first()
        return None if row is None else row.id

    def _own_version(visitor: access.Visitor, submission_id: str) -> tuple[Period, views.Version]:
        with transaction(url) as connection:
            owner = connection.execute(
                text(load_sql("select_submission_owner")), {"id": submission_id}
            ).first()
            if owner is None or owner.unit_code != visitor.unit_code:
                raise not_found()
            period = Period.parse(owner.period)
            versions = views.unit_versions(connection, owner.unit_code, period, workspace)
        return period, next(version for version in versions if version.id == submission_id)

    @app.get("/don-vi/lan-nop/{submission_id}", response_class=HTMLResponse)
    def submission_page(submission_id: str, request: Request, trung: int = 0) -> HTMLResponse:
        visitor = unit_visitor(request)
        period, version = _own_version(visitor, submission_id)
        with transaction(url) as connection:
            unit = views.find_unit(connection, visitor.unit_code)
        return page(
            "result.html",
            visitor=visitor,
            unit=unit,
            period=period,
            version=version,
            duplicate=bool(trung),
            max_megabytes=settings.web_max_upload_bytes / (1024 * 1024),
        )

    @app.get("/don-vi/phan-hoi/{submission_id}")
    def feedback(submission_id: str, request: Request) -> FileResponse:
        visitor = unit_visitor(request)
        _, version = _own_version(visitor, submission_id)
        if version.feedback is None:
            raise not_found()
        return _download(version.feedback)

    # ---- an upper level's pages (and an operator's) -------------------------------------

    @app.get("/tien-do/{unit_code}", response_class=HTMLResponse)
    def progress_page(unit_code: str, request: Request) -> HTMLResponse:
        visitor = visitor_of(request)
        if not may_see(visitor, unit_code):
            raise not_found()
        period = open_period()
        with transaction(url) as connection:
            unit = views.find_unit(connection, unit_code)
            if unit is None:
                raise not_found()
            parent = views.find_unit(connection, unit.parent_code) if unit.parent_code else None
            progress = views.subtree_progress(connection, unit_code, period, settings.deadline_days)
        return page(
            "progress.html",
            visitor=visitor,
            unit=unit,
            parent=parent,
            period=period,
            deadline=period.deadline(settings.deadline_days),
            progress=progress,
            listed_max=views.MAX_LISTED_UNITS,
        )

    @app.get("/bao-cao/{unit_code}/{period_text}/{version}")
    def report(unit_code: str, period_text: str, version: int, request: Request) -> FileResponse:
        visitor = visitor_of(request)
        if not may_see(visitor, unit_code):
            raise not_found()
        period = _period_or_404(period_text)
        found = views.drafted_reports(workspace, period, version).get(unit_code)
        if found is None:
            raise not_found()
        return _download(found)

    @app.get("/bang-tong-hop/{unit_code}/{period_text}/{version}")
    def unit_workbook(
        unit_code: str, period_text: str, version: int, request: Request
    ) -> FileResponse:
        visitor = visitor_of(request)
        if not may_see(visitor, unit_code):
            raise not_found()
        period = _period_or_404(period_text)
        with transaction(url) as connection:
            unit = views.find_unit(connection, unit_code)
        found = views.unit_workbook(workspace, period, version, unit) if unit else None
        if found is None:
            raise not_found()
        return _download(found)

    # ---- an operator's pages -----------------------------------------------------------

    @app.get("/van-hanh", response_class=HTMLResponse)
    def operator_home(request: Request) -> HTMLResponse:
        visitor = visitor_of(request, operator=True)
        with transaction(url) as connection:
            root = views.find_root(connection)
        return page(
            "operator.html",
            visitor=visitor,
            periods=views.published_periods(workspace),
            open_period=open_period(),
            root=root,
            data_docs=workspace.data_docs_index.is_file(),
        )

    @app.get("/van-hanh/ky/{period_text}", response_class=HTMLResponse)
    def period_files(period_text: str, request: Request) -> HTMLResponse:
        visitor = visitor_of(request, operator=True)
        period = _period_or_404(period_text)
        return page(
            "period_files.html",
            visitor=visitor,
            period=period,
            files=views.published_listing(workspace, period),
        )

    @app.get("/van-hanh/tep/{period_text}/{relative:path}")
    def published_file(period_text: str, relative: str, request: Request) -> FileResponse:
        visitor_of(request, operator=True)
        period = _period_or_404(period_text)
        listed = {item.relative for item in views.published_listing(workspace, period)}
        # Only a file the listing shows: no path of the request's own reaches the disk.
        if relative not in listed:
            raise not_found()
        return _download(workspace.published_folder(period) / relative)

    data_docs = StaticFiles(directory=workspace.data_docs_index.parent, check_dir=False, html=True)

    @app.get("/van-hanh/data-docs/{relative:path}")
    async def data_docs_page(relative: str, request: Request) -> Response:
        await run_in_threadpool(visitor_of, request, operator=True)
        if not workspace.data_docs_index.is_file():
            raise Refusal(404, "Chưa có trang kết quả kiểm tra", "Chưa có lần kiểm tra nào.")
        scope = dict(request.scope, path="/" + (relative or "index.html"))
        return await data_docs.get_response(relative or "index.html", scope)

    def _period_or_404(period_text: str) -> Period:
        try:
            return Period.parse(period_text)
        except ValueError as error:
            raise not_found() from error

    return app


def _download(path: Path) -> FileResponse:
    """A file to save, under its own name (Vietnamese letters kept, RFC 5987)."""
    return FileResponse(path, filename=path.name, content_disposition_type="attachment")
