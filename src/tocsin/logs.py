"""Logging for every Tocsin process (API, worker, and the child processes they start)."""

from __future__ import annotations

import logging

from tocsin.settings import Settings


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
