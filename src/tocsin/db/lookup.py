"""Fetching a row by primary key for a service function: the row, or a NotFound naming
what was asked for (the API turns it into a 404 problem)."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.orm import Session

from tocsin.errors import NotFound

T = TypeVar("T")


def get_or_404(session: Session, model: type[T], key: Any, what: str) -> T:
    row = session.get(model, key)
    if row is None:
        raise NotFound(f"no {what} with id {key}")
    return row
