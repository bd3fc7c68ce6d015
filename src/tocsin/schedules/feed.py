"""iCalendar feeds of shifts behind secret URLs.

The secret in the URL is an HMAC of the feed's identity under the server's signing key, so
nothing is stored and a leaked URL is revoked by rotating the key.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from icalendar import Calendar, Event
from sqlalchemy.orm import Session

from tocsin.schedules import service
from tocsin.schedules.models import Schedule

PAST = timedelta(days=30)
AHEAD = timedelta(days=180)


def token(secret: str, kind: str, ident: int) -> str:
    return hmac.new(secret.encode(), f"ical:{kind}:{ident}".encode(),
                    hashlib.sha256).hexdigest()[:40]


def check_token(secret: str, kind: str, ident: int, given: str) -> bool:
    return hmac.compare_digest(token(secret, kind, ident), given)


def url(base_url: str, secret: str, kind: str, ident: int) -> str:
    return f"{base_url}/ical/{kind}/{ident}/{token(secret, kind, ident)}.ics"


def _calendar(name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", "-//Tocsin//on-call//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    return cal


def _event(cal: Calendar, *, uid: str, summary: str, start: datetime, end: datetime,
           now: datetime) -> None:
    ev = Event()
    ev.add("uid", uid)
    ev.add("summary", summary)
    ev.add("dtstart", start)
    ev.add("dtend", end)
    ev.add("dtstamp", now)
    cal.add_component(ev)


def schedule_feed(session: Session, *, schedule: Schedule, now: datetime) -> bytes:
    result, _ = service.shifts(session, schedule=schedule, start=now - PAST, end=now + AHEAD)
    names = service.user_names(session, {s.user_id for s in result.shifts})
    cal = _calendar(f"On call: {schedule.name}")
    for sh in result.shifts:
        _event(cal, uid=f"tocsin-{schedule.id}-{sh.user_id}-{int(sh.start.timestamp())}",
               summary=f"{names.get(sh.user_id, sh.user_id)} on call ({schedule.name})",
               start=sh.start, end=sh.end, now=now)
    for g in result.gaps:
        _event(cal, uid=f"tocsin-{schedule.id}-gap-{int(g.start.timestamp())}",
               summary=f"NOBODY on call ({schedule.name})", start=g.start, end=g.end, now=now)
    return bytes(cal.to_ical())


def user_feed(session: Session, *, user_id: int, now: datetime) -> bytes:
    cal = _calendar("My on-call shifts")
    for schedule in service.list_schedules(session):
        if not any(user_id in x.participants for x in service.layers_of(schedule)) and not \
                service.overrides_of(session, [schedule.id], start=now - PAST,
                                     end=now + AHEAD)[schedule.id]:
            continue
        result, _ = service.shifts(session, schedule=schedule, start=now - PAST,
                                   end=now + AHEAD)
        for sh in result.shifts:
            if sh.user_id == user_id:
                _event(cal, uid=f"tocsin-{schedule.id}-{user_id}-{int(sh.start.timestamp())}",
                       summary=f"On call: {schedule.name}", start=sh.start, end=sh.end,
                       now=now)
    return bytes(cal.to_ical())
