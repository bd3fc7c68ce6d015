"""All intake endpoints, one router per wire format, gathered for `api/app.py`."""

from __future__ import annotations

from fastapi import APIRouter

from tocsin.intake import alertmanager, generic, inbox_api, opsgenie, pagerduty

router = APIRouter()
router.include_router(pagerduty.router)
router.include_router(alertmanager.router)
router.include_router(opsgenie.router)
router.include_router(generic.router)
router.include_router(inbox_api.router)
