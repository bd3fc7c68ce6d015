"""Store and apply a batch of pings: the hot path of every cron job's ping.

A batch costs three statements whatever its size: one SELECT of the columns a ping needs
(locking those rows on PostgreSQL, so a concurrent `mark_late` or edit is not overwritten
with what we read before it), one executemany UPDATE of the heartbeats the batch moved, one
executemany INSERT of the pings. Only a heartbeat whose status change must alert (a failure,
a recovery) is loaded as an ORM object and replays its pings through `_apply`, because
raising the alert needs the full heartbeat and the triage pipeline.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Dialect, Table, bindparam, insert, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from tocsin.alerts.detection import build_event, raise_alert
from tocsin.alerts.normalized import EventAction
from tocsin.alerts.service import IngestResult
from tocsin.db.base import UTCDateTime
from tocsin.heartbeats.models import Heartbeat, HeartbeatPing, PingKind
from tocsin.heartbeats.state import Beat, apply_ping
from tocsin.settings import Settings

_BEATS = cast(Table, Heartbeat.__table__)
_PINGS = cast(Table, HeartbeatPing.__table__)
_b = _BEATS.c


class _Instant(UTCDateTime):
    """UTCDateTime converting a value once however often it repeats in a row: a batch binds
    the same `now` to every ping and to most heartbeats it moves, and the conversion (time
    zone, then the driver's format) was a tenth of the batch's CPU."""

    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        convert = super().bind_processor(dialect)
        if convert is None:
            return None
        last: list[tuple[Any, Any]] = [(None, None)]  # one tuple: threads swap it whole

        def process(value: Any) -> Any:
            seen, out = last[0]
            if value is not seen and value != seen:
                out = convert(value)
                last[0] = (value, out)
            return out

        return process


_INSTANT = _Instant()

# Built once: building a statement costs about as much as running it for a small batch.
_LOAD = (select(_b.id, _b.key, _b.status, _b.due_at, _b.last_ping_at, _b.last_start_at,
                _b.last_duration_ms, _b.period_seconds, _b.cron, _b.time_zone, _b.grace_seconds)
         .where(_b.key.in_(bindparam("keys", expanding=True)))
         .order_by(_b.id)  # lock in one order: two writers cannot deadlock on each other
         .with_for_update())
_MOVE = (update(_BEATS).where(_b.id == bindparam("b_id"))
         .values(status=bindparam("b_status"), due_at=bindparam("b_due_at", type_=_INSTANT),
                 last_ping_at=bindparam("b_last_ping_at", type_=_INSTANT),
                 last_start_at=bindparam("b_last_start_at", type_=_INSTANT),
                 last_duration_ms=bindparam("b_last_duration_ms")))
# psycopg runs an executemany as a pipeline that kept the writer thread busy (and holding the
# GIL) until the server had answered every row: most of a batch's CPU on PostgreSQL. There the
# moved heartbeats and the pings travel as arrays, one statement each, instead.
_MOVE_ARRAYS = text("""
UPDATE heartbeats SET status = m.status, due_at = m.due_at, last_ping_at = m.last_ping_at,
    last_start_at = m.last_start_at, last_duration_ms = m.last_duration_ms
FROM unnest(CAST(:ids AS integer[]), CAST(:statuses AS varchar[]), CAST(:due AS timestamp[]),
            CAST(:pinged AS timestamp[]), CAST(:started AS timestamp[]),
            CAST(:durations AS integer[]))
    AS m(id, status, due_at, last_ping_at, last_start_at, last_duration_ms)
WHERE heartbeats.id = m.id""")
_STORE_ARRAYS = text("""
INSERT INTO heartbeat_pings (heartbeat_id, at, kind, exit_code, duration_ms, body, source_ip)
SELECT heartbeat_id, at, kind, exit_code, duration_ms, body, source_ip
FROM unnest(CAST(:p_heartbeat_id AS integer[]), CAST(:p_at AS timestamp[]),
            CAST(:p_kind AS varchar[]), CAST(:p_exit_code AS smallint[]),
            CAST(:p_duration_ms AS integer[]), CAST(:p_body AS text[]),
            CAST(:p_source_ip AS varchar[])) WITH ORDINALITY
    AS p(heartbeat_id, at, kind, exit_code, duration_ms, body, source_ip, n)
ORDER BY n""")  # ids in the order the pings came
_STORE = insert(_PINGS).values(
    heartbeat_id=bindparam("p_heartbeat_id"), at=bindparam("p_at", type_=_INSTANT),
    kind=bindparam("p_kind"), exit_code=bindparam("p_exit_code"),
    duration_ms=bindparam("p_duration_ms"), body=bindparam("p_body"),
    source_ip=bindparam("p_source_ip"))


@dataclass(frozen=True, slots=True)
class PingIn:
    key: str
    kind: PingKind
    exit_code: int | None
    body: bytes
    source_ip: str | None


def alert(session: Session, hb: Heartbeat, action: EventAction, summary: str, *,
          now: datetime, settings: Settings) -> IngestResult:
    event = build_event(action=action, source=f"heartbeat:{hb.id}", dedup_key=f"heartbeat-{hb.id}",
                        summary=summary, service_id=hb.service_id, now=now,
                        labels={"heartbeat": hb.name},
                        details={"due_at": hb.due_at.isoformat() if hb.due_at else None,
                                 "last_ping_at": hb.last_ping_at.isoformat()
                                 if hb.last_ping_at else None})
    return raise_alert(session, event, now=now, settings=settings)


def _beat(hb: Heartbeat) -> Beat:
    return Beat(hb.status, hb.due_at, hb.last_ping_at, hb.last_start_at, hb.last_duration_ms,
                hb.period_seconds, hb.cron, hb.time_zone, hb.grace_seconds)


def _apply(session: Session, hb: Heartbeat, kind: PingKind, exit_code: int | None, *,
           now: datetime, settings: Settings) -> None:
    """Move the ORM heartbeat `hb` for one ping; alert on failure or recovery."""
    beat = _beat(hb)
    applied = apply_ping(beat, kind, exit_code, now)
    hb.status, hb.due_at, hb.last_ping_at = beat.status, beat.due_at, beat.last_ping_at
    hb.last_start_at, hb.last_duration_ms = beat.last_start_at, beat.last_duration_ms
    if applied.alert == EventAction.RESOLVE:
        alert(session, hb, EventAction.RESOLVE, f"{hb.name}: pinged again, back up",
              now=now, settings=settings)
    elif applied.alert == EventAction.TRIGGER:
        code = f" (exit code {exit_code})" if exit_code is not None else ""
        alert(session, hb, EventAction.TRIGGER, f"{hb.name} reported failure{code}",
              now=now, settings=settings)


def record_pings(session: Session, pings: Sequence[PingIn], *, now: datetime,
                 settings: Settings) -> list[bool]:
    """Store and apply pings, in order; returns for each whether its heartbeat exists.

    Pings for one heartbeat apply in the order given, as if sent one by one. Heartbeat
    objects already loaded in `session` are expired if the batch moved them.
    """
    session.flush()  # the Core statements below do not autoflush
    conn = session.connection()
    beats: dict[str, tuple[int, Beat, tuple[object, ...]]] = {}
    for row in conn.execute(_LOAD, {"keys": list({p.key for p in pings})}):
        beat = Beat(*row[2:])
        beats[row[1]] = (row[0], beat, beat.moved())
    found: list[bool] = []
    rows: list[dict[str, object]] = []
    alerting: set[int] = set()
    cap = settings.heartbeat_body_max_bytes
    for p in pings:
        entry = beats.get(p.key)
        found.append(entry is not None)
        if entry is None:
            continue
        hb_id, beat, _before = entry
        applied = apply_ping(beat, p.kind, p.exit_code, now)
        if applied.alert is not None:
            alerting.add(hb_id)
        rows.append({"p_heartbeat_id": hb_id, "p_at": now, "p_kind": applied.kind.value,
                     "p_exit_code": p.exit_code, "p_duration_ms": applied.duration_ms,
                     # A script's output is kept even with NULs, which PostgreSQL cannot
                     # store: they become U+FFFD, as undecodable bytes do.
                     "p_body": p.body[:cap].decode("utf-8", errors="replace")
                     .replace("\x00", "\ufffd"),
                     "p_source_ip": p.source_ip})
    _move(session, conn, beats.values(), alerting)
    if alerting:
        _replay_with_alerts(session, pings, beats, alerting, now=now, settings=settings)
    if rows and conn.dialect.name == "postgresql":
        stored = _INSTANT.bind_processor(conn.dialect) or (lambda value: value)
        conn.execute(_STORE_ARRAYS, {name: [stored(r[name]) if name == "p_at" else r[name]
                                            for r in rows] for name in rows[0]})
    elif rows:
        conn.execute(_STORE, rows)
    return found


def _move(session: Session, conn: Connection,
          beats: Iterable[tuple[int, Beat, tuple[object, ...]]], skip: Container[int]) -> None:
    """One UPDATE for the heartbeats the batch moved (those in `skip` alert and are written by
    the ORM instead)."""
    moved = [(hb_id, beat) for hb_id, beat, before in beats
             if hb_id not in skip and beat.moved() != before]
    if not moved:
        return
    if conn.dialect.name == "postgresql":
        conn.execute(_MOVE_ARRAYS, _as_arrays(moved, conn.dialect))
    else:
        conn.execute(_MOVE, [{"b_id": hb_id, "b_status": beat.status, "b_due_at": beat.due_at,
                              "b_last_ping_at": beat.last_ping_at,
                              "b_last_start_at": beat.last_start_at,
                              "b_last_duration_ms": beat.last_duration_ms}
                             for hb_id, beat in moved])
    if session.identity_map:
        for hb_id, _beat in moved:
            loaded = session.identity_map.get(identity_key(Heartbeat, hb_id))
            if loaded is not None:
                session.expire(loaded)


def _as_arrays(moved: list[tuple[int, Beat]], dialect: Dialect) -> dict[str, list[Any]]:
    stored = _INSTANT.bind_processor(dialect) or (lambda value: value)  # naive UTC
    return {"ids": [hb_id for hb_id, _ in moved], "statuses": [b.status for _, b in moved],
            "due": [stored(b.due_at) for _, b in moved],
            "pinged": [stored(b.last_ping_at) for _, b in moved],
            "started": [stored(b.last_start_at) for _, b in moved],
            "durations": [b.last_duration_ms for _, b in moved]}


def _replay_with_alerts(session: Session, pings: Sequence[PingIn],
                        beats: dict[str, tuple[int, Beat, tuple[object, ...]]],
                        alerting: Container[int], *, now: datetime, settings: Settings) -> None:
    """The heartbeats that must alert replay their pings, in order, on ORM objects."""
    ids = {p.key: beats[p.key][0] for p in pings if p.key in beats}
    loaded = {hb.id: hb for hb in session.scalars(
        select(Heartbeat).where(Heartbeat.id.in_([i for i in set(ids.values())
                                                  if i in alerting])))}
    for p in pings:
        hb = loaded.get(ids.get(p.key, -1))
        if hb is not None:
            _apply(session, hb, p.kind, p.exit_code, now=now, settings=settings)
