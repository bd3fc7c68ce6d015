"""The checklist as the API returns it."""

from __future__ import annotations

from pydantic import BaseModel, Field


class StepOut(BaseModel):
    key: str
    title: str
    done: bool
    detail: str
    link: str = Field(description="The web page where the step is done.")
    command: str = Field(description="The next command to run for it in the terminal.")


class SenderOut(BaseModel):
    """The first integration and what to paste into its sender (admins only: the snippets
    carry the integration's key)."""

    integration_id: int
    name: str
    kind: str
    sample_path: str = Field(description="GET it for a ready-to-send test event.")
    snippets: dict[str, str]


class SetupOut(BaseModel):
    steps: list[StepOut]
    done: bool = Field(description="Every step is done.")
    dismissed: bool = Field(description="This user put the checklist away.")
    next_step: str | None = Field(description="Key of the first step not done.")
    sender: SenderOut | None
