"""Templates, their filters, and the small things every page response carries."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from tocsin import __version__
from tocsin.runtime import Runtime
from tocsin.web.auth import CSRF_FIELD, WebUser

HERE = Path(__file__).parent
FLASH_COOKIE = "tocsin_flash"
# Our pages load only our own files; inline scripts and other origins are refused, which
# blunts any markup that slipped past autoescaping.
SECURITY_HEADERS = {
    # Inline style attributes are allowed (calendar bars are positioned with them); scripts
    # stay limited to our own files.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
                               "style-src 'self' 'unsafe-inline'; base-uri 'self'; "
                               "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def age(since: datetime | None, now: datetime) -> str:
    """Compact elapsed time, e.g. '3m', '2h 5m', '4d 1h'."""
    if since is None:
        return ""
    seconds = max(0, int((now - since).total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if minutes < 60:
        return f"{minutes}m"
    if hours < 24:
        return f"{hours}h {minutes % 60}m"
    return f"{days}d {hours % 24}h"


def local(value: datetime | str | None, zone: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A time in `zone` (an ISO text, as event data keeps times, is read first)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(ZoneInfo(zone)).strftime(fmt)


def local_input(value: datetime | None, zone: str) -> str:
    """A value for <input type=datetime-local> in the user's zone."""
    return local(value, zone, "%Y-%m-%dT%H:%M")


def counted(n: int, plural: str) -> str:
    """'1 week', '2 weeks', '1 time': a count with its noun agreeing (nouns given plural)."""
    return f"{n} {plural[:-1] if n == 1 and plural.endswith('s') else plural}"


def _label(value: str | None) -> str:
    return (value or "").replace("_", " ")


def build_environment() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"),
                      autoescape=select_autoescape(["html"]), trim_blocks=True,
                      lstrip_blocks=True)
    env.filters.update(age=age, local=local, local_input=local_input, label=_label,
                       counted=counted)
    env.globals.update(version=__version__, csrf_field=CSRF_FIELD, timedelta=timedelta)
    return env


class Pages:
    """Renders templates into responses with the security headers and the flash message."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.env = build_environment()

    def render(self, request: Request, template: str, who: WebUser | None = None,
               status_code: int = 200, **context: Any) -> HTMLResponse:
        flash = unquote(request.cookies.get(FLASH_COOKIE, "")) or None
        zone = who.user.time_zone if who else "UTC"
        html = self.env.get_template(template).render(
            request=request, who=who, now=self.runtime.clock.now(), zone=zone,
            flash=flash, path=request.url.path, **context)
        response = HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)
        if flash:
            response.delete_cookie(FLASH_COOKIE, path="/")
        return response


def redirect(url: str, flash: str | None = None) -> RedirectResponse:
    """See-other redirect after a POST, optionally carrying a one-time message."""
    response = RedirectResponse(url, status_code=303)
    if flash:
        response.set_cookie(FLASH_COOKIE, quote(flash)[:400], path="/", httponly=True,
                            samesite="lax", max_age=60)
    return response


def no_cache(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


def pages_of(request: Request) -> Pages:
    pages: Pages = request.app.state.web_pages
    return pages
