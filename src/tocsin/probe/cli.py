"""`tocsin probe`: run a probe agent at a remote location."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from tocsin.probe.agent import ProbeAgent, run_probe


def probe(
    server: Annotated[str, typer.Option(help="Tocsin server URL.", envvar="TOCSIN_URL")],
    token: Annotated[str, typer.Option(help="Probe token (`tocsin probes add`).",
                                       envvar="TOCSIN_PROBE_TOKEN")],
    location: Annotated[str, typer.Option(help="This probe's location name.")],
    concurrency: Annotated[int, typer.Option(help="Checks run at once.")] = 200,
    source_address: Annotated[str | None, typer.Option(
        help="Local address outgoing check connections leave from.")] = None,
    refresh: Annotated[float, typer.Option(help="Seconds between assignment pulls.")] = 5.0,
) -> None:
    """Run a probe agent: pull assignments, run checks, push results."""
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    typer.echo(f"probe '{location}' working for {server}")
    run_probe(ProbeAgent(server=server, token=token, location=location,
                         concurrency=concurrency, source_address=source_address,
                         refresh_seconds=refresh))
