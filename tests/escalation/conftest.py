"""Paging tests get a real SMTP server on loopback and settings pointing at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.notify.servers import Inbox, smtp_server
from tocsin.settings import Settings


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str,
             smtp: tuple[Inbox, int]) -> Settings:
    return make_settings(database_url=database_url, smtp_port=smtp[1],
                         base_url="http://tocsin.test")
