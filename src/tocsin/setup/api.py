"""The first-hour checklist: GET it, dismiss it (per user), bring it back."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter
from sqlalchemy.orm import Session

from tocsin.api.deps import RuntimeDep, SessionDep, Viewer
from tocsin.principal import Principal
from tocsin.runtime import Runtime
from tocsin.setup import checklist, service
from tocsin.setup.schemas import SenderOut, SetupOut, StepOut

router = APIRouter(prefix="/api/v1/setup", tags=["setup"])


def setup_out(session: Session, rt: Runtime, who: Principal) -> SetupOut:
    state = service.state_for(session, user_id=who.user_id, now=rt.clock.now(),
                              base_url=rt.settings.public_url)
    nxt = checklist.next_step(state.steps)
    sender = state.sender
    return SetupOut(
        steps=[StepOut(**asdict(s)) for s in state.steps], done=nxt is None,
        dismissed=state.dismissed, next_step=nxt.key if nxt else None,
        sender=SenderOut(integration_id=sender.integration_id, name=sender.name,
                         kind=sender.kind, snippets=sender.snippets,
                         sample_path=f"/api/v1/integrations/{sender.integration_id}/sample")
        if sender is not None and who.is_admin else None)


@router.get("", response_model=SetupOut, summary="The first-hour checklist for the caller")
def show(session: SessionDep, rt: RuntimeDep, who: Viewer) -> SetupOut:
    return setup_out(session, rt, who)


@router.post("/dismiss", response_model=SetupOut, summary="Put the checklist away (this user)")
def dismiss(session: SessionDep, rt: RuntimeDep, who: Viewer) -> SetupOut:
    service.dismiss(session, user_id=who.user_id, now=rt.clock.now())
    session.commit()
    return setup_out(session, rt, who)


@router.delete("/dismiss", response_model=SetupOut, summary="Show the checklist again")
def restore(session: SessionDep, rt: RuntimeDep, who: Viewer) -> SetupOut:
    service.restore(session, user_id=who.user_id)
    session.commit()
    return setup_out(session, rt, who)
