"""Status page tests get a real SMTP server on loopback (subscriber mail) and settings
pointing at it."""

from __future__ import annotations

import pytest

from tocsin.settings import Settings


@pytest.fixture
def settings(smtp_settings: Settings) -> Settings:
    return smtp_settings
