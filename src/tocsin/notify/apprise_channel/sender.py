"""Chat, push and SMS channels through Apprise (ntfy, Pushover, Slack, Teams, Telegram,
Discord, SMS gateways, …): the address is an Apprise URL."""

from __future__ import annotations

import apprise

from tocsin.notify.channels import Outgoing, PermanentError, TemporaryError
from tocsin.settings import Settings


def url_problem(url: str) -> str | None:
    if apprise.Apprise.instantiate(url) is None:
        return f"'{url}' is not an Apprise URL this server can use"
    return None


def send(out: Outgoing, settings: Settings) -> None:
    target = apprise.Apprise()
    if not target.add(out.address):
        raise PermanentError(f"'{out.address}' is not a usable Apprise URL")
    # Apprise reports only success or failure; a failure may be transient (network), so
    # it is retried with backoff until the attempts run out.
    if not target.notify(body=out.text, title=out.subject):
        raise TemporaryError(f"Apprise could not deliver to {out.address.split('://')[0]}://…")
