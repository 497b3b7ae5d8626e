"""The web chat page: ``/`` and its files under ``/web/`` (chatter/api/web). No key is needed:
the page holds no data, and every data call it makes sends the user's bearer key.

The page runs under a strict Content-Security-Policy: scripts, styles and connections only
from this server, nothing inline, no eval (Vega evaluates its expressions with the vendored
vega-interpreter instead of generated functions). docs/web.md says more."""

from __future__ import annotations

import hashlib
from importlib import resources
from importlib.resources.abc import Traversable
from types import MappingProxyType

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException

router = APIRouter(include_in_schema=False)

#: What the page may load and where it may connect: only this server. Images may be data:
#: and blob: URLs (a chart saved as PNG or SVG is one).
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
_MEDIA = MappingProxyType(
    {
        ".html": "text/html; charset=utf-8",
        ".js": "text/javascript; charset=utf-8",
        ".css": "text/css; charset=utf-8",
        ".svg": "image/svg+xml",
    }
)
#: Vendored files sit in folders named with their version, so a URL never changes content.
_FOREVER = "public, max-age=31536000, immutable"
#: The page's own files change with chatter: revalidate each time (a 304 when unchanged).
_REVALIDATE = "no-cache"


def _web_files(root: Traversable, prefix: str = "") -> dict[str, Traversable]:
    """Every servable file under ``root`` by its URL path (``vendor/vega-6.4.0/vega.min.js``);
    Python files, notes and licences are not served."""
    found: dict[str, Traversable] = {}
    for entry in root.iterdir():
        name = f"{prefix}{entry.name}"
        if entry.is_dir():
            found.update(_web_files(entry, f"{name}/"))
        elif any(entry.name.endswith(suffix) for suffix in _MEDIA):
            found[name] = entry
    return found


#: Fixed when chatter is installed: a request can only name one of these, never a path.
FILES = MappingProxyType(_web_files(resources.files("chatter.api.web")))


def _file_response(request: Request, name: str, headers: dict[str, str]) -> Response:
    entry = FILES.get(name)
    if entry is None:
        raise HTTPException(404, f"No web file {name!r}; the page is at /.")
    body = entry.read_bytes()
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    suffix = name[name.rfind(".") :]
    headers = {
        **headers,
        "ETag": etag,
        "Cache-Control": _FOREVER if name.startswith("vendor/") else _REVALIDATE,
        "X-Content-Type-Options": "nosniff",
    }
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=_MEDIA[suffix], headers=headers)


@router.api_route("/", methods=["GET", "HEAD"])
def page(request: Request) -> Response:
    """The chat page, under its Content-Security-Policy."""
    return _file_response(
        request,
        "index.html",
        {
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "Referrer-Policy": "no-referrer",
            "X-Frame-Options": "DENY",
        },
    )


@router.api_route("/web/{name:path}", methods=["GET", "HEAD"])
def web_file(request: Request, name: str) -> Response:
    """A file of the page: its scripts, styles and the vendored Vega bundles."""
    return _file_response(request, name, {})
