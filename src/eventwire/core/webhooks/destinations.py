"""Where a webhook may go (SSRF protection), as pure functions over hosts and addresses.

A destination must name a host in EVENTWIRE_WEBHOOK_ALLOWED_HOSTS: an exact name
(``hooks.example.com``), a wildcard for subdomains (``*.example.com``), an IP address or a
CIDR (``10.0.0.0/8``). Even then, every address it resolves to must be public: loopback,
private, link-local, shared, multicast, reserved, unspecified and cloud metadata addresses
are refused unless the allowlist names that address or a network holding it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")
)
_SHARED = ipaddress.ip_network("100.64.0.0/10")


def classify(address: Address) -> str:
    """``public``, or why an address is not: metadata, loopback, private, link-local, ..."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return classify(address.ipv4_mapped)
    if address in METADATA:
        return "metadata"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_unspecified:
        return "unspecified"
    if address.is_multicast:
        return "multicast"
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED:
        return "shared"
    if address.is_reserved:
        return "reserved"
    if address.is_private:
        return "private"
    if not address.is_global:
        return "reserved"
    return "public"


@dataclass(frozen=True, slots=True)
class Allowlist:
    names: frozenset[str]
    suffixes: tuple[str, ...]
    networks: tuple[Network, ...]

    @classmethod
    def parse(cls, entries: Iterable[str]) -> Allowlist:
        names: set[str] = set()
        suffixes: list[str] = []
        networks: list[Network] = []
        for raw in entries:
            entry = raw.strip().lower().rstrip(".")
            if not entry:
                continue
            if entry.startswith("*."):
                suffixes.append(entry[1:])
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                names.add(entry)
        return cls(frozenset(names), tuple(suffixes), tuple(networks))

    def names_host(self, host: str) -> bool:
        """Whether the URL's host is on the list (by name, wildcard or address)."""
        host = host.strip("[]").lower().rstrip(".")
        address = _address(host)
        if address is not None:
            return self.names_address(address)
        return host in self.names or any(host.endswith(s) and host != s[1:] for s in self.suffixes)

    def names_address(self, address: Address) -> bool:
        return any(address in network for network in self.networks)


def _address(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def url_problem(url: str, allowlist: Allowlist) -> str | None:
    """Why eventwire must not call ``url`` before resolving it, or None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "the URL cannot be parsed"
    if parts.scheme not in ("http", "https"):
        return f"scheme {parts.scheme!r} is not http or https"
    if parts.username or parts.password:
        return "URLs with credentials are refused"
    host = parts.hostname
    if not host:
        return "the URL has no host"
    if not allowlist.names_host(host):
        return f"host {host} is not in EVENTWIRE_WEBHOOK_ALLOWED_HOSTS"
    address = _address(host)
    if address is not None:
        return address_problem(address, allowlist)
    return None


def address_problem(address: Address, allowlist: Allowlist) -> str | None:
    """Why eventwire must not connect to ``address``, or None."""
    kind = classify(address)
    if kind == "public" or allowlist.names_address(address):
        return None
    return f"{address} is a {kind} address and is not explicitly allowed"
