"""Intake fixtures: a real uvicorn server on loopback, services and integrations."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient

from tests.conftest import STARTUP_SECONDS, Account
from tocsin.app import create_served_app
from tocsin.runtime import Runtime


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, proc: subprocess.Popen[Any],
               timeout: float = STARTUP_SECONDS) -> bool:
    """True once `url` answers 200; False if `proc` exits or `timeout` passes first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    return False


def make_cert(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the official PagerDuty client insists on
    https://); returns (certificate, key) paths."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@contextmanager
def serve(runtime: Runtime, port: int = 0, **ssl: Any) -> Iterator[int]:
    """Run the app as `tocsin api` does (intake paths on the fast lane) with uvicorn on
    127.0.0.1 (`port`, or an ephemeral one) in a thread; yields the port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_served_app(runtime), log_level="warning", access_log=False,
                            timeout_graceful_shutdown=1, **ssl)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@pytest.fixture
def live_url(runtime: Runtime) -> Iterator[str]:
    """Plain-HTTP base URL of the app served by uvicorn on loopback."""
    with serve(runtime) as port:
        yield f"http://127.0.0.1:{port}"


@dataclass
class TlsServer:
    url: str
    ca: Path


@pytest.fixture
def tls_server(runtime: Runtime, tmp_path: Path) -> Iterator[TlsServer]:
    """The app over HTTPS on loopback with a throwaway self-signed certificate."""
    cert, key = make_cert(tmp_path)
    with serve(runtime, ssl_certfile=str(cert), ssl_keyfile=str(key)) as port:
        yield TlsServer(url=f"https://127.0.0.1:{port}", ca=cert)


@pytest.fixture
def make_service(client: TestClient, admin: Account) -> Callable[..., dict[str, Any]]:
    counter = iter(range(1, 10_000))

    def make(**body: Any) -> dict[str, Any]:
        body.setdefault("name", f"service-{next(counter)}")
        r = client.post("/api/v1/services", json=body, headers=admin.headers)
        assert r.status_code == 201, r.text
        out: dict[str, Any] = r.json()
        return out

    return make


@pytest.fixture
def make_integration(client: TestClient, admin: Account,
                     make_service: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    def make(kind: str = "pagerduty", service_id: int | None = None,
             **body: Any) -> dict[str, Any]:
        sid = service_id if service_id is not None else make_service()["id"]
        r = client.post("/api/v1/integrations", headers=admin.headers,
                        json={"service_id": sid, "kind": kind, "name": f"{kind} sender", **body})
        assert r.status_code == 201, r.text
        out: dict[str, Any] = r.json()
        return out

    return make
