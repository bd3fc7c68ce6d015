"""Contact methods, notification rules and an incident's pages under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from tocsin.api import pagination
from tocsin.api.deps import Admin, Responder, RuntimeDep, SessionDep, Viewer
from tocsin.api.pagination import Limit, Page
from tocsin.incidents import service as incidents
from tocsin.limits import Id
from tocsin.notify import service
from tocsin.notify.contract import ChannelKind
from tocsin.notify.models import ContactMethod
from tocsin.notify.schemas import (
    ContactMethodIn,
    ContactMethodOut,
    MessageOut,
    RuleOut,
    RulesIn,
    VerificationFailureOut,
    VerifyIn,
)
from tocsin.notify.verification import Limits

router = APIRouter(tags=["notifications"])


def _out(m: ContactMethod, error: str | None = None) -> ContactMethodOut:
    return ContactMethodOut(id=m.id, user_id=m.user_id, kind=ChannelKind(m.kind),
                            address=m.address, label=m.label,
                            verified=m.verified_at is not None, verification_error=error)


@router.post("/api/v1/users/{user_id}/contact-methods", status_code=201,
             response_model=ContactMethodOut,
             summary="Add a contact method; a verification code is sent to it")
def add(user_id: Id, data: ContactMethodIn, session: SessionDep, rt: RuntimeDep,
        who: Responder) -> ContactMethodOut:
    m = service.add_contact_method(session, actor=who, user_id=user_id, data=data,
                                   now=rt.clock.now(), outbound=rt.settings.outbound_policy,
                                   limits=Limits.from_settings(rt.settings))
    session.commit()
    return _out(m)


@router.get("/api/v1/users/{user_id}/contact-methods", response_model=Page[ContactMethodOut],
            summary="A user's contact methods, by id")
def list_methods(user_id: Id, session: SessionDep, who: Viewer, cursor: str | None = None,
                 limit: Limit = 100) -> Page[ContactMethodOut]:
    if who.user_id != user_id and not who.is_admin:
        return Page(items=[])
    methods = service.contact_methods_of(session, user_id)
    errors = service.verification_errors(session, [m.id for m in methods])
    return pagination.page_of_all(
        methods, cursor, limit,
        lambda m: _out(m, errors.get(m.id) if m.verified_at is None else None), lambda m: m.id)


@router.post("/api/v1/contact-methods/{method_id}/verify", response_model=ContactMethodOut,
             summary="Verify with the code sent to the method",
             description="Wrong and expired codes are recorded (GET /api/v1/verification-"
             "failures). Past TOCSIN_VERIFY_MAX_FAILURES_PER_METHOD (or _PER_USER) failures in "
             "the window, attempts answer 429 with Retry-After.")
def verify(method_id: Id, data: VerifyIn, request: Request, session: SessionDep,
           rt: RuntimeDep, who: Responder) -> ContactMethodOut:
    m = service.get_contact_method(session, actor=who, method_id=method_id)
    attempt = service.verify(session, method=m, code=data.code, now=rt.clock.now(),
                             limits=Limits.from_settings(rt.settings), actor=who,
                             client_address=request.client.host if request.client else None)
    session.commit()  # a failure is recorded even though the answer is an error
    rt.metrics.verification_attempts.labels(attempt.outcome.value).inc()
    service.raise_unless_verified(attempt)
    return _out(m)


@router.post("/api/v1/contact-methods/{method_id}/resend-code", status_code=202,
             summary="Send a new verification code (the previous one stops working)")
def resend_code(method_id: Id, session: SessionDep, rt: RuntimeDep, who: Responder) -> Response:
    m = service.get_contact_method(session, actor=who, method_id=method_id)
    service.resend_code(session, method=m, now=rt.clock.now(),
                        limits=Limits.from_settings(rt.settings))
    session.commit()
    return Response(status_code=202)


@router.get("/api/v1/verification-failures", response_model=Page[VerificationFailureOut],
            summary="Wrong and expired verification codes, newest first (audit; admins)")
def verification_failures(session: SessionDep, who: Admin, user_id: Id | None = None,
                          cursor: str | None = None, limit: Limit = 100
                          ) -> Page[VerificationFailureOut]:
    rows = service.verification_failures(session, user_id=user_id,
                                         after_id=pagination.decode(cursor), limit=limit + 1)
    return pagination.page(rows, limit, VerificationFailureOut.model_validate, lambda f: f.id)


@router.post("/api/v1/contact-methods/{method_id}/test", status_code=202)
def test(method_id: Id, session: SessionDep, rt: RuntimeDep, who: Responder) -> Response:
    m = service.get_contact_method(session, actor=who, method_id=method_id)
    service.send_test(session, method=m, now=rt.clock.now())
    session.commit()
    return Response(status_code=202)


@router.delete("/api/v1/contact-methods/{method_id}", status_code=204)
def delete(method_id: Id, session: SessionDep, who: Responder) -> Response:
    service.delete_contact_method(
        session, service.get_contact_method(session, actor=who, method_id=method_id))
    session.commit()
    return Response(status_code=204)


@router.put("/api/v1/users/{user_id}/notification-rules", response_model=list[RuleOut])
def set_rules(user_id: Id, data: RulesIn, session: SessionDep, who: Responder) -> list[RuleOut]:
    rules = service.set_rules(session, actor=who, user_id=user_id, data=data)
    session.commit()
    return [RuleOut(id=r.id, urgency=r.urgency,
                    delay_minutes=r.delay_minutes, contact_method_id=r.contact_method_id)
            for r in rules]


@router.get("/api/v1/incidents/{incident_id}/pages", response_model=list[MessageOut],
            summary="Every page written for an incident and what became of it")
def pages(incident_id: Id, session: SessionDep, who: Responder) -> list[MessageOut]:
    incidents.get_visible(session, incident_id=incident_id, viewer=who)
    return [MessageOut(id=m.id, kind=m.kind, status=m.status, user_id=m.user_id,
                       contact_method_id=m.contact_method_id, due_at=m.due_at,
                       sent_at=m.sent_at, attempts=m.attempts, last_error=m.last_error,
                       possibly_duplicated=m.possibly_duplicated,
                       delivery_unconfirmed=m.delivery_unconfirmed, payload=m.payload)
            for m in service.messages_of_incident(session, incident_id)]
