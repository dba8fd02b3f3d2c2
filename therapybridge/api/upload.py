"""Streaming multipart parser for uploads: the file part goes to disk chunk by chunk, never whole
into memory, and the size cap is enforced while the bytes arrive (a 413 long before a huge file has
been read). Starlette's own form parser reads the whole body before the endpoint runs, which is
exactly what an upload cap must not allow.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from typing import BinaryIO

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

MAX_FIELDS = 16
MAX_FIELD_BYTES = 4096
MAX_HEADER_BYTES = 8192  # one part header (name and value); they accumulate in memory
MAX_EPILOGUE_BYTES = 4096  # after the closing boundary: a smuggled payload, not a form
FLUSH_BYTES = 1 << 20  # write to disk in ~1 MiB batches, off the event loop


HEADER_TOO_LONG = "a multipart part header is too long (keep the file name under 255 characters)"


class UploadTooLarge(Exception):
    pass


class BadUpload(Exception):
    """A malformed or incomplete multipart body (400)."""


@dataclass
class ParsedUpload:
    fields: dict[str, str] = field(default_factory=dict)
    filename: str | None = None  # as the client named it (base name only)
    size: int = 0


def boundary_of(content_type: str | None) -> bytes:
    ctype, params = parse_options_header(content_type or "")
    if ctype != b"multipart/form-data" or not params.get(b"boundary"):
        raise BadUpload("expected a multipart/form-data body with a 'file' part")
    return params[b"boundary"]


def client_filename(raw: str) -> str:
    """Browsers may send a full path (C:\\fakepath\\x.mp3): keep the base name, bounded."""
    name = PureWindowsPath(raw).name
    return Path(name).name[-255:]


class _Receiver:
    def __init__(self, file_field: str, dest: Path, max_bytes: int, on_filename: Callable[[str], None]) -> None:
        self.file_field, self.dest, self.max_bytes, self.on_filename = file_field, dest, max_bytes, on_filename
        self.result = ParsedUpload()
        self.ended = False
        self.pending: list[bytes] = []
        self.pending_bytes = 0
        self.fh: BinaryIO | None = None
        self._headers: dict[bytes, bytes] = {}
        self._hname = b""
        self._hvalue = b""
        self._part: str | None = None  # "file", a field name, or None
        self._field_buf = bytearray()
        self._in_file = False

    # --- python-multipart callbacks (synchronous; they only collect) ----------------------------
    def on_part_begin(self) -> None:
        self._headers, self._part, self._in_file = {}, None, False
        self._field_buf = bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._hname += data[start:end]
        self._header_cap()

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._hvalue += data[start:end]
        self._header_cap()

    def _header_cap(self) -> None:
        if len(self._hname) + len(self._hvalue) > MAX_HEADER_BYTES or len(self._headers) > 16:
            raise BadUpload(HEADER_TOO_LONG)

    def on_header_end(self) -> None:
        self._headers[self._hname.lower()] = self._hvalue
        self._hname, self._hvalue = b"", b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = _decode(options.get(b"name"))
        if name is None:
            raise BadUpload("a multipart part has no name")
        if b"filename" in options:
            if name != self.file_field:
                raise BadUpload(f"unexpected file field '{name[:40]}': send the audio as '{self.file_field}'")
            if self.result.filename is not None:
                raise BadUpload("send exactly one file")
            self.result.filename = client_filename(_decode(options[b"filename"]) or "")
            self.on_filename(self.result.filename)  # may reject the type before any byte is stored
            self.dest.parent.mkdir(parents=True, exist_ok=True)
            self.fh = open(self.dest, "wb")  # noqa: SIM115  (closed in receive_upload)
            self._in_file = True
        else:
            if len(self.result.fields) >= MAX_FIELDS:
                raise BadUpload("too many form fields")
            self._part = name

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        n = end - start
        if self._in_file:
            self.result.size += n
            if self.result.size > self.max_bytes:
                raise UploadTooLarge()
            self.pending.append(data[start:end])
            self.pending_bytes += n
        else:
            if len(self._field_buf) + n > MAX_FIELD_BYTES:
                raise BadUpload(f"form field '{(self._part or '')[:40]}' is too long")
            self._field_buf += data[start:end]

    def on_part_end(self) -> None:
        if not self._in_file and self._part is not None:
            value = _decode(bytes(self._field_buf))
            if value is None:
                raise BadUpload(f"form field '{self._part[:40]}' is not UTF-8 text")
            self.result.fields[self._part] = value
        self._in_file = False

    def on_end(self) -> None:
        self.ended = True

    # --- disk ------------------------------------------------------------------------------------
    async def flush(self, force: bool = False) -> None:
        if self.fh is None or not self.pending or (self.pending_bytes < FLUSH_BYTES and not force):
            return
        data, self.pending, self.pending_bytes = b"".join(self.pending), [], 0
        await asyncio.to_thread(self.fh.write, data)


def _decode(raw: bytes | None) -> str | None:
    if raw is None:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


async def receive_upload(
    stream: AsyncIterator[bytes],
    content_type: str | None,
    dest: Path,
    max_bytes: int,
    *,
    file_field: str = "file",
    on_filename: Callable[[str], None] = lambda _name: None,
) -> ParsedUpload:
    """Parse a multipart body from `stream`, writing the file part to `dest`.

    Raises UploadTooLarge past `max_bytes` of file data, BadUpload for malformed or incomplete bodies,
    and whatever `on_filename` raises. The caller removes `dest` on any error.
    """
    rx = _Receiver(file_field, dest, max_bytes, on_filename)
    parser = MultipartParser(
        boundary_of(content_type),
        {
            "on_part_begin": rx.on_part_begin,
            "on_part_data": rx.on_part_data,
            "on_part_end": rx.on_part_end,
            "on_header_field": rx.on_header_field,
            "on_header_value": rx.on_header_value,
            "on_header_end": rx.on_header_end,
            "on_headers_finished": rx.on_headers_finished,
            "on_end": rx.on_end,
        },
    )
    trailing = 0
    try:
        async for chunk in stream:
            if not chunk:
                continue
            if rx.ended:  # read to the end, so a body cannot hide anything after its closing boundary
                trailing += len(chunk)
                if trailing > MAX_EPILOGUE_BYTES:
                    raise BadUpload("unexpected data after the end of the multipart body")
                continue
            try:
                parser.write(chunk)
            except FormParserError as exc:
                if "header size" in str(exc):  # python-multipart's own cap on one part header
                    raise BadUpload(HEADER_TOO_LONG) from None
                raise BadUpload("the multipart body is malformed") from None
            await rx.flush()
        if not rx.ended:
            raise BadUpload("the upload ended before the multipart body was complete")
        await rx.flush(force=True)
    finally:
        if rx.fh is not None:
            with contextlib.suppress(OSError):
                rx.fh.close()
    return rx.result
