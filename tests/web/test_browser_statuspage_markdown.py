"""In Chromium with JavaScript on: a status page post's Markdown shows formatted in the
editor's preview and on the public page, and nothing in it runs (a script, an event
handler, a `javascript:` link) and no raw HTML takes effect."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.conftest import Account
from tests.web.conftest import sign_in

HOSTILE = """**Payments** are *slow*; see [our notes](https://example.com/notes).

- [click me](javascript:window.pwned=1)

<script>window.pwned = 2</script>
<img src=x onerror="window.pwned=3">
<b onmouseover="window.pwned=4">raw bold</b>
"""


def test_markdown_is_formatted_and_nothing_in_it_runs(live_url: str, new_page: Any,
                                                      admin: Account, client: Any) -> None:
    r = client.post("/api/v1/statuspages", headers=admin.headers,
                    json={"slug": "acme", "name": "Acme"})
    assert r.status_code == 201, r.text
    page_id = r.json()["id"]

    editor = new_page()
    sign_in(editor, live_url, admin, path=f"/statuspages/{page_id}")
    editor.get_by_label("Public title").fill("Slow payments")
    editor.get_by_label("What readers should know").fill(HOSTILE)
    editor.get_by_role("button", name="Preview").click()
    preview = editor.get_by_role("region", name="Preview")
    expect(preview.locator(".md strong")).to_have_text("Payments")
    # A `javascript:` link is not made a link at all: its text stays as typed.
    expect(preview.locator("li")).to_contain_text("click me")
    assert preview.locator("li a").count() == 0
    expect(preview).to_contain_text('<b onmouseover="window.pwned=4">raw bold</b>')  # as text
    preview.locator("li").click()
    assert editor.evaluate("window.pwned") is None
    editor.get_by_role("button", name="Publish").click()
    expect(editor.get_by_text("Post Slow payments published.")).to_be_visible()

    reader = new_page()  # JavaScript on: if anything could run, it would here
    reader.goto(f"{live_url}/status/acme/")
    post = reader.locator("article.post .body")
    expect(post.locator("strong")).to_have_text("Payments")
    expect(post.locator("em")).to_have_text("slow")
    expect(post.get_by_role("link", name="our notes")).to_have_attribute(
        "href", "https://example.com/notes")
    expect(post).to_contain_text("<script>window.pwned = 2</script>")
    assert post.locator("script, img, [onerror], [onmouseover]").count() == 0
    assert post.locator("a[href^='javascript']").count() == 0
    post.locator("li").click()
    post.get_by_text("raw bold").hover()
    assert reader.evaluate("window.pwned") is None
