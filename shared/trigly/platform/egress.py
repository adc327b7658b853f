"""Calls to URLs a tenant supplies (a connector's outbound URL): never into our own network.

A tenant could otherwise point Trigly at a private, loopback or link-local address (the instance
metadata service, a VPC endpoint) and use our deliveries as a blind SSRF. So on AWS:

- the URL must be `https`, and at configuration time its host must not be, or resolve to, an
  address that is not globally reachable (`refusal` gives the reason, the API answers 422);
- at every connection the host is resolved again, every address it resolves to must be public,
  and the socket is opened to one of exactly those checked addresses (`client`), so a DNS answer
  that changes between the check and the connection (rebinding) cannot slip through. TLS is
  still verified against the URL's host name (SNI and certificate), and redirects are not
  followed.

The local stack sets `TRIGLY_OUTBOUND_ALLOW_PRIVATE=true`: plain http and loopback or private
addresses are then allowed (receivers run on 127.0.0.1 there); connections still go to the
addresses resolved at connect time.
"""

import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterable
from functools import lru_cache
from urllib.parse import urlsplit

import certifi
import httpcore
import httpx

from trigly.platform.settings import get_settings

Resolver = Callable[[str, int], list[str]]


class UnsafeDestination(httpcore.ConnectError):
    """A connection Trigly refuses to open (httpx reports it as a `ConnectError`)."""


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to, in the resolver's order, each once."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


_resolver: list[Resolver] = [system_resolver]


def use_resolver(resolver: Resolver) -> None:
    """Replace name resolution (tests: a name whose answer changes between two lookups)."""
    _resolver[0] = resolver


def _private_allowed() -> bool:
    return get_settings().outbound_allow_private


def is_public(address: str) -> bool:
    """A globally reachable unicast address (an IPv4-mapped IPv6 address counts as its IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _not_public(addresses: Iterable[str]) -> list[str]:
    return [a for a in addresses if not is_public(a)]


def refusal(url: str) -> str | None:
    """Why Trigly must not call `url`, or None. A host that does not resolve yet is accepted
    (its DNS may come later); every connection checks again."""
    parts = urlsplit(url)
    allow_private = _private_allowed()
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        return "must be an https URL"
    host = parts.hostname
    if not host:
        return "must name a host"
    if allow_private:
        return None
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = _resolver[0](host, parts.port or 443)
        except OSError:
            return None
    if _not_public(addresses):
        return "must point at a public address, not a private, loopback or link-local one"
    return None


class _CheckedBackend(httpcore.SyncBackend):
    """Opens a connection only to an address it has just resolved and checked."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = _resolver[0](host, port)
        except OSError as error:
            raise httpcore.ConnectError(f"{host} does not resolve") from error
        refused = [] if _private_allowed() else _not_public(addresses)
        if refused or not addresses:
            raise UnsafeDestination(f"{host} resolves to an address that is not public")
        failure: httpcore.ConnectError | None = None
        for address in addresses:  # the checked addresses, never a fresh lookup
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as error:
                failure = error
        assert failure is not None
        raise failure


class _CheckedTransport(httpx.HTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        # httpx builds its pool without a way to pass a network backend; this is that pool with
        # ours (TLS still verifies the URL's host: httpcore sends it as SNI above the socket).
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl.create_default_context(cafile=certifi.where()),
            network_backend=_CheckedBackend(),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        # A URL stored before these checks existed is held to them too.
        if request.url.scheme != "https" and not _private_allowed():
            raise httpx.ConnectError("only https URLs are called", request=request)
        return super().handle_request(request)


@lru_cache(maxsize=1)
def client() -> httpx.Client:
    """One client per container (keep-alive across deliveries), redirects off; callers pass
    their timeout per request."""
    # trust_env off: a proxy from the environment would connect on our behalf, unchecked.
    return httpx.Client(transport=_CheckedTransport(), follow_redirects=False, trust_env=False)
