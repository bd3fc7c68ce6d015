""""Managed by code" on web forms: an object written by `tocsin config apply` is marked, and a
hand edit of it needs the `edit_managed` tick, or the form comes back 409 with the warning.

Forms call `refusal` AFTER their permission checks (team-scoped checks come first)."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from tocsin.configcode import service as configcode
from tocsin.web import forms


def managed_ids(session: Session, kind: str) -> set[int]:
    """Ids of the objects of `kind` that came from a file (list pages tag them)."""
    return configcode.managed(session, kind)


def is_managed(session: Session, kind: str, local_id: int | None) -> bool:
    """Whether the object of `kind` ("user", "team", "schedule", …) came from a file."""
    return local_id is not None and local_id in configcode.managed(session, kind)


def refusal(session: Session, form: FormData, *, kind: str, local_id: int | None,
            noun: str) -> dict[str, str] | None:
    """The form error for a hand edit of a managed object without the tick, else None."""
    if not is_managed(session, kind, local_id) or forms.checked(form, "edit_managed"):
        return None
    return {"edit_managed": f"This {noun} is managed by code: tick the box to edit it by hand "
                            "anyway, or change the configuration file."}
