"""A UTC column gives back the stored naive time as that moment in UTC, whatever the
moment (its result conversion is arithmetic, not `replace`, for speed)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite

from tocsin.db.base import UTCDateTime


@given(st.datetimes())
def test_a_stored_naive_time_comes_back_as_that_utc_moment(stored: datetime) -> None:
    back = UTCDateTime().process_result_value(stored, sqlite.dialect())
    expected = stored.replace(tzinfo=UTC)
    assert back == expected and back is not None and back.tzinfo is UTC
    assert back.timetuple() == expected.timetuple() and back.microsecond == stored.microsecond
