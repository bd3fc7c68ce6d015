"""Chat-ops admin page (what is connected, channel maps, user links) and the page that
redeems a one-time link from `/incident link`."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tocsin.api.deps import RuntimeDep, SessionDep
from tocsin.chatops import service as chat
from tocsin.chatops.models import CallStatus, ChannelMap, ChatCall, Platform, UserLink
from tocsin.errors import TocsinError
from tocsin.limits import Id
from tocsin.runtime import Runtime
from tocsin.web import forms, queries
from tocsin.web.auth import AdminUser, Form, ResponderUser, WebUser
from tocsin.web.render import pages_of, redirect
from tocsin.web.routing import web_router

router = web_router()


def _page(request: Request, session: Session, rt: Runtime, who: WebUser, *,
          errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    s = rt.settings
    counts = dict(session.execute(select(ChatCall.status, func.count())
                                  .group_by(ChatCall.status)).all())
    services, teams = queries.service_choices(session), queries.team_choices(session)
    links = list(session.scalars(select(UserLink).order_by(UserLink.id)))
    return pages_of(request).render(
        request, "chatops.html", who, status_code=status_code, errors=errors or {},
        slack=s.slack_bot_token is not None and s.slack_signing_secret is not None,
        socket_mode=s.slack_app_token is not None, mattermost=s.mattermost_token is not None,
        pending=counts.get(CallStatus.PENDING.value, 0),
        failed=counts.get(CallStatus.FAILED.value, 0),
        maps=list(session.scalars(select(ChannelMap).order_by(ChannelMap.id))),
        links=links, services=services, teams=teams, service_names=dict(services),
        team_names=dict(teams), users=queries.user_choices(session),
        names=queries.user_names(session, [x.user_id for x in links]), base=s.public_url)


@router.get("/chatops")
def chatops_page(request: Request, session: SessionDep, rt: RuntimeDep,
                 who: AdminUser) -> Response:
    return _page(request, session, rt, who)


def _again(request: Request, session: Session, rt: Runtime, who: WebUser,
           exc: Exception) -> Response:
    session.rollback()
    if isinstance(exc, forms.FormErrors):
        found = exc.errors
    elif isinstance(exc, TocsinError):
        found = forms.from_domain(exc)
    else:
        found = {"platform": "unknown platform"}
    return _page(request, session, rt, who, errors=found, status_code=422)


@router.post("/chatops/maps")
def add_map(request: Request, session: SessionDep, rt: RuntimeDep, who: AdminUser,
            form: Form) -> Response:
    errors: dict[str, str] = {}
    try:
        platform = Platform(forms.text(form, "platform") or "slack")
        chat.add_channel_map(session, platform=platform, channel_id=forms.text(form, "channel"),
                             team_id=forms.optional_int(form, "team_id", errors),
                             service_id=forms.optional_int(form, "service_id", errors),
                             now=rt.clock.now())
        if not forms.text(form, "channel"):
            raise forms.FormErrors({"channel": "a channel id (or webhook URL) is needed"})
    except (forms.FormErrors, TocsinError, ValueError) as exc:
        return _again(request, session, rt, who, exc)
    session.commit()
    return redirect("/chatops", flash="Channel mapped.")


@router.post("/chatops/maps/{map_id}/delete")
def delete_map(map_id: Id, session: SessionDep, who: AdminUser, form: Form) -> Response:
    chat.delete_channel_map(session, map_id=map_id)
    session.commit()
    return redirect("/chatops", flash="Mapping removed.")


@router.post("/chatops/links")
def add_link(request: Request, session: SessionDep, rt: RuntimeDep, who: AdminUser,
             form: Form) -> Response:
    errors: dict[str, str] = {}
    try:
        user_id = forms.optional_int(form, "user_id", errors)
        if user_id is None or not forms.text(form, "external_id"):
            raise forms.FormErrors({"external_id": "a chat user id and a Tocsin user"})
        chat.link_user(session, platform=Platform(forms.text(form, "link_platform") or "slack"),
                       external_id=forms.text(form, "external_id"), user_id=user_id,
                       via="admin", now=rt.clock.now())
    except (forms.FormErrors, TocsinError, ValueError) as exc:
        return _again(request, session, rt, who, exc)
    session.commit()
    return redirect("/chatops", flash="User linked.")


@router.post("/chatops/links/{link_id}/delete")
def delete_link(link_id: Id, session: SessionDep, who: AdminUser, form: Form) -> Response:
    chat.unlink(session, link_id=link_id)
    session.commit()
    return redirect("/chatops", flash="Link removed.")


@router.post("/chatops/lookups")
def lookups(session: SessionDep, rt: RuntimeDep, who: AdminUser, form: Form) -> Response:
    queued = chat.request_email_links(session, now=rt.clock.now())
    session.commit()
    return redirect("/chatops", flash=f"Looking up {queued} people in Slack by email.")


@router.get("/chatops/link")
def link_page(request: Request, who: ResponderUser, token: str = "") -> Response:
    return pages_of(request).render(request, "chatops_link.html", who, token=token,
                                    errors={})


@router.post("/chatops/link")
def redeem(request: Request, session: SessionDep, rt: RuntimeDep, who: ResponderUser,
           form: Form) -> Response:
    token = forms.text(form, "token")
    try:
        chat.redeem_link(session, secret=rt.settings.secret(), token=token, user=who.principal,
                         now=rt.clock.now())
    except TocsinError as exc:
        session.rollback()
        errors: dict[str, Any] = forms.from_domain(exc)
        return pages_of(request).render(request, "chatops_link.html", who, token=token,
                                        errors=errors, status_code=422)
    session.commit()
    return redirect("/me", flash="Your chat account is linked: buttons and commands now act "
                                 "as you.")
