"""My contact methods (add, verify, send a test, remove) and notification rules per urgency,
through the notify feature's service functions."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from tocsin.api.deps import RuntimeDep, SessionDep
from tocsin.errors import TocsinError, TooManyRequests
from tocsin.limits import Id, whole_number
from tocsin.notify import service as notify
from tocsin.notify.schemas import ContactMethodIn, RulesIn
from tocsin.notify.verification import Limits
from tocsin.web import forms
from tocsin.web.auth import Form, ViewerUser, WebUser
from tocsin.web.render import redirect
from tocsin.web.routing import web_router
from tocsin.web.views import extras, profile

router = web_router()


def _back(request: Request, session: Session, who: WebUser, errors: dict[str, str],
          values: dict[str, str], status_code: int) -> Response:
    session.rollback()
    return profile.profile_page(request, session, who, values={
        "name": who.user.name, "time_zone": who.user.time_zone, **values},
        errors=errors, status_code=status_code)


@router.post("/me/contact-methods")
def add(request: Request, session: SessionDep, rt: RuntimeDep, who: ViewerUser,
        form: Form) -> Response:
    values = {k: forms.text(form, k) for k in ("kind", "address", "label")}
    try:
        data = forms.build(ContactMethodIn, values)
        notify.add_contact_method(session, actor=who.principal, user_id=who.user.id, data=data,
                                  now=rt.clock.now(), outbound=rt.settings.outbound_policy,
                                  limits=Limits.from_settings(rt.settings))
        notify.wake_after_commit(session)
    except forms.FormErrors as exc:
        return _back(request, session, who, exc.errors, values, 422)
    except TocsinError as exc:
        return _back(request, session, who, forms.from_domain(exc), values, exc.status_code)
    session.commit()
    return redirect("/me#contact", flash="Contact method added: enter the code sent to it.")


@router.post("/me/contact-methods/{method_id}/verify")
def verify(request: Request, method_id: Id, session: SessionDep, rt: RuntimeDep,
           who: ViewerUser, form: Form) -> Response:
    method = notify.get_contact_method(session, actor=who.principal, method_id=method_id)
    attempt = notify.verify(session, method=method, code=forms.text(form, "code"),
                            now=rt.clock.now(), limits=Limits.from_settings(rt.settings),
                            actor=who.principal,
                            client_address=request.client.host if request.client else None)
    session.commit()  # a failure is recorded even though the answer is an error
    rt.metrics.verification_attempts.labels(attempt.outcome.value).inc()
    try:
        notify.raise_unless_verified(attempt)
    except TocsinError as exc:
        response = _back(request, session, who, {f"code_{method_id}": exc.detail}, {},
                         exc.status_code if exc.status_code == 429 else 422)
        if isinstance(exc, TooManyRequests):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    return redirect("/me#contact", flash="Contact method verified.")


@router.post("/me/contact-methods/{method_id}/resend-code")
def resend_code(request: Request, method_id: Id, session: SessionDep, rt: RuntimeDep,
                who: ViewerUser, form: Form) -> Response:
    method = notify.get_contact_method(session, actor=who.principal, method_id=method_id)
    notify.resend_code(session, method=method, now=rt.clock.now(),
                       limits=Limits.from_settings(rt.settings))
    notify.wake_after_commit(session)
    session.commit()
    return redirect("/me#contact", flash=f"A new code was sent to {method.address}.")


@router.post("/me/contact-methods/{method_id}/test")
def send_test(request: Request, method_id: Id, session: SessionDep, rt: RuntimeDep,
              who: ViewerUser, form: Form) -> Response:
    method = notify.get_contact_method(session, actor=who.principal, method_id=method_id)
    notify.send_test(session, method=method, now=rt.clock.now())
    notify.wake_after_commit(session)
    session.commit()
    return redirect("/me#contact", flash=f"Test message queued for {method.address}.")


@router.post("/me/contact-methods/{method_id}/delete")
def delete(request: Request, method_id: Id, session: SessionDep, who: ViewerUser,
           form: Form) -> Response:
    method = notify.get_contact_method(session, actor=who.principal, method_id=method_id)
    notify.delete_contact_method(session, method)
    session.commit()
    return redirect("/me#contact", flash="Contact method removed.")


@router.post("/me/notification-rules")
def set_rules(request: Request, session: SessionDep, who: ViewerUser, form: Form) -> Response:
    """One delay box per (urgency, method): a number means 'notify this way after N
    minutes', blank means 'not this way'."""
    rules: list[dict[str, Any]] = []
    errors: dict[str, str] = {}
    for method in notify.contact_methods_of(session, who.user.id):
        for urgency in extras.URGENCIES:
            name = f"delay_{urgency}_{method.id}"
            raw = forms.text(form, name)
            if not raw:
                continue
            if whole_number(raw) is None:
                errors[name] = "minutes, a whole number (0 = at once)"
                continue
            rules.append({"urgency": urgency, "delay_minutes": int(raw),
                          "contact_method_id": method.id})
    try:
        data = forms.build(RulesIn, {"rules": rules}, errors)
        notify.set_rules(session, actor=who.principal, user_id=who.user.id, data=data)
    except forms.FormErrors as exc:
        return _back(request, session, who, exc.errors, {}, 422)
    except TocsinError as exc:
        return _back(request, session, who, forms.from_domain(exc), {}, exc.status_code)
    session.commit()
    return redirect("/me#rules", flash="Notification rules saved.")
