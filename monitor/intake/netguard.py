"""SSRF guard: refuse URLs that point at this machine, its network or a cloud metadata service.

Two layers, because a check made before connecting can be outwitted by DNS rebinding (the name
resolves to a public address for the check and to 127.0.0.1 a moment later for the connect):

1. `check_url` refuses bad schemes, missing hosts and hosts resolving to forbidden addresses,
   with a clear message, before any request is made.
2. The session from `make_session(allow_private=False)` checks again at connect time: its
   resolver refuses any name that resolves to a forbidden address, and its socket factory refuses
   to open a socket to one (this also covers literal IPs, which aiohttp never passes to a
   resolver). Whatever `check_url` saw, the connection itself cannot reach a private address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable, Mapping
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from monitor import __version__
from monitor.errors import UnsafeURLError

__all__ = [
    "DEFAULT_TIMEOUT",
    "DEFAULT_USER_AGENT",
    "GuardedResolver",
    "RefusedAddressError",
    "check_url",
    "is_forbidden_address",
    "make_session",
    "refusal",
]

DEFAULT_USER_AGENT = f"news-monitor/{__version__} (+https://github.com/news-monitor/news-monitor)"
DEFAULT_TIMEOUT = aiohttp.ClientTimeout(total=30, sock_connect=10, sock_read=15)
ACCEPT_ENCODING = "gzip, deflate, br"
PRIVATE_ADDRESS = "private address"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Ranges `ipaddress` flags inconsistently across Python versions, listed so the policy is stable.
_EXTRA_FORBIDDEN = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",  # "this network"; 0.0.0.0 reaches localhost on Linux
        "100.64.0.0/10",  # shared address space (carrier-grade NAT)
        "192.0.0.0/24",  # IETF protocol assignments
        "198.18.0.0/15",  # benchmarking
        "240.0.0.0/4",  # reserved, incl. 255.255.255.255
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # deprecated site-local
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class RefusedAddressError(OSError):
    """Raised by the guarded socket factory: an OSError so aiohttp reports it as a connect error."""


def refusal(url: str, reason: str) -> str:
    """The one wording of a refusal, shared by the pre-check and the connect-time guard."""
    return f"fetch: refused {url} ({reason})"


def is_forbidden_address(address: str | IPAddress) -> bool:
    """True for loopback, private, link-local, multicast, reserved, unspecified or shared space.

    IPv6 forms that embed an IPv4 address (IPv4-mapped, 6to4, NAT64, Teredo) are judged by the
    IPv4 address they carry, so ::ffff:127.0.0.1 is as forbidden as 127.0.0.1.
    """
    if isinstance(address, str):
        try:
            ip: IPAddress = ipaddress.ip_address(address)
        except ValueError:
            return True  # not an address we can judge: refuse rather than guess
    else:
        ip = address
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None and is_forbidden_address(embedded):
            return True
    return (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
        or any(ip in net for net in _EXTRA_FORBIDDEN if net.version == ip.version)
    )


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]  # the client address
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


async def check_url(url: str, *, allow_private: bool) -> None:
    """Refuse `url` unless it is http(s) with a host that resolves only to public addresses.

    Raises UnsafeURLError("fetch: refused <url> (<reason>)"). A host that cannot be resolved
    raises OSError (socket.gaierror): that is a network failure, not a refusal.
    The URL is parsed with yarl, the parser aiohttp connects with, so both see the same host.
    """
    try:
        parsed = URL(url)
    except (ValueError, TypeError) as exc:
        raise UnsafeURLError(refusal(url, f"invalid URL: {exc}")) from exc
    scheme = parsed.scheme.lower()
    if scheme not in ("http", "https"):
        reason = f"unsupported scheme {scheme!r}" if scheme else "no scheme"
        raise UnsafeURLError(refusal(url, reason))
    host = parsed.raw_host
    if not host:
        raise UnsafeURLError(refusal(url, "no host"))
    if allow_private:
        return
    name = host.rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        # RFC 6761: always loopback, whatever a resolver says; no lookup needed
        raise UnsafeURLError(refusal(url, PRIVATE_ADDRESS))
    for address in await _resolve(host, parsed.port or 0):
        if is_forbidden_address(address):
            raise UnsafeURLError(refusal(url, PRIVATE_ADDRESS))


async def _resolve(host: str, port: int) -> list[str]:
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    if not infos:
        raise socket.gaierror(socket.EAI_NONAME, f"no address for {host}")
    return [str(sockaddr[0]) for _family, _type, _proto, _name, sockaddr in infos]


class GuardedResolver(AbstractResolver):
    """Wraps a resolver and refuses names resolving to a forbidden address, at connect time.

    Refusing the whole name (not just dropping its bad addresses) keeps the outcome the same
    as `check_url`'s, so a rebinding name fails loudly instead of half-working.
    """

    def __init__(self, inner: AbstractResolver | None = None) -> None:
        self._inner = inner if inner is not None else aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        for result in results:
            if is_forbidden_address(result["host"]):
                # host only: the resolver never sees the URL; fetch rewords it with the URL
                raise UnsafeURLError(refusal(host, PRIVATE_ADDRESS))
        return results

    async def close(self) -> None:
        await self._inner.close()


def _guarded_socket(addr_info: tuple[Any, ...]) -> socket.socket:
    """aiohttp socket factory: the last check, on the exact address about to be connected to."""
    family, type_, proto, _canonname, sockaddr = addr_info
    if is_forbidden_address(str(sockaddr[0])):
        raise RefusedAddressError(f"{PRIVATE_ADDRESS} {sockaddr[0]} refused")
    return socket.socket(family=family, type=type_, proto=proto)


def make_session(
    *,
    allow_private: bool,
    user_agent: str = DEFAULT_USER_AGENT,
    timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
    limit: int = 100,
    limit_per_host: int = 4,
    resolver: AbstractResolver | None = None,
    headers: Mapping[str, str] | None = None,
    trace_configs: Iterable[aiohttp.TraceConfig] | None = None,
) -> aiohttp.ClientSession:
    """Build the client session every outbound request should use. Call inside a running loop.

    With allow_private=False the connector refuses private addresses at connect time (see the
    module docstring). `resolver` replaces the system resolver (it is still guarded).
    Cookies are not kept and proxy settings from the environment are ignored: a proxy would
    connect on our behalf, out of reach of the guard.
    """
    connector = aiohttp.TCPConnector(
        limit=limit,
        limit_per_host=limit_per_host,
        resolver=resolver if allow_private else GuardedResolver(resolver),
        socket_factory=None if allow_private else _guarded_socket,
    )
    session_headers = {"User-Agent": user_agent, "Accept-Encoding": ACCEPT_ENCODING}
    session_headers.update(headers or {})
    return aiohttp.ClientSession(
        connector=connector,
        timeout=timeout,
        headers=session_headers,
        auto_decompress=True,
        trust_env=False,
        cookie_jar=aiohttp.DummyCookieJar(),
        trace_configs=list(trace_configs) if trace_configs else None,
    )
