"""The first-hour checklist on the web: the dashboard card (see dashboard.py), the full list
at /setup, dismissing it, and a "Send a test alert" button that posts the first
integration's sample event through the real intake, as its sender would."""

from __future__ import annotations

from typing import Any

import anyio.from_thread
import httpx
from fastapi import FastAPI, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from tocsin.alerts import manage
from tocsin.api.deps import RuntimeDep, SessionDep
from tocsin.runtime import Runtime
from tocsin.setup import checklist
from tocsin.setup import service as setup
from tocsin.web.auth import AdminUser, Form, ViewerUser, WebUser
from tocsin.web.render import pages_of, redirect
from tocsin.web.routing import web_router

router = web_router()


def setup_context(session: Session, rt: Runtime, who: WebUser, *,
                  even_dismissed: bool = False) -> dict[str, Any] | None:
    """The checklist for a page, or None when this user put it away."""
    state = setup.state_for(session, user_id=who.user.id, now=rt.clock.now(),
                            base_url=rt.settings.public_url)
    if state.dismissed and not even_dismissed:
        return None
    nxt = checklist.next_step(state.steps)
    return {"steps": state.steps, "next": nxt.key if nxt else None, "done": nxt is None,
            "done_count": sum(s.done for s in state.steps), "dismissed": state.dismissed,
            "sender": state.sender if who.can("admin") else None}


@router.get("/setup")
def setup_page(request: Request, session: SessionDep, rt: RuntimeDep,
               who: ViewerUser) -> Response:
    return pages_of(request).render(request, "setup.html", who,
                                    setup=setup_context(session, rt, who, even_dismissed=True))


@router.post("/setup/dismiss")
def dismiss(session: SessionDep, rt: RuntimeDep, who: ViewerUser, form: Form) -> Response:
    setup.dismiss(session, user_id=who.user.id, now=rt.clock.now())
    session.commit()
    return redirect("/", flash="Setup checklist put away; it stays at /setup and in "
                               "`tocsin setup`.")


@router.post("/setup/restore")
def restore(session: SessionDep, who: ViewerUser, form: Form) -> Response:
    setup.restore(session, user_id=who.user.id)
    session.commit()
    return redirect("/#setup", flash="Setup checklist back on the dashboard.")


async def _post_through_intake(app: FastAPI, base: str, path: str, headers: dict[str, str],
                               body: dict[str, Any]) -> int:
    """In-process, through the same routes (and middleware) a sender's request takes: no
    socket, so the outbound-address guard and the server's own address do not matter."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=base) as client:
        response = await client.post(path, headers=headers, json=body)
    return response.status_code


@router.post("/setup/test-alert")
def send_test_alert(request: Request, session: SessionDep, rt: RuntimeDep, who: AdminUser,
                    form: Form) -> Response:
    integration = setup.first_integration(session)
    if integration is None:
        return redirect("/integrations", flash="Create an integration first: the test alert "
                                               "goes through it.")
    base = rt.settings.public_url
    stamp = int(rt.clock.now().timestamp())
    sample = manage.sample_of(integration, base, dedup_key=f"tocsin-setup-{stamp}")
    name = integration.name
    session.commit()  # end the read transaction before the intake writes
    status = anyio.from_thread.run(_post_through_intake, request.app,
                                   str(request.base_url).rstrip("/"),
                                   sample.url.removeprefix(base), sample.headers, sample.body)
    if status >= 300:
        return redirect("/#setup", flash=f"The test alert was refused ({status}): see "
                                         f"integration {name} on /integrations.")
    return redirect("/#setup", flash=f"Test alert sent through integration {name}: watch "
                                     "for the incident and your page.")
