"""What an import will write, in vendor-neutral plain values (ids are the vendor's), plus a
note for everything that does not map one to one. Built by each vendor's mapping module,
written by `service.py`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time


@dataclass(frozen=True)
class Note:
    """`subject` (e.g. "schedule 'Ops'") could not be mapped one to one: `what`; `instead`
    says what the import did about it."""

    subject: str
    what: str
    instead: str

    def line(self) -> str:
        return f"{self.subject}: {self.what} → {self.instead}"


@dataclass(frozen=True)
class User:
    ext_id: str
    email: str
    name: str
    time_zone: str
    role: str  # admin | responder | viewer
    emails: tuple[str, ...] = ()  # email contact methods
    # (delay minutes, email address) for high- and low-urgency pages, from the vendor's rules
    rules: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class Team:
    ext_id: str
    name: str
    description: str
    members: tuple[str, ...]  # user ext ids


@dataclass(frozen=True)
class Window:
    days: tuple[int, ...]  # 0 = Monday
    start: time
    end: time  # at or before start: past midnight


@dataclass(frozen=True)
class Layer:
    name: str
    participants: tuple[str, ...]  # user ext ids, in rotation order
    unit: str  # hours | days | weeks
    length: int
    start: datetime  # naive wall-clock in the schedule's zone
    restrictions: tuple[Window, ...] = ()


@dataclass(frozen=True)
class Override:
    ext_id: str
    user: str  # user ext id
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Schedule:
    ext_id: str
    name: str
    description: str
    time_zone: str
    team: str | None
    layers: tuple[Layer, ...]  # lowest priority first
    overrides: tuple[Override, ...] = ()


@dataclass(frozen=True)
class Target:
    kind: str  # user | schedule | team
    ext_id: str
    mode: str = "all"  # teams: all | round_robin


@dataclass(frozen=True)
class Level:
    delay_minutes: int
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class Policy:
    ext_id: str
    name: str
    description: str
    repeat: int
    levels: tuple[Level, ...]


@dataclass(frozen=True)
class Service:
    ext_id: str
    name: str
    description: str
    team: str | None
    policy: str | None  # policy ext id, used for every severity


@dataclass(frozen=True)
class Integration:
    ext_id: str
    name: str
    kind: str  # a Tocsin IntegrationKind value
    service: str  # service ext id
    vendor_kind: str  # what the vendor called it, for the report


@dataclass(frozen=True)
class Maintenance:
    ext_id: str
    name: str
    starts_at: datetime
    ends_at: datetime
    service: str | None  # None: every service


WEEK = 7 * 1440


def _clock(minute: int) -> time:
    return time((minute % 1440) // 60, minute % 60)


def week_windows(start: int, end: int) -> list[Window]:
    """Minutes of the week [start, end) (end may pass Sunday midnight) as day windows."""
    out: list[Window] = []
    cursor = start
    while cursor < end:
        day_end = (cursor // 1440 + 1) * 1440
        stop = min(end, day_end)
        # A window ending at midnight is written 00:00 (at or before its start: past midnight).
        out.append(Window(((cursor // 1440) % 7,), _clock(cursor), _clock(stop)))
        cursor = stop
    return out


@dataclass
class Plan:
    source: str
    users: list[User] = field(default_factory=list)
    teams: list[Team] = field(default_factory=list)
    schedules: list[Schedule] = field(default_factory=list)
    policies: list[Policy] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    integrations: list[Integration] = field(default_factory=list)
    maintenance: list[Maintenance] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)

    def note(self, subject: str, what: str, instead: str) -> None:
        self.notes.append(Note(subject, what, instead))
