"""Web routes answer errors with pages, not problem+json: a route class that turns domain
errors into a sign-in redirect or an error page, keeping the API's handlers untouched."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.responses import RedirectResponse, Response

from tocsin.errors import TocsinError
from tocsin.incidents.lifecycle import IllegalTransition
from tocsin.web.auth import EnrolmentRequired, LoginRequired
from tocsin.web.render import pages_of

log = logging.getLogger("tocsin.web")


def login_url(request: Request) -> str:
    """Sign-in, remembering where to come back to (a GET page: never replay a POST)."""
    target = request.url.path
    if request.method == "GET" and request.url.query:
        target += "?" + request.url.query
    elif request.method != "GET":
        referer = request.headers.get("referer", "")
        base = str(request.base_url).rstrip("/")
        target = referer[len(base):] if referer.startswith(base + "/") else "/"
    return "/login?next=" + quote(target, safe="/")


class WebRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        inner = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await inner(request)
            except LoginRequired:
                return RedirectResponse(login_url(request), status_code=303)
            except EnrolmentRequired:
                return RedirectResponse("/profile/two-factor", status_code=303)
            except IllegalTransition as exc:  # before TocsinError: a kinder title on a page
                return error_page(request, 409, "That change is not possible", str(exc))
            except TocsinError as exc:
                return error_page(request, exc.status_code, exc.title, exc.detail)
            except RequestValidationError:
                # A page address with a malformed part (/incidents/abc): not an API client,
                # so a page rather than a list of field errors.
                return error_page(request, 404, "Not found",
                                  "There is no page at this address; check the link.")

        return handler


def error_page(request: Request, status: int, title: str, detail: str) -> Response:
    return pages_of(request).render(request, "error.html", who=None, status_code=status,
                                    title=title, detail=detail)


def web_router() -> APIRouter:
    return APIRouter(route_class=WebRoute, include_in_schema=False)
