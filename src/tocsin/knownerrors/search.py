"""The one full-text interface: SQLite FTS5 or PostgreSQL text search, chosen by the
session's database. Callers index a row's text and search by text; nothing else in the
service knows which database answers.

The index tables (`fts_incidents`, `fts_problems`) are made by migration 0013 in each
database's own form; their ids are the indexed rows' ids.
"""

from __future__ import annotations

import re
from typing import Literal

from sqlalchemy import text
from sqlalchemy.orm import Session

Index = Literal["incidents", "problems"]
MAX_TERMS = 24
RANKED = 2000
# Words that say nothing about what broke.
_STOP = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "has", "have", "in",
    "is", "it", "its", "of", "on", "or", "that", "the", "this", "to", "was", "were", "will",
    "with", "not", "no", "alert", "alerts", "incident", "error", "errors"})


def terms(value: str) -> list[str]:
    """Distinct search words of `value`, in order (letters and digits only: safe to put in
    either database's query syntax)."""
    seen: list[str] = []
    for word in re.findall(r"[a-z0-9]+", value.lower()):
        if len(word) > 1 and word not in _STOP and word not in seen:
            seen.append(word)
    return seen[:MAX_TERMS]


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def put(session: Session, index: Index, row_id: int, document: str) -> None:
    """Index (or re-index) one row's text."""
    table = f"fts_{index}"
    if _postgres(session):
        session.execute(text(
            f"INSERT INTO {table} (id, doc) VALUES (:id, to_tsvector('simple', :doc)) "
            "ON CONFLICT (id) DO UPDATE SET doc = excluded.doc"), {"id": row_id, "doc": document})
        return
    session.execute(text(f"DELETE FROM {table} WHERE rowid = :id"), {"id": row_id})
    session.execute(text(f"INSERT INTO {table} (rowid, doc) VALUES (:id, :doc)"),
                    {"id": row_id, "doc": document})


def put_many(session: Session, index: Index, documents: list[tuple[int, str]]) -> None:
    """Index many new rows at once (bulk loads, benchmarks)."""
    if not documents:
        return
    table = f"fts_{index}"
    values = [{"id": i, "doc": d} for i, d in documents]
    if _postgres(session):
        session.execute(text(f"INSERT INTO {table} (id, doc) VALUES "
                             "(:id, to_tsvector('simple', :doc)) ON CONFLICT (id) DO UPDATE "
                             "SET doc = excluded.doc"), values)
    else:
        session.execute(text(f"INSERT INTO {table} (rowid, doc) VALUES (:id, :doc)"), values)


def find(session: Session, index: Index, query: str, *, limit: int) -> list[tuple[int, float]]:
    """Rows whose text shares words with `query`, best first, as (id, score > 0). Only the
    newest RANKED matching rows are scored, which bounds the cost on a large history: a
    recent look-alike matters more than an old one."""
    words = terms(query)
    if not words:
        return []
    table = f"fts_{index}"
    if _postgres(session):
        # The query is written out in the WHERE clause (not in a CTE) so that the planner
        # sees it and estimates from the words' frequencies: a query with a common word
        # (a label value such as "prod") walks the newest rows backwards by id and stops at
        # RANKED matches (~7 ms at 100,000 rows); one with rare words only takes the GIN
        # index. Behind a CTE it always took the index, fetched every match and sorted
        # them: 260 ms at 100,000 rows.
        found = session.execute(text(
            f"SELECT id, ts_rank(doc, to_tsquery('simple', :q)) AS score FROM "
            f"(SELECT id, doc FROM {table} WHERE doc @@ to_tsquery('simple', :q) "
            "ORDER BY id DESC LIMIT :cap) AS m ORDER BY score DESC, id DESC LIMIT :n"),
            {"q": " | ".join(words), "n": limit, "cap": RANKED})
        return [(int(i), float(s)) for i, s in found]
    # Ranked inside SQLite: only the best `limit` rows cross into Python (fetching all
    # RANKED rows and sorting them here cost more than the search).
    found = session.execute(text(
        f"SELECT id, score FROM (SELECT rowid AS id, -bm25({table}) AS score FROM {table} "
        f"WHERE {table} MATCH :q ORDER BY rowid DESC LIMIT :cap) "
        "ORDER BY score DESC, id DESC LIMIT :n"),
        {"q": " OR ".join(f'"{w}"' for w in words), "cap": RANKED, "n": limit})
    return [(int(i), float(s)) for i, s in found]
