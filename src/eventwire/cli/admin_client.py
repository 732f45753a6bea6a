"""The CLI's way to the admin API of a running worker (EVENTWIRE_ADMIN_URL, bearer token)."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import click

from eventwire.settings import Settings


class AdminError(click.ClickException):
    def __init__(self, status: int, body: Any) -> None:
        if isinstance(body, dict):
            lines = [f"{status} {body.get('error')}: {body.get('message')}"]
            lines += [f"  - {p}" for p in body.get("problems") or []]
            message = "\n".join(lines)
        else:
            message = f"{status}: {body}"
        super().__init__(message)


def api_path(*segments: str, **query: str) -> str:
    """``/v1/...`` with every segment and query value encoded: an id or an email may hold
    ``/``, ``+``, ``?`` or ``#`` (``a+b@x.org`` must not arrive as ``a b@x.org``)."""
    path = "/" + "/".join(urllib.parse.quote(s, safe="") for s in segments)
    return path + ("?" + urllib.parse.urlencode(query) if query else "")


def call(method: str, path: str, body: Any = None) -> Any:
    settings = Settings()
    base = os.environ.get("EVENTWIRE_ADMIN_URL", f"http://127.0.0.1:{settings.web_port}")
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base.rstrip("/") + path, data=data, method=method)
    if settings.admin_token is not None:
        request.add_header("Authorization", f"Bearer {settings.admin_token.get_secret_value()}")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
            return json.loads(text) if text else None
    except urllib.error.HTTPError as exc:
        text = exc.read()
        try:
            parsed: Any = json.loads(text)
        except ValueError:
            parsed = text.decode(errors="replace")
        raise AdminError(exc.code, parsed) from None
    except urllib.error.URLError as exc:
        raise click.ClickException(f"cannot reach the worker at {base}: {exc.reason}") from None
