"""Serving the built browser app (`frontend/dist`, made by `npm run build`).

Vite names every asset after a hash of its content, so those may be cached for a year; index.html
names the current assets and must be asked for again each time. Every path outside `/api` that is
not a file is a client route of the single-page app and gets index.html. Text is gzipped once per
file version and kept in memory: the whole app is a few hundred kilobytes.
"""

from __future__ import annotations

import gzip
import mimetypes
from functools import lru_cache
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
ASSETS_DIR = "assets"
#: Smaller bodies gain nothing from compression: one packet either way.
MIN_COMPRESS_BYTES = 1024
_COMPRESSIBLE = (".js", ".mjs", ".css", ".html", ".svg", ".json", ".map", ".txt", ".wasm")

NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Hyperdesk: browser app not built</title></head>
<body><h1>The browser app is not built</h1>
<p>The API is running (<a href="/api/docs">/api/docs</a>), but <code>frontend/dist</code> is
missing. Build it once, then reload this page:</p>
<pre>cd frontend &amp;&amp; npm ci &amp;&amp; npm run build</pre></body></html>
"""


def install_frontend(app: FastAPI, dist: Path) -> None:
    """Answer every GET outside `/api` from `dist`; register this after the API routes."""
    root = dist.resolve()

    @app.get("/{path:path}", include_in_schema=False)
    async def frontend(path: str, request: Request) -> Response:
        if path == "api" or path.startswith("api/"):
            raise StarletteHTTPException(status_code=404)
        if not (root / "index.html").is_file():
            return HTMLResponse(NOT_BUILT, status_code=500, headers={"Cache-Control": REVALIDATE})
        accepts_gzip = "gzip" in request.headers.get("accept-encoding", "")
        file = _existing_file(root, path)
        if file is not None:
            cache = IMMUTABLE if path.startswith(f"{ASSETS_DIR}/") else REVALIDATE
            return _file_response(file, cache, accepts_gzip)
        if path.startswith(f"{ASSETS_DIR}/"):
            # An old page asking for an asset of an earlier build: index.html would be parsed
            # as script, so say plainly that it is gone.
            raise StarletteHTTPException(status_code=404)
        return _file_response(root / "index.html", REVALIDATE, accepts_gzip)


def _existing_file(root: Path, path: str) -> Path | None:
    if not path or "\\" in path or "\0" in path:
        return None
    candidate = (root / path).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


def _file_response(file: Path, cache_control: str, accepts_gzip: bool) -> Response:
    stat = file.stat()
    body, compressed = _body(str(file), stat.st_mtime_ns, stat.st_size)
    media_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    if media_type.startswith("text/") or media_type.endswith("javascript"):
        media_type += "; charset=utf-8"
    headers = {"Cache-Control": cache_control, "Vary": "Accept-Encoding"}
    if compressed is not None and accepts_gzip:
        headers["Content-Encoding"] = "gzip"
        return Response(compressed, media_type=media_type, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


@lru_cache(maxsize=256)
def _body(path: str, _mtime_ns: int, _size: int) -> tuple[bytes, bytes | None]:
    """The file and its gzip form (None when not worth it); keyed by version so a rebuild is seen."""
    data = Path(path).read_bytes()
    if len(data) < MIN_COMPRESS_BYTES or not path.endswith(_COMPRESSIBLE):
        return data, None
    return data, gzip.compress(data, compresslevel=9, mtime=0)
