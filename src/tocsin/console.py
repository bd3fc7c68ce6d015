"""The `tocsin` command: every feature's commands (their `cli.py`), assembled in one list."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated, Any

import typer

from tocsin.alerts.cli import alert_app, integration_app, route_app
from tocsin.audit.cli import list_entries as audit_list
from tocsin.catalog.cli import app as service_app
from tocsin.checks.cli import check_app, heartbeat_app, probes_app
from tocsin.cli.output import JsonOpt, emit
from tocsin.escalation.cli import app as escalation_app
from tocsin.incidents.cli import app as incident_app
from tocsin.notify.cli import app as contact_app
from tocsin.probe.cli import probe
from tocsin.schedules.cli import app as oncall_app
from tocsin.schedules.cli import schedule_app
from tocsin.settings import ConfigError, Settings, load_settings
from tocsin.setup.cli import setup as setup_command

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
    runtime = _open(_settings(config, data_dir=data_dir), migrate_schema=False)
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

    runtime = _open(_settings(config, data_dir=data_dir), migrate_schema=False)
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
