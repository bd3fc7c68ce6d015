"""Request and response shapes for checks, their per-kind settings, probes and results."""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tocsin.checks.models import CheckKind, CheckStatus
from tocsin.limits import INT32_MAX, Count, Id

RECORD_TYPES = ("A", "AAAA", "CNAME", "MX", "TXT", "NS", "SOA", "SRV", "CAA", "PTR")
LocationName = str


StatusCode = Annotated[int, Field(ge=100, le=599)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HttpConfig(_Strict):
    url: str = Field(max_length=2000)
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = Field(None, max_length=65536)
    expected_status: list[StatusCode] = Field(default_factory=list, description="Empty: 200-399.")
    keyword: str | None = Field(None, min_length=1, max_length=1000)
    keyword_absent: str | None = Field(None, min_length=1, max_length=1000)
    json_path: str | None = Field(None, min_length=1, max_length=500)
    json_equals: Any = None
    max_latency_ms: int | None = Field(None, ge=1, le=INT32_MAX)
    follow_redirects: bool = True
    verify_tls: bool = True
    ca_pem: str | None = Field(None, description="Extra CA certificates (PEM) to trust.")
    fresh_connection: bool = Field(False, description="New connection (and TLS handshake) "
                                   "for every run instead of a kept-alive one.")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"'{value}' is not an http:// or https:// URL with a host")
        try:
            _ = parts.port
        except ValueError:
            raise ValueError(f"'{value}' has an invalid port") from None
        return value

    @field_validator("expected_status")
    @classmethod
    def _statuses(cls, value: list[int]) -> list[int]:
        bad = [s for s in value if not 100 <= s <= 599]
        if bad:
            raise ValueError(f"not HTTP status codes: {bad}")
        return value


def _host_name(value: str) -> str:
    value = value.strip()
    bad_chars = any(c in value for c in "/ @?#") or (":" in value and not _is_ip(value))
    if not value or len(value) > 253 or bad_chars:
        raise ValueError(f"'{value}' is not a host name or IP address")
    return value


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        return False


class TcpConfig(_Strict):
    host: str
    port: int = Field(ge=1, le=65535)

    @field_validator("host")
    @classmethod
    def _valid_host(cls, value: str) -> str:
        return _host_name(value)


class TlsConfig(_Strict):
    host: str
    port: int = Field(443, ge=1, le=65535)
    server_name: str | None = Field(None, description="SNI and expected name; default host.")
    min_days_valid: int = Field(14, ge=0, le=3650)
    check_hostname: bool = True
    ca_pem: str | None = None

    @field_validator("host")
    @classmethod
    def _valid_host(cls, value: str) -> str:
        return _host_name(value)


class DnsConfig(_Strict):
    name: str = Field(min_length=1, max_length=253)
    record_type: str = "A"
    resolver: str = Field(description="IP address of the resolver to ask.")
    port: int = Field(53, ge=1, le=65535)
    expected: list[str] = Field(default_factory=list)
    exact: bool = Field(False, description="Answer must equal `expected`, not just contain it.")

    @field_validator("record_type")
    @classmethod
    def _type(cls, value: str) -> str:
        if value.upper() not in RECORD_TYPES:
            raise ValueError(f"unknown record type '{value}'; use one of "
                             f"{', '.join(RECORD_TYPES)}")
        return value.upper()

    @field_validator("resolver")
    @classmethod
    def _resolver(cls, value: str) -> str:
        if not _is_ip(value):
            raise ValueError(f"resolver must be an IP address, got '{value}'")
        return value


class PostgresConfig(_Strict):
    dsn: str = Field(min_length=1, max_length=2000,
                     description="libpq connection string or postgresql:// URL.")


class MysqlConfig(_Strict):
    """MySQL or MariaDB: connect (PyMySQL, pure Python) and run `SELECT 1`."""

    host: str = Field(min_length=1, max_length=253)
    port: int = Field(3306, ge=1, le=65535)
    user: str = Field(min_length=1, max_length=128)
    password: str = Field("", max_length=1000)
    database: str | None = Field(None, min_length=1, max_length=64)
    tls: bool = Field(False, description="Require TLS (the server's certificate is verified).")

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        return _host_name(value)


CONFIG_MODELS: dict[CheckKind, type[_Strict]] = {
    CheckKind.HTTP: HttpConfig, CheckKind.TCP: TcpConfig, CheckKind.TLS: TlsConfig,
    CheckKind.DNS: DnsConfig, CheckKind.POSTGRES: PostgresConfig, CheckKind.MYSQL: MysqlConfig,
}


class CheckCreate(_Strict):
    name: str = Field(min_length=1, max_length=200)
    kind: CheckKind
    service_id: Id
    interval_seconds: int = Field(60, ge=1, le=86400)
    timeout_seconds: float = Field(10.0, gt=0, le=120)
    config: dict[str, Any]
    locations: list[LocationName] = Field(default_factory=lambda: ["server"], min_length=1,
                                          max_length=50)
    confirm_failures: int = Field(1, ge=1, le=100,
                                  description="N consecutive failures per location.")
    confirm_locations: int | None = Field(None, ge=1, le=50,
                                          description="K locations; default a majority.")
    enabled: bool = True


class CheckUpdate(_Strict):
    name: str | None = Field(None, min_length=1, max_length=200)
    service_id: Id | None = None
    interval_seconds: int | None = Field(None, ge=1, le=86400)
    timeout_seconds: float | None = Field(None, gt=0, le=120)
    config: dict[str, Any] | None = None
    locations: list[LocationName] | None = Field(None, min_length=1, max_length=50)
    confirm_failures: int | None = Field(None, ge=1, le=100)
    confirm_locations: int | None = Field(None, ge=1, le=50)
    enabled: bool | None = None


class LocationStatus(BaseModel):
    location: str
    ok: bool
    consecutive: int
    last_at: datetime
    latency_ms: int | None
    reason: str | None
    live: bool


class CheckOut(BaseModel):
    id: int
    name: str
    kind: CheckKind
    service_id: Id
    interval_seconds: int
    timeout_seconds: float
    config: dict[str, Any]
    locations: list[str]
    confirm_failures: int
    confirm_locations: int | None
    enabled: bool
    status: CheckStatus
    status_changed_at: datetime | None
    status_reason: str | None
    last_checked_at: datetime | None
    last_latency_ms: int | None
    created_at: datetime


class CheckDetail(CheckOut):
    per_location: list[LocationStatus]


class CheckPage(BaseModel):
    items: list[CheckOut]
    next_cursor: str | None


class ResultOut(BaseModel):
    location: str
    at: datetime
    ok: bool
    latency_ms: int | None
    reason: str | None


class HistoryPoint(BaseModel):
    start: datetime
    total: int
    ok: int
    uptime_pct: float | None
    latency_avg_ms: float | None
    latency_max_ms: int | None


class History(BaseModel):
    check_id: Id
    period: Literal["hour", "day"]
    uptime_pct: float | None
    points: list[HistoryPoint]


class ProbeCreate(_Strict):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9._-]*$",
                      description="The location name checks refer to (not 'server').")


class ProbeOut(BaseModel):
    id: int
    name: str
    status: str
    last_seen_at: datetime | None
    created_at: datetime


class ProbeCreated(ProbeOut):
    token: str = Field(description="Shown once: pass it to `tocsin probe --token`.")


class Assignment(BaseModel):
    id: int
    kind: CheckKind
    interval_seconds: int
    timeout_seconds: float
    config: dict[str, Any]
    run_requested_at: datetime | None = Field(
        None, description="Set while a 'run now' for this check is pending: an agent runs the "
        "check at once when this differs from the value it last saw.")


class RunScheduled(BaseModel):
    check_id: Id
    requested_at: datetime
    server: bool = Field(description="Due now on the server's runner.")
    probes: list[str] = Field(description="Probe locations that run it at their next pull.")
    expires_at: datetime | None = Field(description="A probe that has not pulled by then "
                                        "skips this request and runs on its own schedule.")


class PushedResult(_Strict):
    check_id: Id
    at: datetime
    ok: bool
    latency_ms: Count | None = None
    reason: str | None = Field(None, max_length=500)


class PushBatch(_Strict):
    results: list[PushedResult] = Field(max_length=5000)


class PushAnswer(BaseModel):
    accepted: int
    ignored: int
