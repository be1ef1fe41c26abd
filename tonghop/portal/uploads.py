"""A form uploaded on the portal enters the product where every other form does: it is written
whole into the unit's inbox folder under a name of its own (never the path the browser sent),
and the collection the portal then runs reads, checks and records it like any other file. The
request body is cut off once it passes the size limit, while it streams, before it is parsed."""

from __future__ import annotations

import os
import re
import threading
import unicodedata
import uuid
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tonghop.layout import check_code

# What stays of the name the browser sent: letters of any script, digits and a few signs.
_UNSAFE = re.compile(r"[^\w .()+,-]", re.UNICODE)
MAX_NAME_CHARS = 120


def safe_file_name(sent: str | None) -> str:
    """The last part of the sent name, whichever separator the sender's system uses, without
    control characters or anything that could leave the folder; `bao-cao.xlsx` when nothing is
    left. Dots that would hide the file are removed."""
    name = unicodedata.normalize("NFC", (sent or "").replace("\\", "/").split("/")[-1])
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C")
    name = _UNSAFE.sub("_", name).strip(" .")
    if len(name) > MAX_NAME_CHARS:
        stem, suffix = os.path.splitext(name)
        name = stem[: MAX_NAME_CHARS - len(suffix)] + suffix
    return name or "bao-cao.xlsx"


# Choosing a free name and moving the file there is one step for the portal's threads.
_naming = threading.Lock()


def save_upload(inbox: Path, unit_code: str, sent_name: str | None, content: bytes) -> Path:
    """Write the upload into `inbox/<unit>/` under the name it was sent with (made safe; `… (2)`
    when the unit already has a file of that name), first under a hidden name and then renamed
    into place: the collector, which passes over hidden files, never reads half of it."""
    folder = Path(inbox) / check_code(unit_code)
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{uuid.uuid4().hex}.partial"
    with partial.open("xb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    stem, suffix = os.path.splitext(safe_file_name(sent_name))
    with _naming:
        target, number = folder / f"{stem}{suffix}", 1
        while target.exists():
            number += 1
            target = folder / f"{stem} ({number}){suffix}"
        os.replace(partial, target)
    return target


class BodyTooLarge(Exception):
    """The request body went past the limit (raised from the body's stream)."""


class UploadLimit:
    """ASGI middleware: a request to one of `paths` whose body is larger than `max_bytes` is
    answered by `too_large` (413) — at once when its Content-Length says so, else as soon as
    the streamed body passes the limit; nothing past it is read."""

    def __init__(self, app: ASGIApp, max_bytes: int, paths: tuple[str, ...], too_large) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.paths = paths
        self.too_large = too_large

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        # a multipart body carries some hundreds of bytes of framing around the file
        limit = self.max_bytes + 64 * 1024
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self.too_large(scope, receive, send)
            return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self.too_large(scope, receive, send)
