"""Markdown to safe HTML: markdown-it-py with raw HTML off, then nh3 (an allow-list
sanitiser) so a script, an event handler or a `javascript:` link never reaches a page.

In the base layer so that every feature that shows Markdown (post-mortems, runbooks, status
page posts) uses this one renderer and its one allow-list."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

_MD = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "strong", "em", "code",
         "pre", "blockquote", "a", "table", "thead", "tbody", "tr", "th", "td", "hr", "br"}


def to_html(markdown: str) -> str:
    return nh3.clean(_MD.render(markdown), tags=_TAGS,
                     attributes={"a": {"href", "title"}}, url_schemes={"http", "https",
                                                                       "mailto"})
