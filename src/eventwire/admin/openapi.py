"""The OpenAPI 3.1 document of the admin API, generated from its routes and pydantic models."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from eventwire.admin.api import ErrorBody, Route

_REF = "#/components/schemas/{model}"


def openapi_document(routes: list[Route]) -> dict[str, Any]:
    schemas: dict[str, Any] = {}

    def ref(model: type[BaseModel]) -> dict[str, Any]:
        schema = model.model_json_schema(ref_template=_REF)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
        return {"$ref": _REF.format(model=model.__name__)}

    error = {"content": {"application/json": {"schema": ref(ErrorBody)}}}
    paths: dict[str, Any] = {}
    for route in routes:
        operation: dict[str, Any] = {"summary": route.summary, "responses": {}}
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in re.findall(r"{(\w+)}", route.path)
        ]
        parameters += [
            {
                "name": name,
                "in": "query",
                "required": False,
                "description": text,
                "schema": {"type": "string"},
            }
            for name, text in route.query.items()
        ]
        if parameters:
            operation["parameters"] = parameters
        if route.request is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": ref(route.request)}},
            }
        elif route.method in ("POST", "PUT"):
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        ok: dict[str, Any] = {"description": "success"}
        if route.response is not None:
            ok["content"] = {"application/json": {"schema": ref(route.response)}}
        operation["responses"][str(route.status)] = ok
        if not route.path.startswith("/healthz"):
            operation["responses"]["401"] = {"description": "no or wrong bearer token", **error}
            operation["security"] = [{"bearer": []}]
        for status in route.errors:
            operation["responses"][str(status)] = {"description": "error", **error}
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "eventwire admin API", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
