"""Prometheus metrics of Tocsin itself, in a registry owned by one runtime (tests stay isolated)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.http_requests = Counter(
            "tocsin_http_requests_total",
            "HTTP requests answered, by method, route and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_latency = Histogram(
            "tocsin_http_request_seconds",
            "Time to answer an HTTP request, by route.",
            ["route"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.job_cycle = Histogram(
            "tocsin_job_cycle_seconds",
            "Duration of one run of an engine job.",
            ["job"],
            registry=self.registry,
            buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10),
        )
        self.slow_cycles = Counter(
            "tocsin_job_slow_cycles_total",
            "Engine job runs slower than slow_cycle_seconds.",
            ["job"],
            registry=self.registry,
        )
        self.timers_fired = Counter(
            "tocsin_timers_fired_total",
            "Timers whose handler ran, by kind and outcome.",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.timer_lateness = Histogram(
            "tocsin_timer_lateness_seconds",
            "How long after its due time a timer fired.",
            registry=self.registry,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
        )
        self.incidents_open = Gauge(
            "tocsin_incidents_open",
            "Open incidents, by severity (refreshed by the engine).",
            ["severity"],
            registry=self.registry,
        )
        self.verification_attempts = Counter(
            "tocsin_verification_attempts_total",
            "Contact-method verification attempts, by outcome (verified, already, wrong, "
            "expired, throttled).",
            ["outcome"],
            registry=self.registry,
        )
