"""Action items kept in GitHub or Jira: issues created for new ones, their status read
back. The HTTP calls happen outside any transaction (a slow tracker never holds the
database); each result is written with a conditional update, so two workers cannot both
record an issue for one item."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import or_, select, update

from tocsin.engine.worker import JobContext
from tocsin.postmortems import trackers
from tocsin.postmortems.actions import FINISHED
from tocsin.postmortems.models import ActionItem, ActionStatus

log = logging.getLogger("tocsin.postmortems")
BATCH = 20


def sync_with_trackers(ctx: JobContext) -> int:
    rt = ctx.runtime
    found = trackers.configured(rt.settings)
    if not found:
        return 0
    now = rt.clock.now()
    stale = now - timedelta(seconds=rt.settings.tracker_sync_seconds)
    with rt.read_sessions() as session:
        new = session.execute(select(ActionItem.id, ActionItem.external_kind, ActionItem.title,
                                     ActionItem.incident_id, ActionItem.due_at)
                              .where(ActionItem.external_kind.is_not(None),
                                     ActionItem.external_ref.is_(None))
                              .order_by(ActionItem.id).limit(BATCH)).all()
        due = session.execute(select(ActionItem.id, ActionItem.external_kind,
                                     ActionItem.external_ref)
                              .where(ActionItem.external_ref.is_not(None),
                                     ActionItem.status.not_in(FINISHED),
                                     or_(ActionItem.external_checked_at.is_(None),
                                         ActionItem.external_checked_at <= stale))
                              .order_by(ActionItem.id).limit(BATCH)).all()
    done = 0
    for item_id, kind, title, incident_id, due_at in new:
        tracker = found.get(str(kind))
        if tracker is None:
            continue
        body = (f"Action item #{item_id} from incident INC-{incident_id} (Tocsin), due "
                f"{due_at:%Y-%m-%d %H:%M} UTC.")
        try:
            ref, state = tracker.create(title=title, body=body)
        except (trackers.TrackerError, ValueError, KeyError) as exc:
            log.warning("action item %s: %s issue not created: %s", item_id, kind, exc)
            continue
        except Exception as exc:  # network errors: try again next round
            log.warning("action item %s: %s unreachable: %s", item_id, kind, exc)
            continue
        with rt.sessions() as session, session.begin():
            session.execute(update(ActionItem).where(ActionItem.id == item_id,
                                                     ActionItem.external_ref.is_(None))
                            .values(external_ref=ref, external_status=state.status,
                                    external_checked_at=now))
        done += 1
    for item_id, kind, external_ref in due:
        tracker = found.get(str(kind))
        if tracker is None:
            continue
        try:
            state = tracker.state(str(external_ref))
        except Exception as exc:
            log.warning("action item %s: %s status not read: %s", item_id, kind, exc)
            continue
        values: dict[str, object] = {"external_status": state.status[:40],
                                     "external_checked_at": now}
        if state.done:
            values.update(status=ActionStatus.DONE.value, done_at=now, updated_at=now)
        with rt.sessions() as session, session.begin():
            session.execute(update(ActionItem).where(ActionItem.id == item_id).values(**values))
        done += 1
    return done
