"""The admin API (docs/admin-api.md) on the worker's web port. Every /v1/ route needs the bearer
token; errors are JSON naming the problem (400, 401, 404, 409, 422)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import faust
import orjson
from faust.web import Request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import SecretStr

from eventwire.admin.api import Api, ApiError, Route, body_as
from eventwire.admin.models import (
    BacktestIn,
    BacktestOut,
    DefinitionChange,
    DefinitionOut,
    Health,
    ListOf,
    ProfileOut,
    SegmentChangeOut,
    SessionOut,
    SourceIn,
    SourceOut,
    SourcePatch,
    Stats,
    TriggerDocumentOut,
    TriggerOut,
    TriggerPatch,
    TriggerTestIn,
    TriggerTestOut,
    ValidateIn,
    ValidateOut,
)
from eventwire.admin.openapi import openapi_document
from eventwire.backtest.run import Request as BacktestRequest
from eventwire.backtest.run import backtest, when_ms
from eventwire.config_service import ConfigService, Conflict, NotFound
from eventwire.core.configuration import public_source
from eventwire.core.decode import Limits
from eventwire.core.definitions.json_schema import definition_schema
from eventwire.core.definitions.spec import DefinitionSpec
from eventwire.core.durations import parse_duration
from eventwire.core.identity import normalise_email
from eventwire.core.ingest import Accepted
from eventwire.core.outputs import Output
from eventwire.core.raw import RawMessage
from eventwire.core.sources import SourceSpec
from eventwire.core.timers_topic import segment_change_output
from eventwire.core.topics import Topics
from eventwire.core.triggers.compiled import TriggerError, compile_trigger
from eventwire.core.triggers.dry_run import dry_run
from eventwire.kafka.probe import metadata_brokers
from eventwire.redis_store.identities import IdentityStore
from eventwire.redis_store.owners import OwnerStore
from eventwire.redis_store.stats import StatsStore
from eventwire.settings import Settings
from eventwire.stages.ingest import validate_batch

Publish = Callable[[Sequence[Output]], Awaitable[None]]


def _not_found(exc: LookupError) -> ApiError:
    return ApiError(404, "not_found", str(exc).strip("'\""))


def _conflict(exc: Conflict) -> ApiError:
    return ApiError(409, "conflict", str(exc), exc.problems or None)


def _definition_out(
    name: str, versions: list[dict[str, Any]], version: int | None = None
) -> dict[str, Any]:
    index = (version or len(versions)) - 1
    spec = DefinitionSpec.model_validate(versions[index])
    return {
        "name": name,
        "version": index + 1,
        "versions": len(versions),
        "description": spec.description,
        "fields": [f.model_dump(exclude_none=True) for f in spec.fields],
        "additional_fields": spec.additional_fields,
        "mode": spec.mode,
    }


def _trigger_out(item: dict[str, Any]) -> dict[str, Any]:
    trigger = item["trigger"]
    return {
        "id": trigger["id"],
        "order": item["order"],
        "enabled": trigger.get("enabled", True),
        "trigger": trigger,
    }


class _Handlers:
    """One method per endpoint: a request in, ``(status, body)`` out or ApiError raised."""

    def __init__(
        self,
        app: faust.App,
        settings: Settings,
        config: ConfigService,
        owners: OwnerStore,
        stats: StatsStore,
        publish: Publish,
        identities: IdentityStore,
    ) -> None:
        self.app, self.settings, self.config, self.owners, self.stats = (
            app,
            settings,
            config,
            owners,
            stats,
        )
        self.publish, self.identities = publish, identities
        self.routes: list[Route] = []

    async def healthz(self, request: Request) -> tuple[int, Any]:
        host, _, port = self.settings.kafka_bootstrap.split(",")[0].rpartition(":")
        try:
            kafka = await asyncio.to_thread(metadata_brokers, host, int(port), 1.0) > 0
        except (OSError, ValueError):
            kafka = False
        try:
            redis = bool(await asyncio.wait_for(self.owners.ping(), 1.0))
        except Exception:
            redis = False
        partitions = sorted(f"{tp.topic}/{tp.partition}" for tp in self.app.consumer.assignment())
        body = {
            "status": "ok" if kafka and redis else "degraded",
            "kafka": kafka,
            "redis": redis,
            "partitions": partitions,
            "config_version": self.config.holder.version,
        }
        return (200 if kafka and redis else 503), body

    async def list_definitions(self, request: Request) -> tuple[int, Any]:
        docs = await self.config.docs()
        return 200, {"items": [_definition_out(n, v) for n, v in sorted(docs.definitions.items())]}

    async def apply_definition(self, request: Request) -> tuple[int, Any]:
        spec = await body_as(request, DefinitionSpec)
        allow = request.query.get("allow_breaking", "").lower() in ("1", "true", "yes")
        try:
            change = await self.config.apply_definition(spec, allow)
        except Conflict as exc:
            raise _conflict(exc) from None
        return (201 if change["created"] else 200), change

    async def get_definition(self, request: Request, name: str) -> tuple[int, Any]:
        versions = (await self.config.docs()).definitions.get(name)
        if not versions:
            raise ApiError(404, "not_found", f"no definition {name!r}")
        return 200, _definition_out(name, versions)

    async def delete_definition(self, request: Request, name: str) -> tuple[int, Any]:
        try:
            await self.config.delete_definition(name)
        except NotFound as exc:
            raise _not_found(exc) from None
        return 204, None

    async def get_version(self, request: Request, name: str, version: str) -> tuple[int, Any]:
        versions = (await self.config.docs()).definitions.get(name) or []
        if not version.isdigit() or not 0 < int(version) <= len(versions):
            raise ApiError(404, "not_found", f"no version {version} of {name!r}")
        return 200, _definition_out(name, versions, int(version))

    async def get_schema(self, request: Request, name: str) -> tuple[int, Any]:
        versions = (await self.config.docs()).definitions.get(name)
        if not versions:
            raise ApiError(404, "not_found", f"no definition {name!r}")
        return 200, definition_schema(DefinitionSpec.model_validate(versions[-1]), len(versions))

    async def list_sources(self, request: Request) -> tuple[int, Any]:
        docs = await self.config.docs()
        return 200, {"items": [public_source(d) for _, d in sorted(docs.sources.items())]}

    async def create_source(self, request: Request) -> tuple[int, Any]:
        given = await body_as(request, SourceIn)
        spec = SourceSpec(
            id=given.id,
            secret=SecretStr(given.secret) if given.secret else None,
            allow_undeclared=given.allow_undeclared,
            enabled=given.enabled,
        )
        try:
            return 201, await self.config.create_source(spec)
        except Conflict as exc:
            raise _conflict(exc) from None

    async def get_source(self, request: Request, source_id: str) -> tuple[int, Any]:
        found = (await self.config.docs()).sources.get(source_id)
        if found is None:
            raise ApiError(404, "not_found", f"no source {source_id!r}")
        return 200, public_source(found)

    async def patch_source(self, request: Request, source_id: str) -> tuple[int, Any]:
        patch = await body_as(request, SourcePatch)
        try:
            return 200, await self.config.update_source(
                source_id, patch.model_dump(exclude_none=True)
            )
        except NotFound as exc:
            raise _not_found(exc) from None

    async def delete_source(self, request: Request, source_id: str) -> tuple[int, Any]:
        try:
            await self.config.delete_source(source_id)
        except NotFound as exc:
            raise _not_found(exc) from None
        return 204, None

    async def test_trigger(self, request: Request) -> tuple[int, Any]:
        body = await body_as(request)
        if not isinstance(body, dict) or "trigger" not in body:
            raise ApiError(422, "invalid_request", 'send {"trigger": {...}, "documents": [...]}')
        try:
            return 200, dry_run(body["trigger"], body.get("documents"), int(time.time() * 1000))
        except TriggerError as exc:
            raise ApiError(
                422, "invalid_trigger", "the trigger or documents are invalid", exc.problems
            ) from None

    async def validate(self, request: Request) -> tuple[int, Any]:
        """The worker's own ingest, writing nothing (stages/ingest.py: validate_batch)."""
        body = await body_as(request, ValidateIn)
        now_ms = int(time.time() * 1000)
        raws = [
            RawMessage(
                value=m.value.encode() if isinstance(m.value, str) else orjson.dumps(m.value),
                topic="validate",  # ids derived from an origin are this answer's own
                partition=0,
                offset=i,
                timestamp_ms=now_ms,
                headers={k: v.encode() for k, v in m.headers.items()},
            )
            for i, m in enumerate(body.messages)
        ]
        limits = Limits(self.settings.max_message_bytes, self.settings.max_depth)
        outcomes = await validate_batch(raws, self.config.holder.current, limits, self.identities)
        return 200, {
            "results": [
                {"events": o.events, "rejection": None}
                if isinstance(o, Accepted)
                else {"events": [], "rejection": o.record}
                for o in outcomes
            ]
        }

    async def backtest_triggers(self, request: Request) -> tuple[int, Any]:
        """Runs in this replica, beside its stream (the CLI runs it apart, which is kinder
        to the stream for long windows)."""
        body = await body_as(request, BacktestIn)
        now_ms = int(time.time() * 1000)
        try:
            if body.trigger is not None:
                compile_trigger(body.trigger)
            backtest_request = BacktestRequest(
                when_ms(body.since, now_ms),
                when_ms(body.until, now_ms) if body.until else now_ms,
                body.trigger,
                body.alone,
                body.include_effects,
                int(parse_duration(body.warmup) * 1000) if body.warmup else 0,
            )
        except TriggerError as exc:
            raise ApiError(422, "invalid_trigger", "the trigger is invalid", exc.problems) from None
        except ValueError as exc:
            raise ApiError(422, "invalid_request", str(exc)) from None
        if backtest_request.since_ms >= backtest_request.until_ms:
            raise ApiError(422, "invalid_request", "since must be before until")
        docs = await self.config.docs()
        answer = await backtest(
            backtest_request,
            docs.ordered_triggers(),
            self.settings.kafka_bootstrap,
            Topics(self.settings.topic_prefix).events,
            int(self.settings.session_timeout * 1000),
        )
        return 200, answer

    async def list_triggers(self, request: Request) -> tuple[int, Any]:
        docs = await self.config.docs()
        items = sorted(docs.triggers.values(), key=lambda i: (i["order"], i["trigger"]["id"]))
        return 200, {"items": [_trigger_out(i) for i in items]}

    async def put_trigger(self, request: Request, trigger_id: str | None = None) -> tuple[int, Any]:
        document = await body_as(request)
        if not isinstance(document, dict):
            raise ApiError(422, "invalid_trigger", "a trigger is an object")
        if trigger_id is not None and document.get("id", trigger_id) != trigger_id:
            raise ApiError(422, "invalid_trigger", f"the body's id is not {trigger_id!r}")
        if trigger_id is not None:
            document = {**document, "id": trigger_id}
        try:
            stored = await self.config.put_trigger(document, create=trigger_id is None)
        except TriggerError as exc:
            raise ApiError(422, "invalid_trigger", "the trigger is invalid", exc.problems) from None
        except Conflict as exc:
            raise _conflict(exc) from None
        except NotFound as exc:
            raise _not_found(exc) from None
        return (201 if trigger_id is None else 200), _trigger_out(stored)

    async def get_trigger(self, request: Request, trigger_id: str) -> tuple[int, Any]:
        found = (await self.config.docs()).triggers.get(trigger_id)
        if found is None:
            raise ApiError(404, "not_found", f"no trigger {trigger_id!r}")
        # The trigger as it was sent, so GET, edit, PUT works; its order is in the list.
        trigger = found["trigger"]
        return 200, {**trigger, "enabled": trigger.get("enabled", True)}

    async def patch_trigger(self, request: Request, trigger_id: str) -> tuple[int, Any]:
        patch = await body_as(request, TriggerPatch)
        found = (await self.config.docs()).triggers.get(trigger_id)
        if found is None:
            raise ApiError(404, "not_found", f"no trigger {trigger_id!r}")
        stored = await self.config.put_trigger(
            {**found["trigger"], "enabled": patch.enabled}, create=False
        )
        return 200, _trigger_out(stored)

    async def delete_trigger(self, request: Request, trigger_id: str) -> tuple[int, Any]:
        try:
            await self.config.delete_trigger(trigger_id)
        except NotFound as exc:
            raise _not_found(exc) from None
        return 204, None

    async def profile_body(self, profile_id: str) -> dict[str, Any]:
        view = await self.owners.profile(profile_id)
        if view is None:
            raise ApiError(404, "not_found", f"no profile {profile_id!r}")
        identities = view["identities"]
        return {
            "id": profile_id,
            "identities": {
                **{k: identities.get(k) for k in ("email", "contact_id", "user_id")},
                "client_ids": identities["client_ids"],
            },
            **{
                k: view[k]
                for k in (
                    "traits",
                    "counters",
                    "points",
                    "badges",
                    "rewards",
                    "segments",
                    "first_seen",
                    "last_seen",
                )
            },
        }

    async def find_profile(self, request: Request) -> tuple[int, Any]:
        email = request.query.get("email")
        if not email:
            raise ApiError(400, "missing_query", "give ?email=")
        profile_id = await self.owners.find("email", normalise_email(email))
        if profile_id is None:
            raise ApiError(404, "not_found", "no profile has this email")
        return 200, await self.profile_body(profile_id)

    async def get_profile(self, request: Request, profile_id: str) -> tuple[int, Any]:
        return 200, await self.profile_body(profile_id)

    async def add_to_segment(
        self, request: Request, profile_id: str, segment: str
    ) -> tuple[int, Any]:
        return await self._change_segment(profile_id, segment, True)

    async def remove_from_segment(
        self, request: Request, profile_id: str, segment: str
    ) -> tuple[int, Any]:
        return await self._change_segment(profile_id, segment, False)

    async def _change_segment(self, profile_id: str, segment: str, member: bool) -> tuple[int, Any]:
        """Handed to the profile's stage, which applies it once and publishes
        ``segment_entered``/``segment_exited`` (and what triggers do on them): 202."""
        if not 0 < len(segment) <= 200:
            raise ApiError(422, "invalid_segment", "a segment name has 1 to 200 characters")
        if await self.owners.profile(profile_id) is None:
            raise ApiError(404, "not_found", f"no profile {profile_id!r}")
        request_id = f"admin-{uuid.uuid4().hex}"
        topics = Topics(self.settings.topic_prefix)
        now_ms = int(time.time() * 1000)
        await self.publish(
            [segment_change_output(profile_id, segment, member, request_id, now_ms, topics)]
        )
        body = {"profile_id": profile_id, "segment": segment, "member": member}
        return 202, {**body, "request_id": request_id}

    async def delete_profile(self, request: Request, profile_id: str) -> tuple[int, Any]:
        if not await self.owners.erase(profile_id):
            raise ApiError(404, "not_found", f"no profile {profile_id!r}")
        return 204, None

    async def get_session(self, request: Request, session_id: str) -> tuple[int, Any]:
        owner = await self.owners.owner_of_session(session_id)
        session = await self.owners.session(owner, session_id) if owner else None
        if session is None:
            raise ApiError(404, "not_found", f"no session {session_id!r}")
        return 200, session.view()

    async def get_stats(self, request: Request) -> tuple[int, Any]:
        return 200, {**await self.stats.read(), "config_version": self.config.holder.version}

    async def openapi(self, request: Request) -> tuple[int, Any]:
        return 200, openapi_document(self.routes)


def register(
    app: faust.App,
    settings: Settings,
    config: ConfigService,
    owners: OwnerStore,
    stats: StatsStore,
    publish: Publish,
    identities: IdentityStore,
) -> Api:
    api = Api(app, settings.admin_token)
    h = _Handlers(app, settings, config, owners, stats, publish, identities)
    api.add(
        Route(
            "GET",
            "/healthz",
            "Kafka and Redis reachability, this replica's partitions",
            response=Health,
            errors=(503,),
        ),
        h.healthz,
        public=True,
    )
    api.add(
        Route("GET", "/v1/definitions", "Every definition, latest version", response=ListOf),
        h.list_definitions,
    )
    api.add(
        Route(
            "POST",
            "/v1/definitions",
            "Create a definition, or its next version",
            request=DefinitionSpec,
            response=DefinitionChange,
            status=201,
            errors=(400, 409, 422),
            query={"allow_breaking": "store a breaking change anyway"},
        ),
        h.apply_definition,
    )
    api.add(
        Route(
            "GET",
            "/v1/definitions/{name}",
            "The latest version",
            response=DefinitionOut,
            errors=(404,),
        ),
        h.get_definition,
    )
    api.add(
        Route(
            "DELETE",
            "/v1/definitions/{name}",
            "Delete a definition and its versions",
            status=204,
            errors=(404,),
        ),
        h.delete_definition,
    )
    api.add(
        Route(
            "GET",
            "/v1/definitions/{name}/versions/{version}",
            "One version",
            response=DefinitionOut,
            errors=(404,),
        ),
        h.get_version,
    )
    api.add(
        Route(
            "GET",
            "/v1/definitions/{name}/schema",
            "JSON Schema of the latest version",
            errors=(404,),
        ),
        h.get_schema,
    )
    api.add(
        Route("GET", "/v1/sources", "Every source (secrets never shown)", response=ListOf),
        h.list_sources,
    )
    api.add(
        Route(
            "POST",
            "/v1/sources",
            "Create a source; its secret is set once",
            request=SourceIn,
            response=SourceOut,
            status=201,
            errors=(400, 409, 422),
        ),
        h.create_source,
    )
    api.add(
        Route("GET", "/v1/sources/{source_id}", "One source", response=SourceOut, errors=(404,)),
        h.get_source,
    )
    api.add(
        Route(
            "PATCH",
            "/v1/sources/{source_id}",
            "Enable, disable, allow undeclared events",
            request=SourcePatch,
            response=SourceOut,
            errors=(400, 404, 422),
        ),
        h.patch_source,
    )
    api.add(
        Route("DELETE", "/v1/sources/{source_id}", "Delete a source", status=204, errors=(404,)),
        h.delete_source,
    )
    api.add(
        Route(
            "POST",
            "/v1/triggers/test",
            "Dry-run a trigger over sample documents",
            request=TriggerTestIn,
            response=TriggerTestOut,
            errors=(400, 422),
        ),
        h.test_trigger,
    )
    api.add(
        Route(
            "POST",
            "/v1/validate",
            "Answer what the worker would make of messages, publishing and writing nothing",
            request=ValidateIn,
            response=ValidateOut,
            errors=(400, 422),
        ),
        h.validate,
    )
    api.add(
        Route(
            "POST",
            "/v1/triggers/backtest",
            "Replay a window of accepted events through a trigger (or the live set)",
            request=BacktestIn,
            response=BacktestOut,
            errors=(400, 422),
        ),
        h.backtest_triggers,
    )
    api.add(
        Route("GET", "/v1/triggers", "Every trigger, in the order they run", response=ListOf),
        h.list_triggers,
    )
    api.add(
        Route(
            "POST",
            "/v1/triggers",
            "Create a trigger (it runs after the others)",
            response=TriggerOut,
            status=201,
            errors=(400, 409, 422),
        ),
        h.put_trigger,
    )
    api.add(
        Route(
            "GET",
            "/v1/triggers/{trigger_id}",
            "One trigger, as it was sent (with enabled)",
            response=TriggerDocumentOut,
            errors=(404,),
        ),
        h.get_trigger,
    )
    api.add(
        Route(
            "PUT",
            "/v1/triggers/{trigger_id}",
            "Replace a trigger",
            response=TriggerOut,
            errors=(400, 404, 422),
        ),
        h.put_trigger,
    )
    api.add(
        Route(
            "PATCH",
            "/v1/triggers/{trigger_id}",
            "Enable or disable a trigger",
            request=TriggerPatch,
            response=TriggerOut,
            errors=(400, 404, 422),
        ),
        h.patch_trigger,
    )
    api.add(
        Route("DELETE", "/v1/triggers/{trigger_id}", "Delete a trigger", status=204, errors=(404,)),
        h.delete_trigger,
    )
    api.add(
        Route(
            "GET",
            "/v1/profiles",
            "Find a profile by email",
            response=ProfileOut,
            errors=(400, 404),
            query={"email": "the profile's email"},
        ),
        h.find_profile,
    )
    api.add(
        Route(
            "GET",
            "/v1/profiles/{profile_id}",
            "Export a profile",
            response=ProfileOut,
            errors=(404,),
        ),
        h.get_profile,
    )
    api.add(
        Route(
            "DELETE",
            "/v1/profiles/{profile_id}",
            "Erase a profile, its identities and indexes",
            status=204,
            errors=(404,),
        ),
        h.delete_profile,
    )
    for method, handler, verb in (
        ("PUT", h.add_to_segment, "Add a profile to"),
        ("DELETE", h.remove_from_segment, "Remove a profile from"),
    ):
        api.add(
            Route(
                method,
                "/v1/profiles/{profile_id}/segments/{segment}",
                f"{verb} a segment (applied by its stage; segment events follow)",
                response=SegmentChangeOut,
                status=202,
                errors=(404, 422),
            ),
            handler,
        )
    api.add(
        Route("GET", "/v1/sessions/{session_id}", "A session", response=SessionOut, errors=(404,)),
        h.get_session,
    )
    api.add(
        Route(
            "GET",
            "/v1/stats",
            "Accepted events by type, rejected messages by reason",
            response=Stats,
        ),
        h.get_stats,
    )
    api.add(Route("GET", "/v1/openapi.json", "This API's OpenAPI document"), h.openapi)
    h.routes = api.routes

    @app.page("/metrics")
    async def metrics(web: Any, request: Any) -> Any:
        # Set as a header: aiohttp refuses a charset inside content_type.
        return web.bytes(generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    api.register()
    return api
