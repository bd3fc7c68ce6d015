"""Run `tocsin` commands in process against a real server on loopback (uvicorn in a thread,
tests.intake.conftest.serve), as a signed-in user would from a shell."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from tests.intake.conftest import serve
from tocsin.console import app
from tocsin.runtime import Runtime


@dataclass
class Cli:
    runner: CliRunner
    url: str

    def invoke(self, *args: str) -> Result:
        return self.runner.invoke(app, list(args))

    def run(self, *args: str) -> str:
        """What a terminal shows: stdout and stderr interleaved."""
        return self._ok(*args).output

    def json(self, *args: str) -> Any:
        """--json output (stdout alone, as a pipe gets it)."""
        return json.loads(self._ok(*args, "--json").stdout)

    def _ok(self, *args: str) -> Result:
        result = self.invoke(*args)
        assert result.exit_code == 0, \
            f"tocsin {' '.join(args)}: {result.output} {result.exception!r}"
        return result

    def fails(self, *args: str) -> str:
        """The one `error:` line a failing command prints (exit code not 0)."""
        result = self.invoke(*args)
        assert result.exit_code != 0, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), \
            repr(result.exception)
        errors = [line for line in result.output.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, result.output
        return errors[0]


@contextmanager
def cli_for(runtime: Runtime, token: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    with serve(runtime) as port:
        url = f"http://127.0.0.1:{port}"
        monkeypatch.setenv("TOCSIN_URL", url)
        monkeypatch.setenv("TOCSIN_TOKEN", token)
        yield Cli(CliRunner(), url)
