"""Which addresses the server may send to on a user's behalf.

A contact method's URL makes this server open a connection: without a guard any responder
could make it POST to its own loopback services, the private network or a cloud metadata
endpoint (169.254.169.254). Addresses that are not public are refused unless the admin's
`outbound_allow` setting names them. Deciding is pure (`refusal`); looking names up is the
caller's (`host_refusal` takes the resolver), and senders check the address they actually
connect to, after their own lookup, so a name that changes its answer (DNS rebinding)
cannot get past the check made when the method was added.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# socket.getaddrinfo's shape: (family, type, proto, canonname, sockaddr) per answer.
Resolve = Callable[[str, int | None], Sequence[tuple[Any, ...]]]

ALLOW_SETTING = "outbound_allow"

# Most specific first: the first range an address falls in names why it is refused.
_V4_RANGES: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/8", "unspecified"),
    ("127.0.0.0/8", "loopback"),
    ("10.0.0.0/8", "private"),
    ("172.16.0.0/12", "private"),
    ("192.168.0.0/16", "private"),
    ("100.64.0.0/10", "shared (carrier-grade NAT)"),
    ("169.254.0.0/16", "link-local"),  # cloud metadata services live here
    ("192.0.0.0/24", "reserved"),
    ("192.0.2.0/24", "documentation"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("198.18.0.0/15", "benchmarking"),
    ("192.88.99.0/24", "reserved"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),  # and 255.255.255.255, broadcast
)
_V6_RANGES: tuple[tuple[str, str], ...] = (
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("::/96", "reserved"),  # IPv4-compatible, deprecated
    ("64:ff9b:1::/48", "private"),  # local-use NAT64
    ("100::/64", "reserved"),  # discard-only
    ("2001:db8::/32", "documentation"),
    ("3fff::/20", "documentation"),
    ("2001::/23", "reserved"),  # IETF protocol assignments, Teredo among them
    ("fc00::/7", "private"),  # unique local
    ("fe80::/10", "link-local"),
    ("fec0::/10", "private"),  # site-local, deprecated
    ("ff00::/8", "multicast"),
)
_V4 = tuple((ipaddress.IPv4Network(n), kind) for n, kind in _V4_RANGES)
_V6 = tuple((ipaddress.IPv6Network(n), kind) for n, kind in _V6_RANGES)
_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_HOSTNAME = re.compile(r"^(\*\.)?([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*"
                       r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$")


class RefusedTarget(Exception):
    """A connection to a refused address was about to be made; the message says which
    and why. Not an OSError, so HTTP clients do not take it for a network failure and
    retry another address."""


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries and is routed to (IPv4-mapped, NAT64,
    6to4), so ::ffff:127.0.0.1 is judged as 127.0.0.1."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def classify(address: IPAddress) -> str | None:
    """Why `address` is not a public unicast address ("loopback", "private", …); None
    when it is."""
    inner = embedded_ipv4(address)
    if inner is not None:
        return classify(inner)
    if isinstance(address, ipaddress.IPv4Address):
        return next((kind for net, kind in _V4 if address in net), None)
    kind = next((kind for net, kind in _V6 if address in net), None)
    if kind is None and address not in _GLOBAL_UNICAST:
        return "reserved"  # IANA has allocated no other IPv6 unicast space
    return kind


def _normal_host(host: str) -> str:
    return host.strip().lower().rstrip(".").removeprefix("[").removesuffix("]")


@dataclass(frozen=True)
class OutboundPolicy:
    """The admin's exceptions: networks, exact host names, and `*.domain` wildcards."""

    networks: tuple[IPNetwork, ...] = ()
    hostnames: frozenset[str] = frozenset()
    domains: tuple[str, ...] = ()  # ".corp.example" for "*.corp.example"

    def allows_host(self, host: str) -> bool:
        name = _normal_host(host)
        return name in self.hostnames or any(name.endswith(d) for d in self.domains)

    def allows_address(self, address: IPAddress) -> bool:
        inner = embedded_ipv4(address)
        return any(address in net or (inner is not None and inner in net)
                   for net in self.networks)


def parse_allow(entries: Iterable[str]) -> OutboundPolicy:
    """The policy `outbound_allow` describes; ValueError names each entry that is neither
    an address, a network (CIDR) nor a host name."""
    networks: list[IPNetwork] = []
    hostnames: set[str] = set()
    domains: list[str] = []
    bad: list[str] = []
    for raw in entries:
        entry = _normal_host(raw)
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
            continue
        except ValueError:
            pass
        if not _HOSTNAME.match(entry) or entry.replace(".", "").isdigit():
            bad.append(repr(raw))
        elif entry.startswith("*."):
            domains.append(entry[1:])
        else:
            hostnames.add(entry)
    if bad:
        raise ValueError(f"{', '.join(bad)}: not an IP address, a network such as "
                         "10.0.0.0/8, a host name, or *.domain")
    return OutboundPolicy(tuple(networks), frozenset(hostnames), tuple(domains))


@lru_cache(maxsize=16)
def policy_of(entries: tuple[str, ...]) -> OutboundPolicy:
    """parse_allow, once per distinct setting (senders ask for it on every message)."""
    return parse_allow(entries)


def refusal(address: IPAddress, policy: OutboundPolicy) -> str | None:
    """Why the server must not connect to `address` (None: it may)."""
    if policy.allows_address(address):
        return None
    kind = classify(address)
    return None if kind is None else f"{address} is a {kind} address"


def literal_address(host: str) -> IPAddress | None:
    name = _normal_host(host)
    if not (name[-1:].isdigit() or ":" in name):
        return None  # a name: spares a raised ValueError on every page
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def literal_refusal(host: str, policy: OutboundPolicy) -> str | None:
    """refusal() of a host written as an address (None for a name). Cached: a sender asks
    for every message, mostly about the same few receivers."""
    literal = literal_address(host)
    return None if literal is None else refusal(literal, policy)


def checked_answers(host: str, answers: Iterable[str], policy: OutboundPolicy) -> None:
    """Raise RefusedTarget if any address `host` resolved to is refused. Every answer
    counts, not only the first: a client may connect to any of them."""
    if policy.allows_host(host):
        return
    for answer in answers:
        address = literal_address(answer.split("%", 1)[0])  # drop an IPv6 zone
        reason = None if address is None else refusal(address, policy)
        if reason is not None:
            raise RefusedTarget(f"{_normal_host(host)} resolves to {reason}")


def host_refusal(host: str, policy: OutboundPolicy,
                 resolve: Resolve | None = None) -> str | None:
    """Why `host` (a name or an address) must not be reached now. A name that does not
    resolve is not refused: it may resolve later, and is checked again when sent to."""
    if policy.allows_host(host):
        return None
    literal = literal_address(host)
    if literal is not None:
        return refusal(literal, policy)
    try:
        # socket.getaddrinfo looked up at call time: tests replace it to play a resolver.
        infos = (resolve or socket.getaddrinfo)(_normal_host(host), None)
    except (OSError, UnicodeError):
        return None
    try:
        checked_answers(host, (str(info[4][0]) for info in infos), policy)
    except RefusedTarget as exc:
        return str(exc)
    return None


def url_refusal(url: str, policy: OutboundPolicy, resolve: Resolve | None = None) -> str | None:
    """host_refusal for the host of `url` (None when it has none)."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return None if not host else host_refusal(host, policy, resolve)


def refused_message(reason: str) -> str:
    """The error people see: what was refused, and the setting that would allow it."""
    return (f"refused: {reason}; the server sends only to public addresses unless an "
            f"admin allows this target ({ALLOW_SETTING} setting)")
