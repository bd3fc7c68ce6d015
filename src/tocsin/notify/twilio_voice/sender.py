"""Voice pages: a phone call placed through Twilio's Calls API (with the `twilio` library).

The address is the Apprise Twilio URL voice methods already use:
`twilio://<AccountSid>:<AuthToken>@<FromNumber>/<ToNumber>`. A page's call fetches its TwiML
from Tocsin (`/inbound/twilio/voice?t=<ack token>`, respond/phone.py), which reads the
incident and takes 1 (acknowledge) or 2 (escalate). Other messages (a verification code) are
spoken from inline TwiML. `twilio_api_url` points the library elsewhere (a regional edge, a
proxy, the tests' stand-in); every address connected to is judged by outbound.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse

from tocsin.notify.contract import Outgoing, PermanentError, TemporaryError
from tocsin.outbound import refused_message, url_refusal
from tocsin.settings import Settings

TWILIO_API = "https://api.twilio.com"


@dataclass(frozen=True)
class Line:
    account_sid: str
    auth_token: str
    from_: str
    to: str


def line_of(address: str) -> Line:
    parts = urlsplit(address)
    to = parts.path.strip("/").split("/")[0]
    if parts.scheme.lower() != "twilio" or not (parts.username and parts.password
                                                and parts.hostname and to):
        raise PermanentError("a voice address is twilio://AccountSid:AuthToken@From/To")
    return Line(unquote(parts.username), unquote(parts.password),
                _number(parts.hostname), _number(to))


def _number(text: str) -> str:
    digits = "".join(c for c in text if c.isdigit())
    return f"+{digits}"


class _Rebased(TwilioHttpClient):  # type: ignore[misc]
    """The library's HTTP client, sending to `base` instead of api.twilio.com."""

    def __init__(self, base: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self._base = base.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if url.startswith(TWILIO_API):
            url = self._base + url[len(TWILIO_API):]
        return super().request(method, url, *args, **kwargs)


def call_args(out: Outgoing, settings: Settings) -> dict[str, str]:
    """What the call is told to do: fetch the page's TwiML from Tocsin, or say the text."""
    ack_url = out.data.get("ack_url")
    if out.data.get("kind") == "page" and ack_url:
        token = str(ack_url).rsplit("/", 1)[-1]
        return {"url": f"{settings.public_url}/inbound/twilio/voice?t={token}"}
    speech = VoiceResponse()
    text = out.text
    if out.data.get("code"):
        text = "Your Tocsin verification code is " + " ".join(str(out.data["code"])) + "."
    speech.say(text[:1000])
    return {"twiml": str(speech)}


def send(out: Outgoing, settings: Settings) -> None:
    line = line_of(out.address)
    base = settings.twilio_api_url
    reason = url_refusal(base, settings.outbound_policy)
    if reason is not None:
        raise PermanentError(f"twilio {base}: {refused_message(reason)}")
    client = Client(line.account_sid, line.auth_token,
                    http_client=_Rebased(base, settings.webhook_timeout_seconds))
    try:
        client.calls.create(to=line.to, from_=line.from_, **call_args(out, settings))
    except TwilioRestException as exc:
        err = f"twilio answered {exc.status}: {exc.msg}"
        if exc.status in (408, 429) or exc.status >= 500:
            raise TemporaryError(err) from exc
        raise PermanentError(err) from exc
    except Exception as exc:  # the library raises requests' errors for network trouble
        raise TemporaryError(f"twilio {base}: {type(exc).__name__}: {exc}") from exc
