"""Which messages may be lost rather than doubled after a crash (notify/guarantee.py): the
rule alone, without a database."""

from __future__ import annotations

import pytest

from tocsin.notify.guarantee import Guarantee, guarantee


def test_bulletins_are_sent_at_most_once() -> None:
    assert guarantee("bulletin", bulk_at_most_once=True) is Guarantee.AT_MOST_ONCE


@pytest.mark.parametrize("kind", ["page", "verify", "test", "invite", "briefing"])
def test_pages_and_every_message_to_a_person_are_sent_at_least_once(kind: str) -> None:
    assert guarantee(kind, bulk_at_most_once=True) is Guarantee.AT_LEAST_ONCE


def test_a_kind_nobody_declared_bulk_is_never_at_most_once() -> None:
    assert guarantee("something-new", bulk_at_most_once=True) is Guarantee.AT_LEAST_ONCE


def test_the_setting_off_makes_bulletins_at_least_once_like_pages() -> None:
    assert guarantee("bulletin", bulk_at_most_once=False) is Guarantee.AT_LEAST_ONCE
    assert guarantee("page", bulk_at_most_once=False) is Guarantee.AT_LEAST_ONCE
