"""Event webhook subscriptions under /api/v1/webhooks (admins)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from tocsin.api import pagination
from tocsin.api.deps import Admin, RuntimeDep, SessionDep
from tocsin.api.pagination import Limit, Page
from tocsin.limits import Id
from tocsin.webhooks import service
from tocsin.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from tocsin.webhooks.schemas import (
    AttemptOut,
    DeliveryOut,
    SubscriptionCreate,
    SubscriptionOut,
    SubscriptionUpdate,
)

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])


def to_out(s: WebhookSubscription, *, secret: bool = False) -> SubscriptionOut:
    return SubscriptionOut(id=s.id, name=s.name, url=s.url, active=s.active,
                           event_types=list(s.event_types), service_ids=list(s.service_ids),
                           team_ids=list(s.team_ids), severities=list(s.severities),
                           include_drills=s.include_drills, created_at=s.created_at,
                           secret=s.secret if secret else None)


@router.get("", response_model=Page[SubscriptionOut], summary="Event webhook subscriptions")
def list_subscriptions(session: SessionDep, who: Admin, cursor: str | None = None,
                       limit: Limit = 100) -> Page[SubscriptionOut]:
    return pagination.page_of_all(service.list_subscriptions(session), cursor, limit,
                                  to_out, lambda s: s.id)


@router.post("", status_code=201, response_model=SubscriptionOut,
             summary="Subscribe a receiver to incident events (the secret is shown once)")
def create_subscription(data: SubscriptionCreate, session: SessionDep, rt: RuntimeDep,
                        who: Admin) -> SubscriptionOut:
    sub = service.create_subscription(session, data=data, now=rt.clock.now(),
                                      settings=rt.settings)
    session.commit()
    return to_out(sub, secret=True)


@router.get("/{subscription_id}", response_model=SubscriptionOut)
def show(subscription_id: Id, session: SessionDep, who: Admin) -> SubscriptionOut:
    return to_out(service.get_subscription(session, subscription_id))


@router.patch("/{subscription_id}", response_model=SubscriptionOut)
def update(subscription_id: Id, data: SubscriptionUpdate, session: SessionDep,
           rt: RuntimeDep, who: Admin) -> SubscriptionOut:
    sub = service.get_subscription(session, subscription_id)
    service.update_subscription(session, sub=sub, data=data, settings=rt.settings)
    session.commit()
    return to_out(sub)


@router.delete("/{subscription_id}", status_code=204)
def delete(subscription_id: Id, session: SessionDep, who: Admin) -> Response:
    service.delete_subscription(session, sub=service.get_subscription(session, subscription_id))
    session.commit()
    return Response(status_code=204)


@router.post("/{subscription_id}/test", status_code=202, summary="Send a test event")
def send_test(subscription_id: Id, session: SessionDep, rt: RuntimeDep,
              who: Admin) -> dict[str, str]:
    service.send_test(session, sub=service.get_subscription(session, subscription_id),
                      now=rt.clock.now())
    session.commit()
    return {"status": "queued"}


@router.get("/{subscription_id}/deliveries", response_model=Page[DeliveryOut],
            summary="The delivery log, newest first, each try with its answer")
def deliveries(subscription_id: Id, session: SessionDep, who: Admin,
               cursor: str | None = None, limit: Limit = 100) -> Page[DeliveryOut]:
    sub = service.get_subscription(session, subscription_id)
    found = service.deliveries_of(session, sub=sub, limit=limit + 1,
                                  before_id=pagination.decode(cursor))
    return pagination.page(found, limit, _delivery, lambda pair: pair[0].id)


def _delivery(pair: tuple[WebhookDelivery, list[WebhookAttempt]]) -> DeliveryOut:
    d, log = pair
    return DeliveryOut(
        id=d.id, event_id=d.event_id, event_type=d.event_type, status=d.status,
        attempts=d.attempts, response_status=d.response_status, last_error=d.last_error,
        due_at=d.due_at, sent_at=d.sent_at, created_at=d.created_at,
        log=[AttemptOut(at=a.at, response_status=a.response_status, error=a.error,
                        outcome=a.outcome) for a in log])
