"""BIS web pages: news / press-release listings and rule landing pages, watched by the hash of the
relevant content node (pages carry dates, menus and banners that change without the content changing)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

from ..context import BadResponse, Context
from ..spec import SourceSpec

CONTENT_SELECTORS = ("main", "[role=main]", "#main-content", "article", "#content", ".main-content")
MAX_TEXT = 200_000


def start(ctx: Context) -> Iterator[Any]:
    for page in ctx.options["pages"]:
        url = page if "://" in str(page) else f"{ctx.base_url}/{str(page).lstrip('/')}"
        yield ctx.fetch(url, parse_page, kind="html", meta={"bis_listing": True})


def relevant_text(soup: Any) -> tuple[str, str]:
    """(selector used, normalised text of the content node). Scripts, styles and forms are dropped."""
    for sel in CONTENT_SELECTORS:
        node = soup.select_one(sel)
        if node is not None:
            break
    else:
        sel, node = "body", soup.body
    if node is None:
        raise BadResponse("HTML page without a body")
    for junk in node.select("script, style, noscript, form, nav, .cookie-banner, [aria-hidden=true]"):
        junk.decompose()
    return sel, " ".join(node.get_text(" ", strip=True).split())


def parse_page(ctx: Context, response: Any) -> Iterator[Any]:
    soup = ctx.html(response)
    sel, text = relevant_text(soup)
    if not text:
        raise BadResponse(f"empty content node ({sel})")
    title = " ".join(soup.title.get_text().split()) if soup.title else None
    content_hash = hashlib.sha256(text.encode()).hexdigest()
    path = urlsplit(response.url).path or "/"
    links: list[str] = []
    if response.meta.get("bis_listing"):
        node = next((n for n in (soup.select_one(s) for s in CONTENT_SELECTORS) if n is not None), soup)
        host = urlsplit(response.url).netloc
        for a in node.select("a[href]"):
            href = urljoin(response.url, str(a["href"]))
            same_site = urlsplit(href).netloc == host
            if same_site and any(p in href for p in ctx.options["follow"]) and href not in links:
                links.append(href)
    yield ctx.emit(path, response, {"title": title, "selector": sel, "text": text[:MAX_TEXT], "links": links,
                                    "format": "bis-html"}, content_hash=content_hash)
    for href in links[: int(ctx.options["max_follow"])]:
        yield ctx.fetch(href, parse_page, kind="html")


SOURCE = SourceSpec(
    name="bis",
    title="BIS news, press releases and rule pages",
    default_base_url="https://www.bis.gov",
    schedule="45 9 * * 1-5",
    start=start,
    default_options={"pages": ["/news-updates", "/advanced-compute-resources"], "follow": ["/press-release/"],
                     "max_follow": 50},
)
