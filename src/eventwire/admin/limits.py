"""What the admin API answers before a handler runs, or for a request no handler takes: an
over-long URL (414), an oversized body (413, raised by aiohttp when a handler reads it), a
path or method that does not exist (404, 405). Always JSON, like every other error, never
aiohttp's plain text, never a 5xx."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

MAX_URL = 8192  # characters of path and query
# aiohttp's own request-line limit, raised so that what MAX_URL refuses gets here at all
MAX_REQUEST_LINE = 65536

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error_response(status: int, code: str, message: str) -> web.Response:
    body = orjson.dumps({"error": code, "message": message})
    return web.Response(body=body, status=status, content_type="application/json")


def too_large(limit: int) -> web.Response:
    return error_response(413, "too_large", f"the body is over {limit:,} bytes")


@web.middleware
async def json_limits(request: web.Request, handler: Handler) -> web.StreamResponse:
    if len(request.raw_path) > MAX_URL:
        return error_response(414, "uri_too_long", f"the URL is over {MAX_URL:,} characters")
    try:
        return await handler(request)
    except web.HTTPRequestEntityTooLarge:
        return too_large(request.client_max_size)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == "application/json":
            raise
        return error_response(exc.status, _code(exc.status), exc.reason)


def _code(status: int) -> str:
    return {404: "not_found", 405: "method_not_allowed"}.get(status, "bad_request")


def web_options(max_body: int) -> dict[str, Any]:
    """The Faust app's ``web_application_options``."""
    return {"client_max_size": max_body, "middlewares": [json_limits]}
