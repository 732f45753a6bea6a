"""The HTTP collector on the worker's web port: each endpoint of collector/endpoints.py as a
Faust page. A request is answered only once Kafka has acknowledged its messages on ``raw``
(the producer's ``acks=all``): never accepted and lost. While Kafka does not acknowledge
within ``EVENTWIRE_COLLECTOR_PRODUCE_TIMEOUT``, or too many requests are already being
written, the answer is 503 with ``Retry-After``, never an unbounded queue."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import faust
from aiokafka.errors import KafkaError
from faust.web import Request, Response, View

from eventwire.collector.endpoints import ENDPOINTS, Admitted, Endpoint, Refusal, admit, answer
from eventwire.core.decode import Limits
from eventwire.core.registry import Registry
from eventwire.metrics import COLLECTOR_PRODUCE, COLLECTOR_REQUESTS

# (topic, key, value, headers) -> (topic, partition, offset) once acknowledged
Produce = Callable[
    [str, bytes | None, bytes, list[tuple[str, bytes]]], Awaitable[tuple[str, int, int]]
]
CORS_HEADERS = "content-type, authorization, secret, source, format"


class Collector:
    def __init__(
        self,
        registry: Callable[[], Registry],
        limits: Limits,
        raw_topic: str,
        produce: Produce,
        origins: Sequence[str],
        max_in_flight: int,
        produce_timeout: float,
    ) -> None:
        self._registry, self._limits, self._topic, self._produce = (
            registry,
            limits,
            raw_topic,
            produce,
        )
        self._origins = set(origins)
        self._max_in_flight = max_in_flight
        self._timeout = produce_timeout
        self._in_flight = 0

    def register(self, app: faust.App) -> None:
        for endpoint in ENDPOINTS:
            app.page(endpoint.path)(self._view(endpoint))

    def _view(self, endpoint: Endpoint) -> type[View]:
        collector = self

        async def post(view: View, request: Request, **params: Any) -> Response:
            status, body, headers = await collector.handle(endpoint, request, params)
            COLLECTOR_REQUESTS.labels(endpoint.path, str(status)).inc()
            response = view.json(body, status=status)
            response.headers.update({**headers, **collector.cors(request)})
            return response

        async def options(view: View, request: Request, **params: Any) -> Response:
            response = view.bytes(b"", status=204)
            response.headers.update(collector.cors(request, preflight=True))
            return response

        return type("CollectorView", (View,), {"post": post, "options": options})

    def cors(self, request: Request, preflight: bool = False) -> dict[str, str]:
        origin = request.headers.get("Origin")
        if not origin or not (origin in self._origins or "*" in self._origins):
            return {}
        headers = {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
        if preflight:
            headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
            headers["Access-Control-Allow-Headers"] = CORS_HEADERS
            headers["Access-Control-Max-Age"] = "600"
        return headers

    async def handle(
        self, endpoint: Endpoint, request: Request, params: dict[str, Any]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """(status, body, extra headers): refused at once, written and answered, or 503."""
        if self._in_flight >= self._max_in_flight:
            return 503, _error("busy", "too many requests in flight; retry"), {"Retry-After": "1"}
        self._in_flight += 1
        try:
            length = request.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > self._limits.max_bytes:
                limit = self._limits.max_bytes
                return 413, _error("too_large", f"the body is over {limit:,} bytes"), {}
            body = await request.read()
            admitted = admit(
                endpoint,
                body,
                dict(request.headers),
                dict(request.query),
                {**params, "request_id": f"collect-{uuid.uuid4().hex}"},
                self._registry(),
                self._limits,
            )
            if isinstance(admitted, Refusal):
                return admitted.status, _error(admitted.code, admitted.message), {}
            landed = await self._write(admitted)
            if landed is None:
                busy = _error("kafka_unavailable", "Kafka did not acknowledge; retry")
                return 503, busy, {"Retry-After": str(max(1, round(self._timeout)))}
            status, answered = answer(endpoint, admitted, landed)
            return status, answered, {}
        finally:
            self._in_flight -= 1

    async def _write(self, admitted: Admitted) -> list[tuple[str, int, int]] | None:
        started = time.perf_counter()
        sends = [
            self._produce(self._topic, key, value, list(headers.items()))
            for key, (value, headers) in zip(admitted.keys, admitted.messages, strict=True)
        ]
        try:
            landed = await asyncio.wait_for(asyncio.gather(*sends), self._timeout)
        except (TimeoutError, KafkaError):
            return None
        COLLECTOR_PRODUCE.observe(time.perf_counter() - started)
        return list(landed)


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": code, "message": message}


def aiokafka_produce(producer: Callable[[], Any]) -> Produce:
    """``Produce`` over the aiokafka producer Faust started (``acks=all``)."""

    async def produce(
        topic: str, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]]
    ) -> tuple[str, int, int]:
        sent = await producer().send_and_wait(topic, value, key=key, headers=headers)
        return str(sent.topic), int(sent.partition), int(sent.offset)

    return produce
