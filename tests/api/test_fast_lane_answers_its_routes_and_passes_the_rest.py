"""The fast lane in front of the app: a matching request is answered by its fast route, and
everything else — another path or method, a declined request, a lifespan — reaches the app."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.types import Receive, Scope, Send

from tocsin.api.fastlane import FastLane, FastRoute, request_route


async def by_app(request: Request) -> Response:
    return PlainTextResponse(f"app {request.method} {request.url.path}")


APP = Starlette(routes=[Route("/{path:path}", by_app, methods=["GET", "POST", "PUT"])])


async def ping(scope: Scope, receive: Receive, send: Send, rest: str) -> bool:
    if rest == "bad":
        return False  # declined: the app answers
    await PlainTextResponse(f"lane {rest}")(scope, receive, send)
    return True


async def answer(request: Request, key: str) -> Response:
    assert request.app is APP
    return PlainTextResponse(f"keyed {key} {(await request.body()).decode()}")


def lane() -> TestClient:
    return TestClient(FastLane(APP, [
        FastRoute("/ping/", frozenset({"GET", "POST"}), ping),
        request_route("/hooks/", ["POST"], APP, answer),
        request_route("/enqueue", ["POST"], APP, answer)]))


def test_matching_requests_are_answered_by_their_fast_route() -> None:
    with lane() as client:
        assert client.get("/ping/abc/start").text == "lane abc/start"
        assert client.post("/hooks/k1", content=b"body").text == "keyed k1 body"
        assert client.post("/enqueue", content=b"x").text == "keyed  x"


def test_everything_else_reaches_the_app() -> None:
    with lane() as client:
        assert client.put("/ping/abc").text == "app PUT /ping/abc"  # another method
        assert client.get("/ping/bad").text == "app GET /ping/bad"  # declined
        assert client.post("/hooks/").text == "app POST /hooks/"  # no key
        assert client.post("/hooks/a/b").text == "app POST /hooks/a/b"  # not one segment
        assert client.get("/enqueue").text == "app GET /enqueue"
        assert client.post("/enqueue/more").text == "app POST /enqueue/more"
        assert client.get("/other").text == "app GET /other"
