"""The one search interface ranks alike on SQLite FTS5 and PostgreSQL text search (the suite
runs on both): the closest text first, a word every document has does not swamp it, ties
go to the newer row, and only the newest RANKED matches are scored."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Account
from tocsin.knownerrors import search
from tocsin.runtime import Runtime


def _indexed(client: TestClient, runtime: Runtime, who: Account, *docs: str) -> list[int]:
    ids = [client.post("/api/v1/incidents", headers=who.headers,
                       json={"title": f"incident {n}", "severity": "SEV4"}).json()["id"]
           for n in range(len(docs))]
    with runtime.sessions() as s, s.begin():
        for iid, doc in zip(ids, docs, strict=True):
            search.put(s, "incidents", iid, doc)
    return ids


def test_closest_text_first_and_a_word_in_every_document_does_not_swamp_it(
        client: TestClient, runtime: Runtime, responder: Account) -> None:
    near, nearest, *others = _indexed(
        client, runtime, responder, "Payment gateway timeouts prod eu",
        "Payment gateway timeouts, connection pool exhausted prod eu",
        "Login page slow prod eu", "Search results stale prod eu", "Disk full prod eu",
        "Certificate expired prod eu")
    with runtime.read_sessions() as s:
        found = search.find(s, "incidents", "gateway pool exhausted timeouts prod eu",
                            limit=10)
    assert [i for i, _ in found[:2]] == [nearest, near]
    assert sorted(i for i, _ in found[2:]) == sorted(others)  # they share "prod" only
    scores = [score for _, score in found]
    assert all(score > 0 for score in scores) and scores == sorted(scores, reverse=True)
    assert found[0][1] > found[1][1] > found[2][1]


def test_equal_text_goes_to_the_newer_incident(client: TestClient, runtime: Runtime,
                                               responder: Account) -> None:
    older, newer = _indexed(client, runtime, responder, "Kafka consumer lag",
                            "Kafka consumer lag")
    with runtime.read_sessions() as s:
        assert [i for i, _ in search.find(s, "incidents", "kafka lag", limit=5)] == [
            newer, older]


def test_only_the_newest_ranked_matches_are_scored(
        client: TestClient, runtime: Runtime, responder: Account,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search, "RANKED", 2)
    best_but_old, _unrelated, weak, weaker = _indexed(
        client, runtime, responder, "Disk full disk full on ingest nodes", "Login slow",
        "Disk full", "Disk almost full")
    with runtime.read_sessions() as s:
        found = [i for i, _ in search.find(s, "incidents", "ingest disk full", limit=5)]
    assert sorted(found) == sorted([weak, weaker]) and best_but_old not in found
