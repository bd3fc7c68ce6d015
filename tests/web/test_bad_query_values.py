"""Pages take any query string without a 500: numbers past what the database holds (or
digits `int` refuses, like "²") are ignored as filters; NUL characters are refused."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.web.conftest import web_login


def test_filters_past_the_columns_range_are_ignored(client: TestClient,
                                                    responder: Account) -> None:
    web_login(client, responder)
    for value in ("99999999999999999999", "9223372036854775808", "2147483648", "²"):
        for page in ("/incidents", "/checks"):
            r = client.get(page, params={"service": value})
            assert r.status_code == 200, (page, value, r.status_code)


def test_nul_in_a_search_or_filter_is_refused(client: TestClient, responder: Account) -> None:
    web_login(client, responder)
    for query in ("q=disk%00full", "status=fir%00ing", "service=1%00"):
        r = client.get(f"/checks?{query}")
        assert r.status_code == 422, (query, r.status_code)
    r = client.get("/incidents?status=open%00")
    assert r.status_code == 422


def test_nul_in_a_form_is_refused(client: TestClient, responder: Account) -> None:
    r = client.post("/login", data={"email": "ana\x00@example.com", "password": "x" * 12})
    assert r.status_code == 422 and "NUL" in r.json()["detail"], r.text
