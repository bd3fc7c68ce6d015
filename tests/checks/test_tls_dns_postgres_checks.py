"""TLS certificate, DNS and PostgreSQL checks against real servers on loopback."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import timedelta

import dns.flags
import dns.message
import dns.rcode
import dns.rrset
import pytest

from tests.checks import certs, servers
from tests.checks.test_http_check_against_real_servers import run
from tests.conftest import DEFAULT_PG, pg_available


@pytest.fixture(scope="module")
def ca() -> certs.Authority:
    return certs.make_ca()


@pytest.fixture(scope="module")
def tls_servers(ca: certs.Authority, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[dict[str, servers.LoopbackServer]]:
    tmp = tmp_path_factory.mktemp("certs")
    contexts = {
        "valid": certs.server_context(ca, tmp, names=("localhost", "127.0.0.1")),
        "expired": certs.server_context(ca, tmp, names=("localhost",),
                                        not_before=timedelta(days=-90),
                                        not_after=timedelta(days=-1)),
        "wrong_name": certs.server_context(ca, tmp, names=("other.example",)),
        "expiring": certs.server_context(ca, tmp, names=("localhost",),
                                         not_after=timedelta(days=5)),
    }
    with servers.serve(contexts["valid"]) as v, servers.serve(contexts["expired"]) as e, \
            servers.serve(contexts["wrong_name"]) as w, servers.serve(contexts["expiring"]) as x:
        yield {"valid": v, "expired": e, "wrong_name": w, "expiring": x}


def tls(server: servers.LoopbackServer, ca: certs.Authority, **over: object) -> dict[str, object]:
    return {"host": "127.0.0.1", "port": server.port, "server_name": "localhost",
            "ca_pem": ca.pem, **over}


def test_valid_certificate_passes(tls_servers: dict[str, servers.LoopbackServer],
                                  ca: certs.Authority) -> None:
    out = run("tls", tls(tls_servers["valid"], ca))
    assert out.ok, out.reason


def test_expired_certificate_fails(tls_servers: dict[str, servers.LoopbackServer],
                                   ca: certs.Authority) -> None:
    out = run("tls", tls(tls_servers["expired"], ca))
    assert not out.ok and "expired" in (out.reason or "")


def test_wrong_hostname_fails_unless_name_checks_are_off(
        tls_servers: dict[str, servers.LoopbackServer], ca: certs.Authority) -> None:
    out = run("tls", tls(tls_servers["wrong_name"], ca))
    assert not out.ok and "mismatch" in (out.reason or "").lower()
    assert run("tls", tls(tls_servers["wrong_name"], ca, check_hostname=False)).ok


def test_untrusted_chain_fails(tls_servers: dict[str, servers.LoopbackServer]) -> None:
    out = run("tls", {"host": "127.0.0.1", "port": tls_servers["valid"].port,
                      "server_name": "localhost"})
    assert not out.ok and "certificate" in (out.reason or "").lower()


def test_expiry_threshold(tls_servers: dict[str, servers.LoopbackServer],
                          ca: certs.Authority) -> None:
    out = run("tls", tls(tls_servers["expiring"], ca, min_days_valid=14))
    reason = out.reason or ""
    assert not out.ok and ("expires in 4.9 days" in reason or "expires in 5.0 days" in reason)
    assert run("tls", tls(tls_servers["expiring"], ca, min_days_valid=3)).ok


def test_https_check_with_and_without_verification(
        tls_servers: dict[str, servers.LoopbackServer], ca: certs.Authority) -> None:
    url = f"https://localhost:{tls_servers['valid'].port}/ok"
    assert run("http", {"url": url, "ca_pem": ca.pem, "keyword": "systems go"}).ok
    expired = f"https://localhost:{tls_servers['expired'].port}/ok"
    out = run("http", {"url": expired, "ca_pem": ca.pem})
    assert not out.ok and "certificate" in (out.reason or "").lower()
    assert run("http", {"url": expired, "verify_tls": False}).ok


# ---- DNS: a tiny authoritative responder built with dnspython --------------------------------

ZONE = {("app.example.test.", "A"): ["10.0.0.7", "10.0.0.8"],
        ("app.example.test.", "TXT"): ['"v=spf1 -all"'],
        ("mail.example.test.", "MX"): ["10 mx1.example.test."]}


@pytest.fixture(scope="module")
def resolver() -> Iterator[int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                wire, peer = sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(wire)
            question = query.question[0]
            reply = dns.message.make_response(query)
            reply.flags |= dns.flags.AA
            name, rdtype = question.name.to_text(), dns.rdatatype.to_text(question.rdtype)
            values = ZONE.get((name, rdtype))
            if name == "silent.example.test.":
                continue  # never answers: the check must time out cleanly
            if values:
                reply.answer.append(dns.rrset.from_text_list(name, 60, "IN", rdtype, values))
            elif not any(n == name for n, _ in ZONE):
                reply.set_rcode(dns.rcode.NXDOMAIN)
            sock.sendto(reply.to_wire(), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(sock.getsockname()[1])
    stop.set()
    thread.join(2)
    sock.close()


def dns_check(port: int, name: str, record_type: str = "A", **over: object) -> dict[str, object]:
    return {"name": name, "record_type": record_type, "resolver": "127.0.0.1", "port": port,
            **over}


def test_dns_record_matches_expected_values(resolver: int) -> None:
    assert run("dns", dns_check(resolver, "app.example.test", expected=["10.0.0.7"])).ok
    assert run("dns", dns_check(resolver, "app.example.test",
                                expected=["10.0.0.8", "10.0.0.7"], exact=True)).ok
    assert run("dns", dns_check(resolver, "mail.example.test", "MX",
                                expected=["10 mx1.example.test"])).ok
    assert run("dns", dns_check(resolver, "app.example.test", "TXT",
                                expected=["v=spf1 -all"])).ok


def test_dns_mismatch_nxdomain_no_answer_and_timeout(resolver: int) -> None:
    out = run("dns", dns_check(resolver, "app.example.test", expected=["10.9.9.9"]))
    assert not out.ok and "10.0.0.7, 10.0.0.8" in (out.reason or "")
    out = run("dns", dns_check(resolver, "app.example.test", expected=["10.0.0.7"], exact=True))
    assert not out.ok
    assert "NXDOMAIN" in (run("dns", dns_check(resolver, "nope.example.test")).reason or "")
    assert "no AAAA record" in (run("dns", dns_check(resolver, "app.example.test",
                                                     "AAAA")).reason or "")
    out = run("dns", dns_check(resolver, "silent.example.test"), timeout=0.5)
    assert not out.ok and "did not answer" in (out.reason or "")


# ---- PostgreSQL reachability ---------------------------------------------------------------------

def test_postgres_reachable_and_unreachable() -> None:
    reason = pg_available(DEFAULT_PG)
    if reason:
        pytest.skip(reason)
    assert run("postgres", {"dsn": "postgresql://postgres@127.0.0.1:5432/postgres"}).ok
    out = run("postgres", {"dsn": f"postgresql://postgres@127.0.0.1:{servers.closed_port()}/x"})
    assert not out.ok and "database error" in (out.reason or "")
    out = run("postgres", {"dsn": "postgresql://postgres@127.0.0.1:5432/no_such_db_here"})
    assert not out.ok and "no_such_db_here" in (out.reason or "")
