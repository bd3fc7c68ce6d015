"""All intake endpoints, one router per wire format (`intake/routes/`) and the inbox API,
gathered for `app.py`."""

from __future__ import annotations

from fastapi import APIRouter

from tocsin.intake import inbox_api
from tocsin.intake.routes import (
    alertmanager,
    generic,
    opsgenie,
    opsgenie_edits,
    opsgenie_reads,
    pagerduty,
)

# Their bodies are read with intake_max_body_bytes, refused in each sender's own shape.
INTAKE_PATHS = ("/v2/", "/api/v1/intake/alertmanager/", "/api/v1/intake/grafana/",
                "/api/v1/intake/generic/")

router = APIRouter()
router.include_router(pagerduty.router)
router.include_router(alertmanager.router)
router.include_router(opsgenie.router)
router.include_router(opsgenie_edits.router)
router.include_router(opsgenie_reads.router)
router.include_router(generic.router)
router.include_router(inbox_api.router)
router.include_router(opsgenie_reads.fallback)  # last: only what nothing else matched
