"""The one settings object.

Built once by :func:`load_settings` from ``TOCSIN_*`` environment variables and an optional
TOML file, then passed explicitly to everything that needs it. Nothing reads the environment
at import time.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from tocsin.outbound import OutboundPolicy, parse_allow, policy_of

# Values that must never protect a production deployment.
INSECURE_SECRETS = frozenset({"change-me", "changeme", "secret", "dev", "tocsin", "password"})


_GLOBAL_ROLES = ("viewer", "responder", "admin")


class ConfigError(Exception):
    """The configuration is invalid; the message says what to fix."""


# Settings that may also come from a file named by `TOCSIN_<NAME>_FILE` (container secrets):
# every SecretStr field, and the database URL, which often carries a password.
FILE_SETTINGS_EXTRA = frozenset({"database_url"})


def _is_secret(annotation: Any) -> bool:
    return annotation is SecretStr or SecretStr in getattr(annotation, "__args__", ())


class SecretFilesSource(PydanticBaseSettingsSource):
    """`TOCSIN_<NAME>_FILE=/run/secrets/x` sets <name> to the file's text (trailing newline
    removed). Below the environment: `TOCSIN_<NAME>` itself wins when both are set."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        import os

        out: dict[str, Any] = {}
        for name, field in self.settings_cls.model_fields.items():
            if not (_is_secret(field.annotation) or name in FILE_SETTINGS_EXTRA):
                continue
            path = os.environ.get(f"TOCSIN_{name.upper()}_FILE")
            if not path:
                continue
            try:
                out[name] = Path(path).read_text().rstrip("\r\n")
            except OSError as exc:
                raise ConfigError(f"TOCSIN_{name.upper()}_FILE: cannot read {path}: "
                                  f"{exc.strerror}") from None
        return out


class Settings(BaseSettings):
    """Every setting Tocsin reads. Each field is documented in docs/configuration.md."""

    model_config = SettingsConfigDict(
        env_prefix="TOCSIN_",
        extra="forbid",
        validate_default=True,
    )

    env: Literal["dev", "production"] = Field(
        "production",
        description="`dev` relaxes secret checks for local development; `production` refuses "
        "known-insecure secrets.",
    )
    data_dir: Path = Field(
        Path("./tocsin-data"),
        description="Directory for the embedded SQLite database and the generated secret key.",
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the database. Unset: SQLite file `tocsin.db` in the data "
        "directory. PostgreSQL: `postgresql+psycopg://user:pass@host:5432/dbname`.",
    )
    host: str = Field("127.0.0.1", description="Address the HTTP server binds to.")
    port: int = Field(8080, ge=1, le=65535, description="Port the HTTP server listens on.")
    tls_cert_file: Path | None = Field(
        None,
        description="PEM certificate (chain) to serve HTTPS directly; needs `tls_key_file`. "
        "Unset: plain HTTP (put a TLS-terminating proxy in front, see docs/operations.md).",
    )
    tls_key_file: Path | None = Field(
        None, description="PEM private key of `tls_cert_file`.",
    )
    forwarded_allow_ips: str = Field(
        "127.0.0.1",
        description="Comma-separated proxy addresses (or `*`) whose X-Forwarded-For and "
        "X-Forwarded-Proto headers are believed; requests from anyone else keep their own "
        "address and scheme.",
    )
    base_url: str | None = Field(
        None,
        description="Public URL of this server, used in links sent to people. Unset: derived "
        "from host and port.",
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Key that signs sessions and links. Unset: generated once and stored in "
        "`<data_dir>/secret.key`. Known-insecure values are refused outside dev.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Logging level."
    )
    serve_processes: Literal["split", "single"] = Field(
        "split", description="`tocsin serve`: `split` runs the API, the engine (triage, "
        "timers, checks, periodic jobs) and delivery as three processes, so they use several "
        "cores and do not take turns on one interpreter lock; `single` runs all of it in one "
        "process (threads), as before.",
    )
    worker_poll_interval: float = Field(
        0.5, gt=0, le=60, description="Seconds the worker sleeps when no timer is due."
    )
    worker_batch_size: int = Field(
        100, ge=1, le=10000, description="Most timers one worker claims per transaction."
    )
    slow_cycle_seconds: float = Field(
        2.0, gt=0, description="A job cycle slower than this is logged as a warning."
    )
    timer_max_attempts: int = Field(
        10, ge=1, description="A timer whose handler fails this many times is marked failed."
    )
    recovery_watch_minutes: dict[str, int] = Field(
        default_factory=lambda: {"SEV1": 120, "SEV2": 60, "SEV3": 15, "SEV4": 15},
        description="Minutes each severity is watched after resolving before it may close; a "
        "recurrence inside the window reopens the incident. JSON in the environment.",
    )
    update_reminder_minutes: dict[str, int] = Field(
        default_factory=lambda: {"SEV1": 15, "SEV2": 30},
        description="Minutes after the last update before the incident commander is reminded "
        "to post one. Severities not listed get no reminder. JSON in the environment.",
    )
    api_key_touch_seconds: int = Field(
        60, ge=0, description="API keys' last-used time is written at most this often."
    )
    page_size_default: int = Field(50, ge=1, le=500, description="Default list page size.")
    intake_max_body_bytes: int = Field(
        512 * 1024, ge=1024, description="Largest alert intake request body accepted; larger "
        "bodies get the sender's own error shape (PagerDuty's cap is 512 KB).",
    )
    intake_raw_max_bytes: int = Field(
        16 * 1024, ge=0, description="Raw payload bytes kept per alert event for inspection "
        "(the rest is cut off).",
    )
    intake_max_in_flight: int = Field(
        64, ge=1, description="Intake requests processed at once per process; more are "
        "refused with 429/503 and Retry-After instead of being accepted and dropped.",
    )
    intake_retry_after_seconds: int = Field(
        2, ge=1, description="Retry-After sent with intake overload answers.",
    )
    intake_sqlite_synchronous: Literal["normal", "full"] = Field(
        "normal", description="SQLite only: `normal` makes an accepted intake event survive a "
        "crash of Tocsin (committed to the write-ahead log); `full` also fsyncs each "
        "group commit so it survives a power cut, at the disk's fsync latency per batch.",
    )
    intake_batch_size: int = Field(
        200, ge=1, le=10000, description="Most inbox rows the intake processor triages in one "
        "transaction (it also stops after 20 ms on SQLite, 100 ms on PostgreSQL).",
    )
    intake_max_attempts: int = Field(
        3, ge=1, description="An inbox row whose triage fails this many times is marked "
        "failed (kept, listed by the API, retryable) instead of retried.",
    )
    intake_done_retention_minutes: int = Field(
        60, ge=1, description="Minutes processed inbox rows (their outcome, for Opsgenie's "
        "request status) are kept.",
    )
    web_session_idle_minutes: int = Field(
        720, ge=5, le=60 * 24 * 90,
        description="A web sign-in session ends after this many minutes without a request.",
    )
    web_cookie_secure: bool = Field(
        False, description="Mark the web session cookie Secure (send it over HTTPS only); set "
        "true behind TLS.",
    )

    # ---- access: request bodies, /metrics, contact-method verification ----
    api_max_body_bytes: int = Field(
        1_048_576, ge=1024, description="Largest request body of the API and the web app "
        "(alert intake and heartbeat pings have their own caps); larger bodies get 413.",
    )
    metrics_token: SecretStr | None = Field(
        None, description="Bearer token /metrics requires from every client when set; unset: "
        "/metrics answers loopback clients only (see metrics_public).",
    )
    metrics_public: bool = Field(
        False, description="Serve /metrics to any client without a token (when a firewall or "
        "proxy already guards it).",
    )
    verify_code_minutes: int = Field(
        60, ge=1, le=7 * 24 * 60, description="Minutes a contact-method verification code "
        "stays valid.",
    )
    verify_max_failures_per_method: int = Field(
        5, ge=1, description="Wrong verification codes accepted per contact method in the "
        "failure window; further attempts get 429.",
    )
    verify_max_failures_per_user: int = Field(
        20, ge=1, description="Wrong verification codes accepted per user (all their contact "
        "methods) in the failure window; further attempts get 429.",
    )
    verify_failure_window_minutes: int = Field(
        15, ge=1, description="The window verification failures are counted in.",
    )

    check_interval_floor_seconds: int = Field(
        10, ge=1, description="Shortest interval a check may have; shorter ones are refused.",
    )
    check_concurrency: int = Field(
        500, ge=1, le=20000, description="Most checks one runner (server or probe) runs at once.",
    )
    check_runner_processes: int = Field(
        1, ge=1, le=64, description="Check runner processes on a worker. 1 runs the runner as "
        "a thread of the worker; more start that many child processes sharing the checks "
        "through the database (about one core each; see docs/detection.md).",
    )
    check_max_body_bytes: int = Field(
        1_048_576, ge=1024, description="Largest HTTP check response body read; a longer body "
        "fails the check (an endless body never fills memory).",
    )
    check_result_retention_days: int = Field(
        7, ge=1, description="Days raw check results are kept; hourly and daily rollups stay.",
    )
    check_rollup_retention_days: int = Field(
        400, ge=1, description="Days hourly and daily check rollups (uptime, latency) are kept.",
    )
    heartbeat_body_max_bytes: int = Field(
        10_000, ge=0, description="Bytes of a heartbeat ping's body kept; the rest is cut off.",
    )
    probe_offline_seconds: int = Field(
        60, ge=2, description="A probe silent this long is marked offline, raises a 'probe "
        "offline' alert and leaves the quorum.",
    )
    probe_service_name: str = Field(
        "tocsin-probes", min_length=1, description="Service that 'probe offline' alerts belong "
        "to; created on first use.",
    )

    # ---- paging (schedules/, escalation/, notify/) ----
    smtp_host: str = Field("127.0.0.1", description="SMTP server email pages are sent through.")
    smtp_port: int = Field(25, ge=1, le=65535, description="SMTP server port.")
    smtp_from: str = Field("tocsin@localhost", description="From address of email pages.")
    smtp_username: str | None = Field(None, description="SMTP login user; unset: no login.")
    smtp_password: SecretStr | None = Field(None, description="SMTP login password.")
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS.")
    smtp_timeout_seconds: float = Field(10.0, gt=0, description="SMTP connect/send timeout.")
    smtp_connections: int = Field(
        1, ge=1, le=64, description="Most SMTP connections one process keeps open to the "
        "server; each carries one message at a time and is reused for the next. More help "
        "with a distant server; each may hold one mail a crash could double.")
    smtp_idle_seconds: float = Field(
        15.0, gt=0, le=3600, description="An SMTP connection unused this long is closed.")
    webhook_signing_secrets: list[SecretStr] = Field(
        default_factory=list, description="Secrets outgoing webhooks are signed with "
        "(HMAC-SHA256 of the raw body); give two while rotating. JSON list in the environment.")
    webhook_timeout_seconds: float = Field(10.0, gt=0, description="Outgoing webhook timeout.")
    outbound_allow: list[str] = Field(
        default_factory=list, description="Internal targets that contact methods (webhooks, "
        "Apprise URLs) may reach although they are not public: addresses, networks "
        "(CIDR) and host names (`*.domain` for its subdomains). Empty: loopback, private, "
        "link-local (cloud metadata), carrier-grade NAT, multicast and reserved addresses "
        "are refused. JSON list in the environment.")
    notify_rate_limit_per_minute: int = Field(
        10, ge=1, description="Most messages sent to one contact method per minute; more wait.")
    notify_dedup_seconds: int = Field(
        60, ge=0, description="A page for the same incident to the same contact method within "
        "this many seconds of a sent one is dropped as a duplicate.")
    notify_lease_seconds: int = Field(
        60, ge=5, description="How long a worker may hold a message it is sending before "
        "another worker takes it over (a crash between send and record).")
    notify_max_attempts: int = Field(
        8, ge=1, description="Sending attempts before a message counts as permanently failed "
        "and the user's next contact method is tried.")
    notify_send_concurrency: int = Field(
        64, ge=1, le=64, description="Most messages one worker sends at the same time (each "
        "send is independent: a slow receiver holds up only its own messages).")
    notify_send_concurrency_per_method: int = Field(
        32, ge=1, le=64, description="Most messages one worker sends at the same time to one "
        "contact method, so a receiver that hangs cannot take every sending slot.")
    notify_bulletins_at_most_once: bool = Field(
        True, description="Email to status page subscribers and stakeholder lists (bulletins) "
        "is recorded \"committed to send\" just before the final dot of SMTP DATA, so after a "
        "crash none goes out twice (one in the microseconds between that record and the dot "
        "may be lost; a mail whose reply was never read is flagged delivery_unconfirmed). "
        "Off: recorded before DATA like pages, so none is lost but a crash may send one twice "
        "(flagged possibly_duplicated). Pages are always at least once.")
    notify_retention_days: int = Field(
        30, ge=1, description="Days finished messages (sent, failed, cancelled, deduped) are "
        "kept after they were last due; older ones are deleted hourly.")
    ack_link_hours: int = Field(
        24, ge=1, description="Hours an acknowledge link in a page stays valid.")
    invite_link_hours: int = Field(
        72, ge=1, le=24 * 30, description="Hours the sign-in link in an invitation email "
        "stays valid (it also stops working once used to set a password).")
    inbound_sms_secret: SecretStr | None = Field(
        None, description="Shared secret that signs inbound SMS webhook calls "
        "(X-Tocsin-Signature); unset: the inbound SMS endpoint is disabled.")
    # ---- respond and event webhooks (issue 21: respond/, webhooks/) ----
    bridge_url_template: str | None = Field(
        None, description="Conference link every new incident gets (Zoom, Meet, Jitsi…), "
        "with {id} and {number} filled in, e.g. https://meet.jit.si/acme-{number}; unset: "
        "bridges are set by hand.")
    twilio_auth_token: SecretStr | None = Field(
        None, description="Twilio account auth token: verifies the X-Twilio-Signature of "
        "voice and SMS webhooks; unset: the Twilio endpoints are disabled.")
    twilio_api_url: str = Field(
        "https://api.twilio.com", description="Base URL of Twilio's REST API, where voice "
        "pages place their calls (a regional edge or a proxy may stand in).")
    inbound_email_signing_key: SecretStr | None = Field(
        None, description="Mailgun-style webhook signing key for inbound email replies "
        "(timestamp + token HMAC); unset: the inbound email endpoint is disabled.")
    reply_domain: str | None = Field(
        None, description="Domain of the signed reply address put on email pages "
        "(ack+<signed token>@<domain>); replying 'ack' acknowledges. Unset: no Reply-To.")
    event_webhook_max_attempts: int = Field(
        8, ge=1, description="Attempts to deliver one event to a webhook subscription before "
        "it is marked failed.")
    event_webhook_retry_seconds: int = Field(
        15, ge=1, description="First retry delay of an event webhook delivery; doubles each "
        "attempt (capped at one hour).")

    # ---- analytics (metrics, on-call health, weekly digest) ----
    analytics_pages_per_shift: int = Field(
        2, ge=1, le=100, description="On-call health warns when a person gets more pages than "
        "this in one 12-hour shift (DOMAIN §5: at most 2).")
    analytics_digest_weekday: int = Field(
        0, ge=0, le=6, description="Day the weekly metrics digest goes out to each team "
        "(0 = Monday), after 08:00 UTC.")
    analytics_digest_enabled: bool = Field(
        True, description="Send each team's members the weekly metrics digest by email.")
    # ---- learning (issue 17: post-mortems, action items, known errors, drills) ----
    postmortem_required_severities: list[str] = Field(
        default_factory=lambda: ["SEV1", "SEV2"],
        description="Severities whose resolved incidents get a post-mortem draft "
        "automatically (anyone may start one for any incident). JSON in the environment.")
    postmortem_due_hours: int = Field(
        48, ge=1, le=24 * 90, description="Hours after resolution a post-mortem is due.")
    learning_reminder_before_hours: int = Field(
        24, ge=0, le=24 * 30, description="Hours before its due date that the owner of a "
        "post-mortem or action item is first reminded.")
    learning_reminder_every_hours: int = Field(
        24, ge=1, le=24 * 30, description="Hours between reminders once a post-mortem or "
        "action item is overdue.")
    learning_page_suggestions_ms: int = Field(
        50, ge=0, le=1000, description="Most milliseconds per second the delivery worker "
        "spends working out the known errors and similar incidents that first pages list "
        "(the engine records them moments later); once spent (a storm of new incidents), or "
        "with 0, first pages only link to them, so paging is not slowed down. The chat lane "
        "has a budget of the same size for Slack alert messages and channel summaries.")
    github_issues_url: str | None = Field(
        None, description="GitHub REST API base URL for action items (e.g. "
        "https://api.github.com); unset: no GitHub sync.")
    github_issues_token: SecretStr | None = Field(
        None, description="GitHub token that may create issues in `github_issues_repo`.")
    github_issues_repo: str | None = Field(
        None, pattern=r"^[\w.-]+/[\w.-]+$", description="owner/name of the repository.")
    jira_url: str | None = Field(
        None, description="Jira base URL for action items; unset: no Jira sync.")
    jira_token: SecretStr | None = Field(None, description="Jira personal access token.")
    jira_project: str | None = Field(None, description="Jira project key, e.g. OPS.")
    tracker_sync_seconds: int = Field(
        300, ge=10, le=86_400, description="Seconds between reads of synced action items' "
        "status from GitHub or Jira.")

    # Status pages (statuspages/)
    statuspage_max_age_seconds: int = Field(
        30, ge=0, le=86400, description="Cache-Control max-age of public status page files.")
    statuspage_port: int | None = Field(
        None, ge=1, le=65535, description="Port of the status listener: the public status "
        "page files only (`/status/<slug>/…`), answered without the app's per-request cost, "
        "on `host`. Unset: no such listener (the main port serves them too).")
    statuspage_subscribe_per_address: int = Field(
        3, ge=1, le=1000, description="Subscriptions one address may request per hour.")
    statuspage_maintenance_horizon_days: int = Field(
        14, ge=1, le=90, description="Days ahead within which the occurrences of a recurring "
        "maintenance window announced on a status page are posted (the default of each "
        "announcement).")
    # Stakeholder updates (stakeholders/)
    stakeholder_cadence_minutes: dict[str, int] = Field(
        default_factory=lambda: {"SEV1": 15, "SEV2": 30},
        description="Minutes to the next promised stakeholder update, per severity (the "
        "default when the author names none). Severities not listed promise none.")
    stakeholder_reminder_lead_minutes: int = Field(
        5, ge=0, le=120, description="The comms role is reminded this long before a promised "
        "stakeholder update is due.")
    statuspage_subscribe_per_client: int = Field(
        20, ge=1, le=100000, description="Subscriptions one client (IP address) may "
        "request per hour.")

    # chatops (Slack, Mattermost, Teams): docs/chatops.md
    slack_bot_token: SecretStr | None = Field(
        None, description="Slack bot token (xoxb-…) for Web API calls; unset: nothing is "
        "sent to Slack.")
    slack_signing_secret: SecretStr | None = Field(
        None, description="Slack app signing secret; unset: Slack's request URLs answer 404.")
    slack_app_token: SecretStr | None = Field(
        None, description="Slack app-level token (xapp-…) for Socket Mode; unset: no socket.")
    slack_api_url: str = Field(
        "https://slack.com/api/", description="Base URL of Slack's Web API (ends with /).")
    chatops_channel_severities: list[str] = Field(
        ["SEV1", "SEV2"], description="Severities whose incidents get their own chat channel.")
    chatops_timeline_emoji: str = Field(
        "pushpin", description="Reaction (name without colons) that copies a channel message "
        "to the incident's timeline.")
    chatops_call_timeout: float = Field(
        5.0, gt=0, le=60, description="Seconds one outbound chat call may take.")
    chatops_storm_threshold: int = Field(
        10, ge=0, le=1000, description="Alert storms in Slack: an incident opened by monitoring "
        "when this many or more reached Slack in the minute before it gets no channel or alert "
        "message of its own; it is counted and listed in one storm message per alert channel, "
        "edited in place. 0: never group.")
    mattermost_token: SecretStr | None = Field(
        None, description="Mattermost slash-command token(s), comma-separated; unset: "
        "Mattermost's command URL answers 404.")

    # --- access (issue 19): single sign-on, two-factor, audit log, security incidents ---
    sso_issuer: str | None = Field(
        None, description="OpenID Connect issuer URL (discovery at "
        "`<issuer>/.well-known/openid-configuration`); unset: single sign-on is off.")
    sso_client_id: str = Field("", description="OpenID Connect client id registered for Tocsin.")
    sso_client_secret: SecretStr | None = Field(
        None, description="OpenID Connect client secret (or `TOCSIN_SSO_CLIENT_SECRET_FILE`).")
    sso_button_label: str = Field("Sign in with single sign-on",
                                  description="Text of the sign-in page's SSO button.")
    sso_groups_claim: str = Field("groups", description="ID token claim listing the groups.")
    sso_group_roles: dict[str, str] = Field(
        default_factory=dict, description="Group → global role (viewer, responder, admin); "
        "the strongest matching role wins.")
    sso_group_teams: dict[str, str] = Field(
        default_factory=dict, description="Group → `Team name:member` or `Team name:manager`; "
        "the team is created if missing.")
    sso_default_role: str = Field(
        "viewer", description="Global role of a user whose groups match no `sso_group_roles`.")
    local_sign_in: bool = Field(
        True, description="Password sign-in; false leaves it only to `break_glass_emails`.")
    break_glass_emails: list[str] = Field(
        default_factory=list, description="Accounts (admins) that may still sign in with a "
        "password when `local_sign_in` is false.")
    totp_required_for_admins: bool = Field(
        False, description="Admins must enrol two-factor (TOTP) before using the web app.")
    totp_max_failures: int = Field(
        5, ge=1, description="Wrong TOTP codes in a row before the second step is refused for "
        "`totp_lockout_minutes`.")
    totp_lockout_minutes: int = Field(15, ge=1, description="See `totp_max_failures`.")
    audit_retention_days: int = Field(
        365, ge=1, description="Days audit entries are kept; older ones are deleted daily "
        "(the chain then starts at the oldest kept entry).")
    security_notification_clocks: dict[str, int] = Field(
        default_factory=lambda: {"GDPR supervisory authority": 72},
        description="Notification deadlines started by a security incident: name → hours.")
    security_reminder_hours: list[int] = Field(
        default_factory=lambda: [24, 12, 4, 1], description="Reminders before each deadline "
        "(hours before it), plus one at the deadline.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = init_settings.init_kwargs.pop("_toml_file", None)  # type: ignore[attr-defined]
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings,
                                                     SecretFilesSource(settings_cls)]
        if toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)

    @field_validator("recovery_watch_minutes", "update_reminder_minutes",
                     "stakeholder_cadence_minutes")
    @classmethod
    def _severity_keys(cls, value: dict[str, int]) -> dict[str, int]:
        bad = sorted(set(value) - {"SEV1", "SEV2", "SEV3", "SEV4"})
        if bad:
            raise ValueError(f"keys must be SEV1..SEV4, got {', '.join(bad)}")
        if any(v < 0 for v in value.values()):
            raise ValueError("minutes must be zero or more")
        return value

    @field_validator("sso_group_roles")
    @classmethod
    def _group_roles(cls, value: dict[str, str]) -> dict[str, str]:
        bad = sorted(r for r in value.values() if r not in _GLOBAL_ROLES)
        if bad:
            raise ValueError(f"roles are viewer, responder or admin, got {', '.join(bad)}")
        return value

    @field_validator("sso_default_role")
    @classmethod
    def _default_role(cls, value: str) -> str:
        if value not in _GLOBAL_ROLES:
            raise ValueError("viewer, responder or admin")
        return value

    @field_validator("sso_group_teams")
    @classmethod
    def _group_teams(cls, value: dict[str, str]) -> dict[str, str]:
        for rule in value.values():
            _team, sep, role = rule.rpartition(":")
            if (sep and role.strip().lower() not in ("member", "manager")) or not rule.strip():
                raise ValueError(f"'{rule}': write 'Team name:member' or 'Team name:manager'")
        return value

    @field_validator("outbound_allow")
    @classmethod
    def _outbound_allow(cls, value: list[str]) -> list[str]:
        parse_allow(value)
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("only sqlite:/// and postgresql+psycopg:// URLs are supported")
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            value = "postgresql+psycopg://" + value.split("://", 1)[1]
        return value

    @model_validator(mode="after")
    def _tls_files(self) -> Settings:
        pair = (self.tls_cert_file, self.tls_key_file)
        if (pair[0] is None) != (pair[1] is None):
            raise ValueError("tls_cert_file and tls_key_file go together: set both or neither")
        for path in pair:
            if path is not None and not path.is_file():
                raise ValueError(f"TLS file {path} does not exist or is not a file")
        return self

    @model_validator(mode="after")
    def _two_ports(self) -> Settings:
        if self.statuspage_port is not None and self.statuspage_port == self.port:
            raise ValueError(f"statuspage_port and port are both {self.port}: the status "
                             "listener needs a port of its own")
        return self

    @property
    def tls(self) -> bool:
        return self.tls_cert_file is not None

    @property
    def cookies_secure(self) -> bool:
        """Cookies are sent over HTTPS only when asked to, or when we serve HTTPS ourselves."""
        return self.web_cookie_secure or self.tls

    @model_validator(mode="after")
    def _secrets_outside_dev(self) -> Settings:
        if self.env != "dev" and self.secret_key is not None:
            raw = self.secret_key.get_secret_value()
            if raw.lower() in INSECURE_SECRETS or len(raw) < 16:
                raise ValueError(
                    "secret_key is a known-insecure or short value (< 16 characters); set "
                    "TOCSIN_SECRET_KEY to a long random string, or TOCSIN_ENV=dev for local use"
                )
        return self

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'tocsin.db').resolve()}"

    @property
    def database_kind(self) -> str:
        return "postgresql" if self.effective_database_url.startswith("postgresql") else "sqlite"

    @property
    def public_url(self) -> str:
        if self.base_url:
            return self.base_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    @property
    def outbound_policy(self) -> OutboundPolicy:
        """`outbound_allow`, parsed (once per distinct value)."""
        return policy_of(tuple(self.outbound_allow))

    def secret(self) -> str:
        """The signing secret: configured, or generated once into the data directory."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.data_dir / "secret.key"
        if path.exists():
            return path.read_text().strip()
        self.make_data_dir()
        value = secrets.token_urlsafe(48)
        path.write_text(value)
        path.chmod(0o600)
        return value

    def make_data_dir(self) -> Path:
        """Create the data directory if needed, with a `.gitignore` that ignores all of it.

        The directory holds the secret key and the database; it is often made inside a
        checkout (`./tocsin-data`), where a `git add .` must not pick them up. An existing
        `.gitignore` is left as the operator wrote it.
        """
        self.data_dir.mkdir(parents=True, exist_ok=True)
        ignore = self.data_dir / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# Created by Tocsin: the secret key and database stay out of git.\n*\n")
        return self.data_dir

    def masked(self) -> dict[str, Any]:
        """Effective settings as plain values, secrets masked, for `tocsin config show`."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "********"
            elif name == "database_url" and value and "@" in value:
                scheme, rest = value.split("://", 1)
                creds, host = rest.rsplit("@", 1)
                user = creds.split(":", 1)[0]
                value = f"{scheme}://{user}:********@{host}" if ":" in creds else value
            elif isinstance(value, Path):
                value = str(value)
            out[name] = value
        out["effective_database_url"] = (
            out["database_url"] or self.effective_database_url
        )
        return out


def load_settings(toml_file: Path | None = None, **overrides: Any) -> Settings:
    """Build settings from (highest first) overrides, environment, then the TOML file.

    Raises ConfigError with one readable line per problem.
    """
    if toml_file is not None and not toml_file.exists():
        raise ConfigError(f"config file {toml_file} does not exist")
    kwargs: dict[str, Any] = {k: v for k, v in overrides.items() if v is not None}
    if toml_file is not None:
        kwargs["_toml_file"] = toml_file
    try:
        return Settings(**kwargs)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "settings"
            name = f"TOCSIN_{loc.upper()}" if loc != "settings" else "settings"
            lines.append(f"{name}: {err['msg']}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines)) from None
