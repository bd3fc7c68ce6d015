"""The check form: per-kind settings as plain fields (`config.<name>`), read into the API's
request shapes, and the service's messages put back next to the field they name."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import yaml
from starlette.datastructures import FormData

from tocsin.checks.models import CheckKind
from tocsin.checks.schemas import RECORD_TYPES
from tocsin.web import forms

HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
COMMON = ("name", "service_id", "interval_seconds", "timeout_seconds", "locations",
          "confirm_failures", "confirm_locations")


@dataclass(frozen=True)
class ConfigField:
    name: str
    label: str
    type: str = "text"  # text, number, textarea, bool, list, select, headers, json
    required: bool = False
    hint: str = ""
    options: tuple[str, ...] = ()
    default: bool = False  # a checkbox's state on a new check


def _host(default_port: str = "") -> tuple[ConfigField, ...]:
    return (ConfigField("host", "Host", required=True, hint="Host name or IP address."),
            ConfigField("port", "Port", "number", required=not default_port,
                        hint=f"Default {default_port}." if default_port else ""))


CONFIG_FIELDS: dict[str, tuple[ConfigField, ...]] = {
    CheckKind.HTTP.value: (
        ConfigField("url", "URL", required=True, hint="http:// or https://"),
        ConfigField("method", "Method", "select", options=HTTP_METHODS),
        ConfigField("expected_status", "Expected status codes", "list",
                    hint="Comma-separated; empty means 200-399."),
        ConfigField("keyword", "Keyword that must appear"),
        ConfigField("keyword_absent", "Keyword that must not appear"),
        ConfigField("json_path", "JSON path", hint="e.g. $.status"),
        ConfigField("json_equals", "JSON path must equal", "json",
                    hint="A JSON value such as \"ok\" or 3; plain text is a string."),
        ConfigField("max_latency_ms", "Maximum latency (ms)", "number"),
        ConfigField("headers", "Headers", "headers", hint="One per line: Name: value"),
        ConfigField("body", "Request body", "textarea"),
        ConfigField("follow_redirects", "Follow redirects", "bool", default=True),
        ConfigField("verify_tls", "Verify the TLS certificate", "bool", default=True),
        ConfigField("fresh_connection", "New connection for every run", "bool"),
    ),
    CheckKind.TLS.value: (
        *_host("443"),
        ConfigField("server_name", "Server name", hint="SNI and expected name; default host."),
        ConfigField("min_days_valid", "Alert when it expires within (days)", "number",
                    hint="Default 14."),
        ConfigField("check_hostname", "Certificate must match the name", "bool", default=True),
    ),
    CheckKind.DNS.value: (
        ConfigField("name", "Name to resolve", required=True),
        ConfigField("record_type", "Record type", "select", options=RECORD_TYPES),
        ConfigField("resolver", "Resolver IP address", required=True),
        ConfigField("port", "Resolver port", "number", hint="Default 53."),
        ConfigField("expected", "Expected values", "list", hint="Comma-separated."),
        ConfigField("exact", "The answer must equal the expected values exactly", "bool"),
    ),
    CheckKind.TCP.value: _host(),
    CheckKind.POSTGRES.value: (
        ConfigField("dsn", "Connection string", required=True,
                    hint="postgresql://user:password@host/db or libpq key=value pairs."),
    ),
}
# Kinds without their own fields (added later) take their settings as a YAML mapping.
DOCUMENT = (ConfigField("document", "Settings (YAML mapping)", "textarea", required=True),)


def fields_for(kind: str) -> tuple[ConfigField, ...]:
    return CONFIG_FIELDS.get(kind, DOCUMENT)


def _split(raw: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,\n]", raw) if part.strip()]


def read_config(form: FormData, kind: str, errors: dict[str, str]) -> dict[str, Any]:
    """The posted settings as the API's `config` object; blank fields take the defaults."""
    config: dict[str, Any] = {}
    for f in fields_for(kind):
        key = f"config.{f.name}"
        raw = form.get(key)
        text = raw.strip() if isinstance(raw, str) else ""
        if f.type == "bool":
            config[f.name] = forms.checked(form, key)
        elif f is DOCUMENT[0]:
            try:
                loaded = yaml.safe_load(text) if text else {}
            except yaml.YAMLError:
                loaded = None
            if not isinstance(loaded, dict):
                errors[key] = "write the settings as a YAML mapping (key: value lines)"
                loaded = {}
            config.update(loaded)
        elif not text:
            continue
        elif f.type == "list":
            config[f.name] = _split(text)
        elif f.type == "headers":
            config[f.name] = _headers(text, key, errors)
        elif f.type == "json":
            try:
                config[f.name] = json.loads(text)
            except ValueError:
                config[f.name] = text
        else:
            config[f.name] = text
    return config


def _headers(text: str, key: str, errors: dict[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        if not line.strip():
            continue
        if not sep or not name.strip():
            errors[key] = f"'{line.strip()}' is not 'Name: value'"
            continue
        out[name.strip()] = value.strip()
    return out


def config_values(kind: str, config: dict[str, Any]) -> dict[str, Any]:
    """A stored `config` as the form's field values (the inverse of `read_config`)."""
    values: dict[str, Any] = {}
    for f in fields_for(kind):
        key = f"config.{f.name}"
        value = config.get(f.name)
        if f is DOCUMENT[0]:
            values[key] = yaml.safe_dump(config, sort_keys=False) if config else ""
        elif f.type == "bool":
            values[key] = bool(value)
        elif value is None:
            values[key] = ""
        elif f.type == "list":
            values[key] = ", ".join(str(v) for v in value)
        elif f.type == "headers":
            values[key] = "\n".join(f"{k}: {v}" for k, v in value.items())
        elif f.type == "json":
            values[key] = value if isinstance(value, str) else json.dumps(value)
        else:
            values[key] = str(value)
    return values


def posted_values(form: FormData, kind: str) -> dict[str, Any]:
    """What was typed in the settings fields, to show again beside their messages."""
    values: dict[str, Any] = {}
    for f in fields_for(kind):
        key = f"config.{f.name}"
        values[key] = forms.checked(form, key) if f.type == "bool" else forms.text(form, key)
    return values


def new_values(kind: str) -> dict[str, Any]:
    values: dict[str, Any] = {"kind": kind, "interval_seconds": "60", "timeout_seconds": "10",
                              "locations": "server", "confirm_failures": "1", "enabled": True}
    values.update({f"config.{f.name}": f.default for f in fields_for(kind) if f.type == "bool"})
    return values


def common_values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {k: forms.text(form, k) for k in COMMON}
    values["enabled"] = forms.checked(form, "enabled")
    return values


def payload(values: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """The API request body; blank numbers are left out so the API's defaults apply."""
    body: dict[str, Any] = {"name": values["name"], "config": config,
                            "locations": _split(values["locations"]) or ["server"],
                            "confirm_locations": values["confirm_locations"] or None}
    for key in ("service_id", "interval_seconds", "timeout_seconds", "confirm_failures"):
        if values[key]:
            body[key] = values[key]
    return body


_FIELD = re.compile(r"^(config\.[a-z_]+|[a-z_]+)\b")


def field_errors(detail: str, known: set[str]) -> dict[str, str]:
    """A service message such as 'config.url: ...; config.port: ...' or
    'timeout_seconds (15) must be shorter ...' as messages per form field."""
    found: dict[str, str] = {}
    for part in detail.split("; "):
        match = _FIELD.match(part)
        name = match.group(1) if match else ""
        if name in known:
            found.setdefault(name, part.removeprefix(f"{name}: "))
        else:
            found["form"] = f"{found['form']}; {part}" if "form" in found else part
    return found
