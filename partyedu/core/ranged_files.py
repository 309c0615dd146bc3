"""Serving a stored file with HTTP byte ranges (``Range: bytes=a-b``, RFC 9110 §14): phones — iOS
above all — play a video only when the server lets them fetch it piece by piece, and seeking then
costs the piece, not the whole file. One satisfiable range is answered with 206 and the bytes
streamed; an unsatisfiable one with 416; no range (or a malformed one) with the whole file.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterator
from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header

RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
# Bytes read and sent at a time. Large enough that a multi-megabyte range of a 2 GB video is a
# few dozen reads and writes, small enough that hundreds of concurrent streams stay in memory.
CHUNK_SIZE = 512 * 1024


def _chunks(handle: Any, start: int, length: int) -> Iterator[bytes]:
    handle.seek(start)
    left = length
    try:
        while left > 0:
            chunk = handle.read(min(CHUNK_SIZE, left))
            if not chunk:
                break
            left -= len(chunk)
            yield chunk
    finally:
        handle.close()


def ranged_file_response(
    request: HttpRequest,
    file: Any,
    content_type: str | None = None,
    *,
    filename: str | None = None,
    cache_control: str = "private, max-age=3600",
) -> HttpResponseBase:
    """``file`` (a stored ``FieldFile``) as the answer to ``request``, honouring one byte range.
    ``content_type``: guessed from the file's name when not given. ``filename``: sent as an
    attachment under this name (otherwise shown inline)."""
    content_type = content_type or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    size = file.size
    match = RANGE_RE.match(request.headers.get("Range", "").strip())
    response: StreamingHttpResponse
    if match and (match.group(1) or match.group(2)):
        first, last = match.group(1), match.group(2)
        if first:
            start, end = int(first), min(int(last), size - 1) if last else size - 1
        else:
            start, end = max(0, size - int(last)), size - 1
        if start >= size or start > end:
            refused = HttpResponse(status=416)
            refused["Content-Range"] = f"bytes */{size}"
            return refused
        length = end - start + 1
        response = StreamingHttpResponse(
            _chunks(file.open("rb"), start, length), status=206, content_type=content_type
        )
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(length)
    else:
        response = FileResponse(file.open("rb"), content_type=content_type)
    if filename is not None:
        response["Content-Disposition"] = (
            content_disposition_header(as_attachment=True, filename=filename) or ""
        )
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = cache_control
    return response
