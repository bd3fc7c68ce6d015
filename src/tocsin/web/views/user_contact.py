"""An admin manages another person's contact methods from their user page: add (a code is
sent to the method: the admin never sees it), resend the code, send a test, remove, and
(re)send the invitation email. The same notify service functions as the person's own
profile page, so the same validation and limits apply."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from tocsin.accounts import service as accounts
from tocsin.api.deps import RuntimeDep, SessionDep
from tocsin.errors import NotFound, TocsinError
from tocsin.limits import Id
from tocsin.notify import service as notify
from tocsin.notify.models import ContactMethod
from tocsin.notify.schemas import ContactMethodIn
from tocsin.notify.verification import Limits
from tocsin.web import forms
from tocsin.web.auth import AdminUser, Form, WebUser
from tocsin.web.render import redirect
from tocsin.web.routing import web_router
from tocsin.web.views import people

router = web_router()


def _back(request: Request, session: Session, who: WebUser, user_id: Id,
          values: dict[str, str], errors: dict[str, str], status_code: int) -> Response:
    session.rollback()
    return people.user_page(request, session, who, user_id=user_id,
                            values={**people.user_values(session, user_id), **values},
                            errors=errors, status_code=status_code)


def _method(session: Session, who: WebUser, user_id: Id, method_id: Id) -> ContactMethod:
    method = notify.get_contact_method(session, actor=who.principal, method_id=method_id)
    if method.user_id != user_id:
        raise NotFound(f"user {user_id} has no contact method {method_id}")
    return method


def _here(user_id: Id) -> str:
    return f"/users/{user_id}#contact"


@router.post("/users/{user_id}/contact-methods")
def add(request: Request, user_id: Id, session: SessionDep, rt: RuntimeDep, who: AdminUser,
        form: Form) -> Response:
    accounts.get_user(session, user_id)
    values = {k: forms.text(form, k) for k in ("kind", "address", "label")}
    try:
        data = forms.build(ContactMethodIn, values)
        notify.add_contact_method(session, actor=who.principal, user_id=user_id, data=data,
                                  now=rt.clock.now(), outbound=rt.settings.outbound_policy,
                                  limits=Limits.from_settings(rt.settings))
        notify.wake_after_commit(session)
    except forms.FormErrors as exc:
        return _back(request, session, who, user_id, values, exc.errors, 422)
    except TocsinError as exc:
        return _back(request, session, who, user_id, values, forms.from_domain(exc),
                     exc.status_code)
    session.commit()
    return redirect(_here(user_id), flash=f"Contact method added: a code was sent to "
                    f"{data.address}; it works once its owner enters the code.")


@router.post("/users/{user_id}/contact-methods/{method_id}/resend")
def resend(request: Request, user_id: Id, method_id: Id, session: SessionDep,
           rt: RuntimeDep, who: AdminUser, form: Form) -> Response:
    method = _method(session, who, user_id, method_id)
    try:
        notify.resend_code(session, method=method, now=rt.clock.now(),
                           limits=Limits.from_settings(rt.settings))
        notify.wake_after_commit(session)
    except TocsinError as exc:
        return _back(request, session, who, user_id, {},
                     {f"method_{method_id}": exc.detail.removeprefix("code: ")},
                     exc.status_code)
    session.commit()
    return redirect(_here(user_id), flash=f"A new code was sent to {method.address}.")


@router.post("/users/{user_id}/contact-methods/{method_id}/test")
def send_test(request: Request, user_id: Id, method_id: Id, session: SessionDep,
              rt: RuntimeDep, who: AdminUser, form: Form) -> Response:
    method = _method(session, who, user_id, method_id)
    notify.send_test(session, method=method, now=rt.clock.now())
    notify.wake_after_commit(session)
    session.commit()
    return redirect(_here(user_id), flash=f"Test message queued for {method.address}.")


@router.post("/users/{user_id}/contact-methods/{method_id}/delete")
def delete(request: Request, user_id: Id, method_id: Id, session: SessionDep,
           who: AdminUser, form: Form) -> Response:
    method = _method(session, who, user_id, method_id)
    notify.delete_contact_method(session, method)
    session.commit()
    return redirect(_here(user_id), flash=f"Contact method {method.address} removed.")


@router.post("/users/{user_id}/invite")
def invite(request: Request, user_id: Id, session: SessionDep, rt: RuntimeDep,
           who: AdminUser, form: Form) -> Response:
    user = accounts.get_user(session, user_id)
    if not user.active:
        # Its link would be refused anyway (welcome.py): say so now.
        return redirect(_here(user_id), flash=f"{user.name} is deactivated: tick Active and "
                        "save first, then invite.")
    notify.invite(session, user=user, now=rt.clock.now(), hours=rt.settings.invite_link_hours)
    session.commit()
    return redirect(_here(user_id), flash=f"Invitation sent to {user.email}.")
