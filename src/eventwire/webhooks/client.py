"""Call a webhook receiver safely: only allowed hosts, only permitted addresses (checked where
the connection is made, so DNS cannot point past the check), timeouts on connect and read, a
bounded read of the response, and redirects only within the same host."""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from eventwire.core.webhooks.destinations import Allowlist, address_problem, url_problem
from eventwire.core.webhooks.requests import WebhookRequest

MAX_RESPONSE_BYTES = 64 * 1024
REDIRECTS = (301, 302, 303, 307, 308)


class Refused(Exception):
    """A destination eventwire must not call; retrying will not help."""


@dataclass(frozen=True, slots=True)
class Attempt:
    status: int | None
    error: str | None
    refused: bool
    ms: int

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class SafeResolver(AbstractResolver):
    """Resolves like aiohttp's own resolver, then keeps only the addresses policy allows."""

    def __init__(self, allowlist: Allowlist) -> None:
        self._inner = aiohttp.ThreadedResolver()
        self._allowlist = allowlist

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        allowed = [
            r
            for r in found
            if address_problem(ipaddress.ip_address(r["host"]), self._allowlist) is None
        ]
        if not allowed:
            problem = address_problem(ipaddress.ip_address(found[0]["host"]), self._allowlist)
            raise Refused(f"{host} resolves to a refused address: {problem}")
        return allowed

    async def close(self) -> None:
        await self._inner.close()


class WebhookClient:
    def __init__(
        self,
        allowlist: Allowlist,
        connect_timeout: float,
        read_timeout: float,
        max_redirects: int = 3,
    ) -> None:
        self._allowlist = allowlist
        self._timeout = aiohttp.ClientTimeout(
            total=connect_timeout + read_timeout * 2,
            sock_connect=connect_timeout,
            sock_read=read_timeout,
        )
        self._max_redirects = max_redirects
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(resolver=SafeResolver(self._allowlist), limit=100)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self._timeout, trust_env=False, auto_decompress=False
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def send(self, request: WebhookRequest) -> Attempt:
        started = time.monotonic()

        def attempt(status: int | None, error: str | None, refused: bool = False) -> Attempt:
            return Attempt(status, error, refused, int((time.monotonic() - started) * 1000))

        try:
            status = await self._send(request)
        except Refused as exc:
            return attempt(None, f"refused: {exc}", refused=True)
        except (TimeoutError, aiohttp.ServerTimeoutError):
            return attempt(None, "timed out")
        except aiohttp.ClientError as exc:
            return attempt(None, f"{type(exc).__name__}: {_without_url(exc)}")
        except OSError as exc:
            return attempt(None, f"{type(exc).__name__}: {exc.strerror or exc}")
        return attempt(status, None if 200 <= status < 300 else f"HTTP {status}")

    async def _send(self, request: WebhookRequest) -> int:
        method, url, body = request.method, request.url, request.body
        for _ in range(self._max_redirects + 1):
            problem = url_problem(url, self._allowlist)
            if problem is not None:
                raise Refused(problem)
            async with self._client().request(
                method, url, headers=request.headers, data=body or None, allow_redirects=False
            ) as response:
                await response.content.read(MAX_RESPONSE_BYTES)
                location = response.headers.get("Location")
                if response.status not in REDIRECTS or not location:
                    return response.status
            target = urljoin(url, location)
            if urlsplit(target).hostname != urlsplit(url).hostname:
                raise Refused(f"redirect to another host ({urlsplit(target).hostname}) refused")
            if response.status == 303:
                method, body = "GET", b""
            url = target
        raise Refused(f"more than {self._max_redirects} redirects")


def _without_url(exc: BaseException) -> str:
    """An error's text without the URL it may carry (query strings can hold tokens)."""
    text = str(exc)
    return text.split(" [", 1)[0] if "http" in text else text
