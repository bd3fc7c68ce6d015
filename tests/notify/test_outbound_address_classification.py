"""Which addresses the server may send to (tocsin.outbound): a pure decision, no
network. Names are resolved by a stand-in resolver."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tocsin.outbound import (
    OutboundPolicy,
    classify,
    host_refusal,
    parse_allow,
    refusal,
    url_refusal,
)
from tocsin.settings import ConfigError, load_settings

NONE = OutboundPolicy()


@pytest.mark.parametrize(("address", "kind"), [
    ("127.0.0.1", "loopback"), ("127.255.3.9", "loopback"), ("::1", "loopback"),
    ("10.0.0.1", "private"), ("172.16.5.4", "private"), ("172.31.255.255", "private"),
    ("192.168.1.1", "private"), ("fd12:3456::1", "private"), ("fc00::1", "private"),
    ("169.254.169.254", "link-local"), ("fe80::1", "link-local"),
    ("0.0.0.0", "unspecified"), ("0.1.2.3", "unspecified"), ("::", "unspecified"),
    ("100.64.0.1", "shared (carrier-grade NAT)"), ("100.127.255.254", "shared (carrier-grade NAT)"),
    ("224.0.0.1", "multicast"), ("239.1.2.3", "multicast"), ("ff02::1", "multicast"),
    ("255.255.255.255", "reserved"), ("240.0.0.1", "reserved"),
    ("192.0.2.10", "documentation"), ("2001:db8::1", "documentation"),
    ("198.18.0.1", "benchmarking"),
    # IPv6 forms that carry an IPv4 address are judged by that address.
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:169.254.169.254", "link-local"),
    ("::ffff:10.1.2.3", "private"), ("64:ff9b::a00:1", "private"),
    ("2002:7f00:1::", "loopback"), ("2002:a9fe:a9fe::1", "link-local"),
    ("::127.0.0.1", "reserved"),  # IPv4-compatible, deprecated
    ("3fff::1", "documentation"), ("4000::1", "reserved"),  # outside global unicast
])
def test_internal_addresses_are_refused_with_their_kind(address: str, kind: str) -> None:
    ip = ipaddress.ip_address(address)
    assert classify(ip) == kind
    assert refusal(ip, NONE) == f"{ip} is a {kind} address"


@pytest.mark.parametrize("address", [
    "8.8.8.8", "1.1.1.1", "93.184.216.34", "172.32.0.1", "172.15.255.255", "100.128.0.1",
    "11.0.0.1", "2606:4700:4700::1111", "2a00:1450:4001::200e", "::ffff:8.8.8.8",
    "64:ff9b::808:808", "2002:808:808::1"])
def test_public_addresses_pass(address: str) -> None:
    assert refusal(ipaddress.ip_address(address), NONE) is None


ipv4 = st.builds(ipaddress.IPv4Address, st.integers(0, 2**32 - 1))
ipv6 = st.builds(ipaddress.IPv6Address, st.integers(0, 2**128 - 1))


@given(ipv4)
def test_an_ipv4_address_and_its_ipv6_forms_are_judged_alike(address: ipaddress.IPv4Address,
                                                             ) -> None:
    mapped = ipaddress.IPv6Address(f"::ffff:{address}")
    nat64 = ipaddress.IPv6Address(int(ipaddress.IPv6Address("64:ff9b::")) | int(address))
    sixtofour = ipaddress.IPv6Address((0x2002 << 112) | (int(address) << 80) | 1)
    assert classify(mapped) == classify(nat64) == classify(sixtofour) == classify(address)


@given(st.one_of(ipv4, ipv6))
def test_whatever_the_standard_library_calls_non_global_is_refused(
        address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    # Forms carrying an IPv4 address are judged by that address (the library calls every
    # IPv4-mapped address private, ::ffff:8.8.8.8 included).
    carries_ipv4 = isinstance(address, ipaddress.IPv6Address) and (
        address.ipv4_mapped or address.sixtofour
        or address in ipaddress.IPv6Network("64:ff9b::/96"))
    if not address.is_global and not carries_ipv4:
        assert classify(address) is not None


@given(st.one_of(ipv4, ipv6), st.integers(0, 32))
def test_an_allowed_network_admits_its_addresses(
        address: ipaddress.IPv4Address | ipaddress.IPv6Address, prefix: int) -> None:
    network = ipaddress.ip_network(f"{address}/{prefix * address.max_prefixlen // 32}",
                                   strict=False)
    assert refusal(address, OutboundPolicy(networks=(network,))) is None


def test_an_allowed_ipv4_network_admits_its_ipv4_mapped_form() -> None:
    policy = parse_allow(["127.0.0.0/8"])
    assert refusal(ipaddress.ip_address("::ffff:127.0.0.1"), policy) is None
    assert refusal(ipaddress.ip_address("::1"), policy) == "::1 is a loopback address"


def test_allow_entries_are_networks_addresses_names_and_wildcards() -> None:
    policy = parse_allow(["10.20.0.0/16", "192.168.1.7", "::1", "Hooks.Corp.Example.",
                          "*.chat.internal"])
    assert refusal(ipaddress.ip_address("10.20.3.4"), policy) is None
    assert refusal(ipaddress.ip_address("10.21.0.1"), policy) is not None
    assert refusal(ipaddress.ip_address("192.168.1.7"), policy) is None
    assert policy.allows_host("hooks.corp.example")
    assert policy.allows_host("mm.chat.internal") and not policy.allows_host("chat.internal")
    with pytest.raises(ValueError, match="'not a host!'"):
        parse_allow(["10.0.0.0/8", "not a host!"])
    with pytest.raises(ValueError, match=r"'10\.0\.0\.0/33'"):
        parse_allow(["10.0.0.0/33"])


def test_a_bad_allow_entry_stops_the_settings_naming_the_variable() -> None:
    with pytest.raises(ConfigError, match="TOCSIN_OUTBOUND_ALLOW"):
        load_settings(env="dev", outbound_allow=["http://10.0.0.1/"])
    assert load_settings(env="dev").outbound_allow == []  # the default refuses


def answers(*addresses: str) -> Any:
    def resolve(host: str, port: int | None) -> list[tuple[Any, ...]]:
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, 0)) for a in addresses]
    return resolve


def test_a_name_is_refused_if_any_of_its_answers_is_internal() -> None:
    assert host_refusal("hooks.example.com", NONE, answers("93.184.216.34")) is None
    assert host_refusal("hooks.example.com", NONE, answers("93.184.216.34", "10.0.0.7")) == \
        "hooks.example.com resolves to 10.0.0.7 is a private address"
    assert url_refusal("http://LocalHost.:8080/x", NONE, answers("127.0.0.1")) == \
        "localhost resolves to 127.0.0.1 is a loopback address"


def test_a_name_that_does_not_resolve_now_is_left_to_the_send_time_check() -> None:
    assert host_refusal("not-yet.example.com", NONE, answers()) is None


def test_an_allowed_name_passes_whatever_it_resolves_to() -> None:
    policy = parse_allow(["relay.corp.example"])
    assert host_refusal("relay.corp.example", policy, answers("10.0.0.7")) is None
    assert host_refusal("other.corp.example", policy, answers("10.0.0.7")) is not None


def test_literal_addresses_in_urls_are_judged_without_a_lookup() -> None:
    def no_lookup(host: str, port: int | None) -> list[tuple[Any, ...]]:
        raise AssertionError("looked up")
    assert url_refusal("http://[::ffff:127.0.0.1]:81/", NONE, no_lookup) == \
        "::ffff:7f00:1 is a loopback address"
    assert url_refusal("https://169.254.169.254/latest/meta-data/", NONE, no_lookup) == \
        "169.254.169.254 is a link-local address"
    assert url_refusal("https://8.8.8.8/", NONE, no_lookup) is None
