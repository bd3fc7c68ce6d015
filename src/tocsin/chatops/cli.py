"""`tocsin chat …`: chat-ops over the REST API (admins): the connection and the chat outbox,
alert channels, linked people, a test message, and the Slack app manifest."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tocsin.cli import lookup
from tocsin.cli.client import Client, fail
from tocsin.cli.output import JsonOpt, emit

app = typer.Typer(help="Chat-ops (Slack, Mattermost, Teams): connection, outbox, alert "
                       "channels, linked people, the Slack app manifest.",
                  no_args_is_help=True)
channels_app = typer.Typer(help="Alert channels: where a service's or a team's incidents "
                                "are posted.", no_args_is_help=True)
users_app = typer.Typer(help="Chat users linked to Tocsin users (who a button press acts as).",
                        no_args_is_help=True)
app.add_typer(channels_app, name="channels")
app.add_typer(users_app, name="users")

PlatformOpt = Annotated[str, typer.Option(help="slack, mattermost or teams.")]


def _platform(value: str) -> str:
    if value not in {"slack", "mattermost", "teams"}:
        fail(f"unknown platform '{value}': slack, mattermost or teams")
    return value


@app.command("status")
def chat_status(as_json: JsonOpt = False) -> None:
    """What is connected, and the chat outbox: calls waiting per method, failures.

    Example: tocsin chat status
    """
    status: dict[str, Any] = Client().request("GET", "/api/v1/chatops/status")
    if as_json:
        emit(status, as_json=True)
        return
    waiting = status.pop("pending_by_method")
    emit(status, as_json=False)
    typer.echo("\nwaiting per method:")
    emit([{"method": m, "waiting": n} for m, n in waiting.items()], as_json=False,
         columns=["method", "waiting"])


@channels_app.command("list")
def channels_list(as_json: JsonOpt = False) -> None:
    """Alert channels and what they follow.

    Example: tocsin chat channels list
    """
    rows = lookup.every(Client(), "/api/v1/chatops/channel-maps")
    emit(rows, as_json=as_json,
         columns=["id", "platform", "channel_id", "service_id", "team_id", "created_at"])


@channels_app.command("add")
def channels_add(
    channel: Annotated[str, typer.Argument(
        help="Slack/Mattermost channel id (C0123…); Teams: the Workflows webhook URL.")],
    service: Annotated[str | None, typer.Option(help="Post this service's incidents.")] = None,
    team: Annotated[str | None, typer.Option(
        help="Post the incidents of this team's services.")] = None,
    platform: PlatformOpt = "slack",
    as_json: JsonOpt = False,
) -> None:
    """Post a service's (or a team's) incidents in a channel.

    Example: tocsin chat channels add C0123ABCD --service checkout
    """
    if (service is None) == (team is None):
        fail("name exactly one of --service and --team")
    client = Client()
    body: dict[str, Any] = {"platform": _platform(platform), "channel_id": channel,
                            "service_id": lookup.service(client, service)["id"] if service
                            else None,
                            "team_id": lookup.team(client, team)["id"] if team else None}
    emit(client.request("POST", "/api/v1/chatops/channel-maps", json=body), as_json=as_json)


@channels_app.command("remove")
def channels_remove(map_id: Annotated[int, typer.Argument(
        help="The id `tocsin chat channels list` shows.")]) -> None:
    """Stop posting in an alert channel.

    Example: tocsin chat channels remove 3
    """
    Client().request("DELETE", f"/api/v1/chatops/channel-maps/{map_id}")
    typer.echo(f"removed alert channel {map_id}")


@users_app.command("list")
def users_list(as_json: JsonOpt = False) -> None:
    """Linked chat users.

    Example: tocsin chat users list
    """
    rows = lookup.every(Client(), "/api/v1/chatops/user-links")
    emit(rows, as_json=as_json,
         columns=["id", "platform", "external_id", "user_id", "via", "created_at"])


@users_app.command("link")
def users_link(
    external_id: Annotated[str, typer.Argument(help="The chat user's id (Slack: U0123…).")],
    user: Annotated[str, typer.Argument(help="Tocsin user: email, id or `me`.")],
    platform: PlatformOpt = "slack",
    as_json: JsonOpt = False,
) -> None:
    """Let a chat user act as a Tocsin user (buttons, commands).

    Example: tocsin chat users link U0123ABCD ana@example.com
    """
    client = Client()
    body = {"platform": _platform(platform), "external_id": external_id,
            "user_id": lookup.user_id(client, user)}
    emit(client.request("POST", "/api/v1/chatops/user-links", json=body), as_json=as_json)


@users_app.command("unlink")
def users_unlink(link_id: Annotated[int, typer.Argument(
        help="The id `tocsin chat users list` shows.")]) -> None:
    """Remove a link.

    Example: tocsin chat users unlink 7
    """
    Client().request("DELETE", f"/api/v1/chatops/user-links/{link_id}")
    typer.echo(f"removed user link {link_id}")


@users_app.command("match")
def users_match(as_json: JsonOpt = False) -> None:
    """Look every unlinked Tocsin user up in Slack by email; confirmed addresses link.

    Example: tocsin chat users match
    """
    emit(Client().request("POST", "/api/v1/chatops/user-links/lookups"), as_json=as_json)


@app.command("test")
def chat_test(
    channel: Annotated[str, typer.Argument(help="Slack channel id (C0123…); the bot must be "
                                                "in it.")],
    text: Annotated[str | None, typer.Option(help="What to say.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Send a test message to a Slack channel (through the outbox; see `chat status`).

    Example: tocsin chat test C0123ABCD
    """
    body: dict[str, Any] = {"channel_id": channel, **({"text": text} if text else {})}
    emit(Client().request("POST", "/api/v1/chatops/test", json=body), as_json=as_json)


@app.command("manifest")
def chat_manifest(as_json: JsonOpt = False) -> None:
    """Print the Slack app manifest for this server, with its URL.

    Paste it into Slack: Create New App, From an app manifest.

    Example: tocsin chat manifest > slack-app.yaml
    """
    data = Client().request("GET", "/api/v1/chatops/manifest")
    if as_json:
        emit(data, as_json=True)
        return
    import yaml

    typer.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True).rstrip())
