"""Prometheus Alertmanager and Grafana webhook routes: `POST /api/v1/intake/alertmanager/{key}`
and `POST /api/v1/intake/grafana/{key}`.

The body is validated by `intake/formats/alertmanager.py`. Errors are problem+json;
Alertmanager logs the body and retries 5xx (our overload answer is 503 with Retry-After).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from tocsin.alerts.models import IntegrationKind
from tocsin.api.problems import problem
from tocsin.intake.errors import BadInput, BodyTooLarge, Overloaded, UnknownKey
from tocsin.intake.formats.alertmanager import parse
from tocsin.intake.routes.common import hub_of, inbox_row, read_json, unknown_key_status

router = APIRouter(tags=["intake: webhooks"])


def _bad(errors: list[str]) -> JSONResponse:
    return problem(400, "Invalid alert payload", "; ".join(errors), errors=errors)


async def receive(request: Request, key: str, kind: IntegrationKind) -> Response:
    """Refuse an unknown URL key before reading the body; validate every alert of the batch;
    store the batch as one inbox row; answer 200 (Alertmanager only looks at the status)."""
    hub = hub_of(request)
    settings = hub.runtime.settings
    try:
        integration = await hub.keys.require(key, (kind.value,))
        body, raw = await read_json(request, settings.intake_max_body_bytes)
        now = hub.runtime.clock.now()
        events = parse(body, kind.value, now=now)
        await hub.accept(inbox_row(integration, kind.value, raw, received_at=now))
    except BodyTooLarge:
        return problem(413, "Payload too large",
                       f"the body is larger than {settings.intake_max_body_bytes} bytes; "
                       "lower max_alerts in the webhook configuration")
    except BadInput as exc:
        return _bad(exc.errors)
    except UnknownKey:
        return problem(unknown_key_status(request), "Unknown integration key",
                       f"no enabled {kind.value} integration has this URL key; copy the URL "
                       "from the integration (GET /api/v1/integrations)")
    except Overloaded:
        return _overloaded(settings.intake_retry_after_seconds)
    return JSONResponse({"status": "success", "accepted": len(events)}, status_code=200)


def _overloaded(retry_after: int) -> JSONResponse:
    response = problem(503, "Overloaded", "too many alert requests at once; retry shortly")
    response.headers["Retry-After"] = str(retry_after)
    return response


@router.post("/api/v1/intake/alertmanager/{key}", summary="Prometheus Alertmanager webhook")
async def alertmanager(key: str, request: Request) -> Response:
    return await receive(request, key, IntegrationKind.ALERTMANAGER)


@router.post("/api/v1/intake/grafana/{key}", summary="Grafana alerting webhook")
async def grafana(key: str, request: Request) -> Response:
    return await receive(request, key, IntegrationKind.GRAFANA)
