"""Admin API routes on the worker's web port. Every /v1/ route needs the bearer token; every
error is JSON naming the problem: ``{"error": code, "message", "problems"?: [...]}``."""

from __future__ import annotations

import time
from typing import Any

import faust
import orjson
from faust.web import Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from eventwire.admin.auth import authorized
from eventwire.core.triggers.compiled import TriggerError
from eventwire.core.triggers.dry_run import dry_run
from eventwire.settings import Settings


def error(view: View, status: int, code: str, message: str, **extra: Any) -> Response:
    return view.json({"error": code, "message": message, **extra}, status=status)


async def json_body(view: View, request: Request) -> tuple[Any, Response | None]:
    """The request's JSON body, or the 400 response saying why there is none."""
    try:
        return orjson.loads(await request.read()), None
    except orjson.JSONDecodeError as exc:
        return None, error(view, 400, "malformed_json", f"the body is not JSON: {exc}")


def register(app: faust.App, settings: Settings) -> None:
    def guarded(view: View, request: Request) -> Response | None:
        if authorized(request.headers.get("Authorization"), settings.admin_token):
            return None
        return error(
            view, 401, "unauthorized", "send Authorization: Bearer <EVENTWIRE_ADMIN_TOKEN>"
        )

    @app.page("/healthz")
    async def healthz(web: Any, request: Any) -> Any:
        assigned = sorted(f"{tp.topic}/{tp.partition}" for tp in app.consumer.assignment())
        return web.json({"status": "ok", "partitions": assigned})

    @app.page("/metrics")
    async def metrics(web: Any, request: Any) -> Any:
        # Set as a header: aiohttp refuses a charset inside content_type.
        return web.bytes(generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    @app.page("/v1/triggers/test")
    class TriggerTest(View):
        """Dry-run a trigger over sample documents, touching no state."""

        async def post(self, request: Request, **_: Any) -> Response:
            refused = guarded(self, request)
            if refused is not None:
                return refused
            body, bad = await json_body(self, request)
            if bad is not None:
                return bad
            if not isinstance(body, dict) or "trigger" not in body:
                return error(
                    self, 422, "invalid_request", 'send {"trigger": {...}, "documents": [...]}'
                )
            try:
                result = dry_run(body["trigger"], body.get("documents"), int(time.time() * 1000))
            except TriggerError as exc:
                return error(
                    self,
                    422,
                    "invalid_trigger",
                    "the trigger or documents are invalid",
                    problems=exc.problems,
                )
            return self.json(result)
