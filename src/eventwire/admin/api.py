"""How an admin endpoint is declared: a plain async handler returning ``(status, body)`` or
raising ApiError, registered with its method, path and models. Registration adds the bearer
check and JSON errors, and records the route for the OpenAPI document."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import faust
import orjson
from aiohttp import web
from faust.web import Request, Response, View
from pydantic import BaseModel, SecretStr, ValidationError

from eventwire.admin.auth import authorized
from eventwire.core.validation import reasons_from

log = logging.getLogger(__name__)
Handler = Callable[..., Awaitable[tuple[int, Any]]]


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, problems: list[str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.problems = status, code, message, problems


class ErrorBody(BaseModel):
    error: str
    message: str
    problems: list[str] | None = None


@dataclass
class Route:
    method: str
    path: str
    summary: str
    request: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    errors: tuple[int, ...] = ()
    query: dict[str, str] = field(default_factory=dict)


def problems_of(exc: ValidationError) -> list[str]:
    return [f"{r.field or '(body)'}: {r.message}" for r in reasons_from(exc, "")]


async def body_as(request: Request, model: type[BaseModel] | None = None) -> Any:
    """The JSON body (validated as ``model`` when given), or ApiError 400/422 naming why not."""
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "malformed_json", f"the body is not JSON: {exc}") from None
    if model is None:
        return body
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise ApiError(422, "invalid_body", "the body is invalid", problems_of(exc)) from None


class Api:
    def __init__(self, app: faust.App, token: SecretStr | None) -> None:
        self._app = app
        self._token = token
        self.routes: list[Route] = []
        self._views: dict[str, dict[str, tuple[Handler, bool]]] = {}

    def add(self, route: Route, handler: Handler, *, public: bool = False) -> None:
        self.routes.append(route)
        self._views.setdefault(route.path, {})[route.method.lower()] = (handler, public)

    def register(self) -> None:
        """Register every path with Faust's web server, in the order added."""
        for path, methods in self._views.items():
            self._app.page(path)(self._view(methods))

    def _view(self, methods: dict[str, tuple[Handler, bool]]) -> type[View]:
        token = self._token
        attributes: dict[str, Any] = {}
        for method, (handler, public) in methods.items():

            async def call(
                view: View,
                request: Request,
                _handler: Handler = handler,
                _public: bool = public,
                **params: Any,
            ) -> Response:
                if not _public and not authorized(request.headers.get("Authorization"), token):
                    return _error(
                        view,
                        ApiError(
                            401,
                            "unauthorized",
                            "send Authorization: Bearer <EVENTWIRE_ADMIN_TOKEN>",
                        ),
                    )
                try:
                    status, body = await _handler(request, **params)
                except ApiError as exc:
                    return _error(view, exc)
                except web.HTTPException:
                    raise  # aiohttp's own answer (413 for a body over the limit): admin/limits.py
                except Exception:
                    log.exception("admin API bug on %s %s", request.method, request.url.path)
                    return _error(
                        view, ApiError(500, "internal_error", "eventwire failed on this request")
                    )
                if status == 204:
                    return view.bytes(b"", status=204)
                return view.json(body, status=status)

            attributes[method] = call
        return type("AdminView", (View,), attributes)


def _error(view: View, exc: ApiError) -> Response:
    body: dict[str, Any] = {"error": exc.code, "message": exc.message}
    if exc.problems is not None:
        body["problems"] = exc.problems
    return view.json(body, status=exc.status)
