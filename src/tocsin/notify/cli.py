"""`tocsin user contact-method …`: where a person is paged, over the REST API (TOCSIN_URL,
TOCSIN_TOKEN). Your own methods by default; an admin may name anyone with --user."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tocsin.cli import lookup
from tocsin.cli.client import Client, fail
from tocsin.cli.output import JsonOpt, emit
from tocsin.notify.contract import ChannelKind

app = typer.Typer(help="Contact methods: where you are paged (email, webhook, SMS, ntfy, "
                       "Slack… ); each is paged only once verified.", no_args_is_help=True)
COLUMNS = ["id", "kind", "address", "label", "verified", "verification_error"]
UserOpt = Annotated[str, typer.Option(
    "--user", "-u", help="Whose methods: email, id or me (another user's: admins only).")]
MethodArg = Annotated[str, typer.Argument(help="Method id, or its address or label.")]


def _methods(client: Client, user: str) -> tuple[int, list[dict[str, Any]]]:
    uid = lookup.user_id(client, user)
    rows = lookup.every(client, f"/api/v1/users/{uid}/contact-methods")
    return uid, rows


def _method(client: Client, user: str, ref: str) -> dict[str, Any]:
    _uid, rows = _methods(client, user)
    found = [m for m in rows if str(m["id"]) == ref or ref in (m["address"], m["label"])]
    if len(found) != 1:
        known = ", ".join(f"{m['id']} ({m['kind']} {m['address']})" for m in rows) or "none"
        fail(f"no single contact method '{ref}' for {user} (theirs: {known})")
    return found[0]


@app.command("add")
def contact_add(
    kind: Annotated[str, typer.Argument(help=", ".join(k.value for k in ChannelKind) + ".")],
    address: Annotated[str, typer.Argument(help="Email address, webhook URL or Apprise URL "
                                                "(e.g. ntfys://ntfy.sh/my-pages).")],
    label: Annotated[str, typer.Option(help="A name for it, e.g. 'work phone'.")] = "",
    user: UserOpt = "me", as_json: JsonOpt = False,
) -> None:
    """Add a contact method; a six-digit code is sent to it, to give to `verify`.

    Examples:

      tocsin user contact-method add email me@example.com

      tocsin user contact-method add webhook https://hooks.example.com/page --label bot

      tocsin user contact-method add sms twilio://SID:TOKEN@+15550001/+15550002 -u bob@example.com
    """
    client = Client()
    uid = lookup.user_id(client, user)
    out = client.request("POST", f"/api/v1/users/{uid}/contact-methods",
                         json={"kind": kind.lower(), "address": address, "label": label})
    if as_json:
        emit(out, as_json=True)
        return
    emit(out, as_json=False)
    typer.echo(f"\nA verification code was sent to it; then: tocsin user contact-method verify "
               f"{out['id']} CODE" + ("" if user == "me" else f" --user {user}"))


@app.command("list")
def contact_list(user: UserOpt = "me", as_json: JsonOpt = False) -> None:
    """A user's contact methods, verified or not (and why a code could not be sent).

    Example: tocsin user contact-method list --user bob@example.com
    """
    emit(_methods(Client(), user)[1], as_json=as_json, columns=COLUMNS)


@app.command("verify")
def contact_verify(method: MethodArg,
                   code: Annotated[str, typer.Argument(help="The six-digit code it received.")],
                   user: UserOpt = "me", as_json: JsonOpt = False) -> None:
    """Verify a contact method with the code sent to it; from then on it can be paged.

    Example: tocsin user contact-method verify 3 123456
    """
    client = Client()
    mid = _method(client, user, method)["id"]
    emit(client.request("POST", f"/api/v1/contact-methods/{mid}/verify", json={"code": code}),
         as_json=as_json)


@app.command("test")
def contact_test(method: MethodArg, user: UserOpt = "me", as_json: JsonOpt = False) -> None:
    """Send a test message to a contact method now.

    Example: tocsin user contact-method test me@example.com
    """
    client = Client()
    found = _method(client, user, method)
    client.request("POST", f"/api/v1/contact-methods/{found['id']}/test")
    result = {"id": found["id"], "address": found["address"], "test": "queued"}
    if as_json:
        emit(result, as_json=True)
        return
    typer.echo(f"test message queued for {found['kind']} {found['address']}")


@app.command("remove")
def contact_remove(method: MethodArg, user: UserOpt = "me", as_json: JsonOpt = False) -> None:
    """Remove a contact method (it is paged no more).

    Example: tocsin user contact-method remove 3
    """
    client = Client()
    found = _method(client, user, method)
    client.request("DELETE", f"/api/v1/contact-methods/{found['id']}")
    if as_json:
        emit({"id": found["id"], "removed": True}, as_json=True)
        return
    typer.echo(f"removed {found['kind']} {found['address']}")
