"""`Idempotency-Key` for creating POSTs: a retried request gets the first answer again."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.api.models import IdempotencyRecord
from tocsin.errors import Invalid

MAX_KEY_LENGTH = 255


def request_hash(method: str, path: str, body: str) -> str:
    return hashlib.sha256(f"{method} {path}\n{body}".encode()).hexdigest()


def lookup(session: Session, *, user_id: int, key: str | None,
           fingerprint: str) -> JSONResponse | None:
    """The stored answer for a repeated key, or None for a new key."""
    if key is None:
        return None
    if not key or len(key) > MAX_KEY_LENGTH:
        raise Invalid(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters")
    record = session.scalars(select(IdempotencyRecord).where(
        IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key)).first()
    if record is None:
        return None
    if record.request_hash != fingerprint:
        raise Invalid("Idempotency-Key was already used with a different request; use a new "
                      "key for a new request")
    return JSONResponse(record.body, status_code=record.status_code,
                        headers={"Idempotent-Replayed": "true"})


def remember(session: Session, *, user_id: int, key: str | None, fingerprint: str,
             status_code: int, body: Any, now: datetime) -> None:
    if key is None:
        return
    session.add(IdempotencyRecord(user_id=user_id, key=key, request_hash=fingerprint,
                                  status_code=status_code, body=body, created_at=now))


M = TypeVar("M", bound=BaseModel)


def create_once(session: Session, *, user_id: int, key: str | None, path: str,
                request: BaseModel, now: datetime, make: Callable[[], M],
                status_code: int = 201) -> M | JSONResponse:
    """Run `make` and commit, unless `key` was seen before: then replay the first answer."""
    fingerprint = request_hash("POST", path, request.model_dump_json())
    replay = lookup(session, user_id=user_id, key=key, fingerprint=fingerprint)
    if replay is not None:
        return replay
    out = make()
    remember(session, user_id=user_id, key=key, fingerprint=fingerprint,
             status_code=status_code, body=out.model_dump(mode="json"), now=now)
    session.commit()
    return out
