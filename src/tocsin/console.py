"""The `tocsin` command: every feature's commands (their `cli.py`), assembled in one list."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated, Any

import typer

from tocsin.alerts.cli import alert_app, integration_app, route_app
from tocsin.analytics.cli import report as report_command
from tocsin.audit.cli import list_entries as audit_list
from tocsin.catalog.cli import app as service_app
from tocsin.chatops.cli import app as chat_app
from tocsin.checks.cli import check_app, heartbeat_app, probes_app
from tocsin.cli.output import JsonOpt, emit
from tocsin.drills.cli import app as drill_app
from tocsin.escalation.cli import app as escalation_app
from tocsin.incidents.cli import app as incident_app
from tocsin.knownerrors.cli import app as problem_app
from tocsin.notify.cli import app as contact_app
from tocsin.postmortems.cli import action_app
from tocsin.postmortems.cli import app as postmortem_app
from tocsin.probe.cli import probe
from tocsin.respond import cli as respond_cli
from tocsin.runbooks.cli import app as runbook_app
from tocsin.schedules.cli import app as oncall_app
from tocsin.schedules.cli import schedule_app
from tocsin.settings import ConfigError, Settings, load_settings
from tocsin.setup.cli import setup as setup_command
from tocsin.stakeholders.cli import app as stakeholders_app
from tocsin.statuspages.cli import app as statuspage_app
from tocsin.webhooks.cli import app as webhook_app

app = typer.Typer(help="Tocsin: self-hosted incident management.", no_args_is_help=True,
                  add_completion=False)
db_app = typer.Typer(help="Database schema: upgrade and check.", no_args_is_help=True)
config_app = typer.Typer(help="Inspect configuration.", no_args_is_help=True)
user_app = typer.Typer(help="Users: `create` acts on the database directly; "
                            "`contact-method` talks to a server.", no_args_is_help=True)
apikey_app = typer.Typer(help="Manage API keys (acts on the database directly).",
                         no_args_is_help=True)
app.add_typer(db_app, name="db")
audit_app = typer.Typer(help="The audit log: `verify` reads the database, `list` the API.",
                        no_args_is_help=True)
audit_app.command("list")(audit_list)
app.add_typer(audit_app, name="audit")
app.add_typer(config_app, name="config")
app.add_typer(user_app, name="user")
app.add_typer(apikey_app, name="apikey")
app.add_typer(incident_app, name="incident")
app.add_typer(check_app, name="check")
app.add_typer(heartbeat_app, name="heartbeat")
app.add_typer(probes_app, name="probes")
app.command("probe")(probe)
app.command("setup")(setup_command)
app.add_typer(oncall_app, name="oncall")
app.add_typer(alert_app, name="alert")
app.add_typer(integration_app, name="integration")
app.add_typer(route_app, name="route")
app.add_typer(service_app, name="service")
app.add_typer(escalation_app, name="escalation")
app.add_typer(schedule_app, name="schedule")
user_app.add_typer(contact_app, name="contact-method")
incident_app.command("tasks")(respond_cli.task_list)
incident_app.command("task-add")(respond_cli.task_add)
incident_app.command("task-done")(respond_cli.task_done)
incident_app.command("handoff")(respond_cli.incident_handoff)
incident_app.command("take")(respond_cli.incident_take)
incident_app.command("responders")(respond_cli.incident_responders)
incident_app.command("bridge")(respond_cli.incident_bridge)
app.add_typer(respond_cli.checklist_app, name="checklist")
app.add_typer(respond_cli.role_app, name="role")
schedule_app.command("handoff-note")(respond_cli.schedule_handoff_note)
app.add_typer(webhook_app, name="webhook")
app.command("report")(report_command)
app.add_typer(postmortem_app, name="postmortem")
app.add_typer(action_app, name="action")
app.add_typer(problem_app, name="problem")
app.add_typer(drill_app, name="drill")
app.add_typer(runbook_app, name="runbook")
app.add_typer(statuspage_app, name="statuspage")
app.add_typer(stakeholders_app, name="stakeholders")
app.add_typer(chat_app, name="chat")

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", envvar="TOCSIN_CONFIG",
                                                help="TOML settings file.")]
DataDirOpt = Annotated[Path | None, typer.Option("--data-dir", help="Data directory.")]
TlsCertOpt = Annotated[Path | None, typer.Option(
    "--tls-cert", help="Serve HTTPS with this PEM certificate (chain); needs --tls-key.")]
TlsKeyOpt = Annotated[Path | None, typer.Option("--tls-key", help="PEM key of --tls-cert.")]


def _settings(config: Path | None, **overrides: Any) -> Settings:
    try:
        return load_settings(config, **overrides)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def _open(settings: Settings, *, migrate_schema: bool) -> Any:
    from tocsin.logs import configure_logging
    from tocsin.server import StartupError, open_runtime

    configure_logging(settings)
    try:
        return open_runtime(settings, migrate_schema=migrate_schema)
    except StartupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


def _open_as(settings: Settings, command: str, acting: str | None = None) -> Any:
    """Open the database for a command that changes configuration; the audit log names its
    operator (`--as EMAIL` where the command has it, else the OS account) and the command,
    rather than "system"."""
    from sqlalchemy import func, select

    from tocsin.accounts.models import User
    from tocsin.db.actor import Actor, act_as

    runtime = _open(settings, migrate_schema=False)
    user_id = None
    if acting:
        with runtime.read_sessions() as session:
            user_id = session.scalar(select(User.id).where(
                func.lower(User.email) == acting.strip().lower()))
    label = acting.strip().lower() if acting else f"{getpass.getuser()} (command line)"
    act_as(runtime.sessions, Actor(user_id=user_id, label=label, source=f"cli: {command}"))
    return runtime


# ---- servers -------------------------------------------------------------------------------

CheckProcessesOpt = Annotated[int | None, typer.Option(
    min=1, help="Check runner processes (TOCSIN_CHECK_RUNNER_PROCESSES); about one core each.")]


@app.command()
def serve(
    config: ConfigOpt = None,
    host: Annotated[str | None, typer.Option(help="Bind address.")] = None,
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
    data_dir: DataDirOpt = None,
    check_processes: CheckProcessesOpt = None,
    tls_cert: TlsCertOpt = None,
    tls_key: TlsKeyOpt = None,
) -> None:
    """Run everything: migrate, then the API, the engine and delivery."""
    from tocsin.server import bootstrap, run_api

    settings = _settings(config, host=host, port=port, data_dir=data_dir,
                         check_runner_processes=check_processes, tls_cert_file=tls_cert,
                         tls_key_file=tls_key)
    runtime = _open(settings, migrate_schema=True)
    settings.secret()  # create the signing key now, not on the first request
    bootstrap(runtime, typer.echo)
    typer.echo(f"Tocsin listening on {settings.public_url}  (database: "
               f"{settings.database_kind}, data: {settings.data_dir.resolve()})")
    run_api(runtime, with_worker=True)


@app.command()
def api(
    config: ConfigOpt = None,
    host: Annotated[str | None, typer.Option(help="Bind address.")] = None,
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
    data_dir: DataDirOpt = None,
    workers: Annotated[int, typer.Option(min=1, help="API processes sharing the port.")] = 1,
    tls_cert: TlsCertOpt = None,
    tls_key: TlsKeyOpt = None,
) -> None:
    """Run only the HTTP API (scale-out; pair with `tocsin worker`). Needs a current schema."""
    from tocsin.server import run_api, run_api_processes

    overrides = {"host": host, "port": port, "data_dir": data_dir, "tls_cert_file": tls_cert,
                 "tls_key_file": tls_key}
    settings = _settings(config, **overrides)
    runtime = _open(settings, migrate_schema=False)
    typer.echo(f"Tocsin API listening on {settings.public_url}")
    if workers == 1:
        run_api(runtime, with_worker=False)
        return
    runtime.close()  # each process opens its own
    run_api_processes(settings, config=config, overrides=overrides, workers=workers)


@app.command()
def worker(config: ConfigOpt = None, data_dir: DataDirOpt = None,
           check_processes: CheckProcessesOpt = None,
           only: Annotated[list[str] | None, typer.Option(
               "--only", help="Run only this job (repeat for several), e.g. notify.deliver "
               "for a delivery worker.")] = None,
           skip: Annotated[list[str] | None, typer.Option(
               "--skip", help="Run every job but this one (repeatable).")] = None) -> None:
    """Run only the engine (triage, timers, delivery, periodic jobs). Several may run on
    PostgreSQL; on SQLite, one per job (e.g. one with --skip notify.deliver and one with
    --only notify.deliver, as `tocsin serve` does)."""
    from tocsin.server import StartupError, run_worker, select_jobs

    try:
        jobs = select_jobs(only, skip)
    except StartupError as exc:
        raise typer.BadParameter(str(exc)) from None
    settings = _settings(config, data_dir=data_dir, check_runner_processes=check_processes)
    run_worker(_open(settings, migrate_schema=False), jobs)


# ---- operator commands -----------------------------------------------------------------------

@db_app.command("upgrade")
def db_upgrade(config: ConfigOpt = None, data_dir: DataDirOpt = None) -> None:
    """Create or migrate the schema to this version."""
    from tocsin.db import migrate

    runtime = _open(_settings(config, data_dir=data_dir), migrate_schema=True)
    typer.echo(f"schema at {migrate.current_revision(runtime.engine)}")


@db_app.command("check")
def db_check(config: ConfigOpt = None, data_dir: DataDirOpt = None) -> None:
    """Check that the schema is current and matches the models (exit 1 if not)."""
    from tocsin.db import migrate
    from tocsin.tables import metadata

    runtime = _open(_settings(config, data_dir=data_dir), migrate_schema=False)
    differences = migrate.diff(runtime.engine, metadata)
    if differences:
        typer.echo("models and migrations differ:", err=True)
        for d in differences:
            typer.echo(f"  {d}", err=True)
        raise typer.Exit(1)
    typer.echo(f"ok: schema at {migrate.head_revision()} and matches the models")


@db_app.command("rebuild-metrics")
def db_rebuild_metrics(config: ConfigOpt = None, data_dir: DataDirOpt = None) -> None:
    """Recompute every incident's stored metrics summary from its log (the hook keeps them
    current; this is for a restore or a repair)."""
    from tocsin.analytics import summary

    runtime = _open(_settings(config, data_dir=data_dir), migrate_schema=False)
    with runtime.sessions() as session, session.begin():
        made = summary.rebuild(session)
    typer.echo(f"rebuilt the metrics summary of {made} incidents")


@audit_app.command("verify")
def audit_verify(config: ConfigOpt = None, data_dir: DataDirOpt = None) -> None:
    """Check the audit log's hash chain in the database (exit 1 if an entry was altered,
    removed or inserted)."""
    from tocsin.audit import service as audit

    runtime = _open(_settings(config, data_dir=data_dir), migrate_schema=False)
    with runtime.read_sessions() as session:
        checked, broken = audit.verify(session)
    if broken is not None:
        typer.echo(f"audit log broken at entry {broken.entry_id}: {broken.reason} "
                   f"({checked} entries read)", err=True)
        raise typer.Exit(1)
    typer.echo(f"ok: {checked} audit entries, chain intact")


@config_app.command("show")
def config_show(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Print the effective settings, secrets masked."""
    emit(_settings(config).masked(), as_json=as_json)


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="Email address (the login).")],
    name: Annotated[str, typer.Option(help="Display name.")],
    role: Annotated[str, typer.Option(help="admin, responder or viewer.")] = "responder",
    time_zone: Annotated[str, typer.Option(help="IANA time zone.")] = "UTC",
    password: Annotated[bool, typer.Option(help="Prompt for a password.")] = False,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Create a user."""
    from pydantic import ValidationError

    from tocsin.accounts import service
    from tocsin.accounts.schemas import UserCreate
    from tocsin.errors import TocsinError

    secret = getpass.getpass("password: ") if password else None
    runtime = _open_as(_settings(config, data_dir=data_dir), "user create")
    try:
        data = UserCreate(name=name, email=email, role=role, time_zone=time_zone,
                          password=secret)
        with runtime.sessions() as session, session.begin():
            user = service.create_user(session, data=data, now=runtime.clock.now())
    except (ValidationError, TocsinError) as exc:
        typer.echo(f"error: {_message(exc)}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"created user {user.id} <{user.email}> role={user.role}")


@apikey_app.command("create")
def apikey_create(
    email: Annotated[str, typer.Option(help="Owner's email.")],
    name: Annotated[str, typer.Option(help="What the key is for.")] = "cli",
    scope: Annotated[str | None, typer.Option(help="admin, responder or viewer.")] = None,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Create an API key; the token is printed once."""
    from sqlalchemy import select

    from tocsin.accounts import service
    from tocsin.accounts.models import User
    from tocsin.errors import TocsinError
    from tocsin.principal import Role

    runtime = _open_as(_settings(config, data_dir=data_dir), "apikey create")
    try:
        with runtime.sessions() as session, session.begin():
            owner = session.scalars(select(User).where(User.email == email.lower())).first()
            if owner is None:
                typer.echo(f"error: no user with email {email}", err=True)
                raise typer.Exit(1)
            _key, token = service.create_api_key(
                session, owner=owner, name=name, scope=Role(scope) if scope else None,
                now=runtime.clock.now())
    except (ValueError, TocsinError) as exc:
        typer.echo(f"error: {_message(exc)}", err=True)
        raise typer.Exit(1) from None
    typer.echo(token)


def _message(exc: Exception) -> str:
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
    return str(exc)


def main() -> None:
    app()


# ---- moving in: imports, and configuration as code (database directly, like `user create`) ----

import_app = typer.Typer(help="Import from Opsgenie or PagerDuty (acts on the database "
                              "directly).", no_args_is_help=True)
app.add_typer(import_app, name="import")
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Print what would be created, "
                                         "changed and skipped; write nothing.")]


def _import(settings: Settings, raw_fetch: Any, to_plan: Any, reader: Any, timeline: Any,
            dry_run: bool, check: bool, command: str) -> None:
    from tocsin.errors import TocsinError
    from tocsin.importers import runner

    runtime = _open_as(settings, command)
    try:
        data = to_plan(raw_fetch(reader))
        report = runner.apply(runtime, data, dry_run=dry_run)
        for line in runner.summary(report, dry_run=dry_run):
            typer.echo(line)
        if check and not dry_run:
            diffs = runner.check(runtime, reader, data, timeline)
            typer.echo(f"\non call for the next {runner.CHECK_DAYS} days, hour by hour: "
                       f"{len(diffs)} difference(s)")
            for d in diffs:
                typer.echo(f"  {d.line()}")
            if diffs:
                raise typer.Exit(3)
    except TocsinError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        reader.close()
        runtime.close()


@import_app.command("opsgenie")
def import_opsgenie(
    api_key: Annotated[str, typer.Option(envvar="OPSGENIE_API_KEY", help="An Opsgenie API "
                                         "key with read and configuration access.")],
    base_url: Annotated[str, typer.Option(help="https://api.opsgenie.com, or "
                                          "https://api.eu.opsgenie.com for the EU instance."
                                          )] = "https://api.opsgenie.com",
    dry_run: DryRunOpt = False,
    check: Annotated[bool, typer.Option(help="After importing, compare who is on call hour "
                                        "by hour for 14 days.")] = True,
    config: ConfigOpt = None, data_dir: DataDirOpt = None,
) -> None:
    """Import users, teams, schedules, escalations, services, integrations and maintenance
    from Opsgenie. Re-running changes only what changed there."""
    from tocsin.errors import TocsinError
    from tocsin.importers import opsgenie, opsgenie_map

    settings = _settings(config, data_dir=data_dir)
    try:
        account = opsgenie.check_key(api_key, base_url)
    except TocsinError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Opsgenie account {account}")
    _import(settings, opsgenie.fetch, opsgenie_map.to_plan, opsgenie.reader(api_key, base_url),
            opsgenie.timeline, dry_run, check, "import opsgenie")


def _config_file(path: Path) -> Any:
    from tocsin.configcode import service, yamlio

    try:
        return service.parse(yamlio.load(path.read_text()))
    except OSError as exc:
        typer.echo(f"error: cannot read {path}: {exc.strerror}", err=True)
        raise typer.Exit(2) from None


PruneOpt = Annotated[bool, typer.Option("--prune", help="Delete what the file does not name "
                                        "(users are deactivated, not deleted).")]
ActingOpt = Annotated[str | None, typer.Option(
    "--as", envvar="TOCSIN_ACTING_EMAIL",
    help="Your email: the audit log names you, and the file (or --prune) "
    "may not deactivate you.")]


@config_app.command("export")
def config_export(out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Write here instead of standard output.")] = None,
                  config: ConfigOpt = None, data_dir: DataDirOpt = None) -> None:
    """Write teams, users (no secrets), schedules, policies, services, integrations (no
    keys) and heartbeats as YAML, references by name.

    Example: tocsin config export -o tocsin.yaml"""
    from tocsin.configcode import service, yamlio

    runtime = _open(_settings(config, data_dir=data_dir), migrate_schema=False)
    with runtime.read_sessions() as session:
        text = yamlio.dump(service.export(session))
    runtime.close()
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text)
        typer.echo(f"wrote {out}")


@config_app.command("plan")
def config_plan(file: Path, prune: PruneOpt = False, acting: ActingOpt = None,
                config: ConfigOpt = None, data_dir: DataDirOpt = None) -> None:
    """Print how FILE differs from the server (+ create, ~ update, - delete); exit 0 when
    they match, 2 when they differ.

    Example: tocsin config plan tocsin.yaml"""
    from tocsin.configcode import service
    from tocsin.errors import TocsinError

    runtime = _open(_settings(config, data_dir=data_dir), migrate_schema=False)
    try:
        doc = _config_file(file)
        with runtime.read_sessions() as session:
            changes = service.plan(session, doc=doc, prune=prune, acting=acting)
    except TocsinError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        runtime.close()
    real = [c for c in changes if c.verb != "keep"]
    for c in changes:
        typer.echo(c.line())
    typer.echo(f"{len(real)} change(s)" if real else "no changes: the server matches the file")
    if real:
        raise typer.Exit(2)


@config_app.command("apply")
def config_apply(file: Path, prune: PruneOpt = False, acting: ActingOpt = None,
                  config: ConfigOpt = None, data_dir: DataDirOpt = None) -> None:
    """Make the server match FILE, in one transaction: all of it or nothing.

    Example: tocsin config apply tocsin.yaml --prune"""
    from tocsin.configcode import service
    from tocsin.errors import TocsinError

    runtime = _open_as(_settings(config, data_dir=data_dir), "config apply", acting)
    try:
        doc = _config_file(file)
        with runtime.sessions() as session, session.begin():
            changes = service.apply(session, doc=doc, prune=prune, now=runtime.clock.now(),
                                    settings=runtime.settings, acting=acting)
    except TocsinError as exc:
        typer.echo(f"error: {exc}\nnothing was applied", err=True)
        raise typer.Exit(1) from None
    finally:
        runtime.close()
    real = [c for c in changes if c.verb != "keep"]
    for c in real:
        typer.echo(c.line())
    typer.echo(f"applied {len(real)} change(s)")


@config_app.command("schema")
def config_schema() -> None:
    """Print the JSON Schema of the configuration file (also docs/config.schema.json).

    Example: tocsin config schema > config.schema.json"""
    from tocsin.configcode import yamlio

    typer.echo(yamlio.schema(), nl=False)


@import_app.command("pagerduty")
def import_pagerduty(
    token: Annotated[str, typer.Option(envvar="PAGERDUTY_API_TOKEN", help="A PagerDuty REST "
                                       "API key (read access is enough).")],
    base_url: Annotated[str, typer.Option(help="https://api.pagerduty.com, or "
                                          "https://api.eu.pagerduty.com.")
                        ] = "https://api.pagerduty.com",
    dry_run: DryRunOpt = False,
    check: Annotated[bool, typer.Option(help="After importing, compare who is on call hour "
                                        "by hour for 14 days.")] = True,
    config: ConfigOpt = None, data_dir: DataDirOpt = None,
) -> None:
    """Import users, teams, schedules, escalation policies, services, integrations and
    maintenance windows from PagerDuty. Re-running changes only what changed there."""
    from tocsin.importers import pagerduty, pagerduty_map

    _import(_settings(config, data_dir=data_dir), pagerduty.fetch, pagerduty_map.to_plan,
            pagerduty.Reader(token, base_url), pagerduty.timeline, dry_run, check,
            "import pagerduty")
