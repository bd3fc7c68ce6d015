"""Check settings as shown to people who may read checks but not manage them: connection
string passwords, database passwords and HTTP header values hidden. Admins (who can edit
the checks anyway) see and export the settings whole."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

HIDDEN = "***"


def mask_dsn(dsn: str) -> str:
    """A connection string (URL or key=value form) without its password."""
    parts = urlsplit(dsn)
    if parts.scheme and parts.password:
        host = parts.netloc.rsplit("@", 1)[1]
        return urlunsplit(parts._replace(netloc=f"{parts.username}:{HIDDEN}@{host}"))
    words = [(f"password={HIDDEN}" if w.lower().startswith("password=") else w)
             for w in dsn.split()]
    return " ".join(words)


def public_config(config: dict[str, Any]) -> dict[str, Any]:
    shown = dict(config)
    if isinstance(shown.get("dsn"), str):
        shown["dsn"] = mask_dsn(shown["dsn"])
    if isinstance(shown.get("url"), str) and "@" in shown["url"]:
        shown["url"] = mask_dsn(shown["url"])
    if shown.get("password"):
        shown["password"] = HIDDEN
    if isinstance(shown.get("headers"), dict):
        shown["headers"] = {k: HIDDEN for k in shown["headers"]}
    return shown
