"""poll_feed/parse_feed against a real aiohttp server on 127.0.0.1, plus the pure helpers."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from monitor.intake.feeds import (
    canonical_url,
    entry_identity,
    looks_like_feed,
    parse_feed,
    plain_text,
    poll_feed,
)
from monitor.intake.netguard import make_session
from monitor.models import Entry
from tests.localhttp import Handler, LocalServer, respond
from tests.localhttp import server as server
from tests.localhttp import session as session

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Desk</title><link>http://example.org/</link>
<item>
  <title>Envoy travels to Moscow</title>
  <link>/news/envoy-moscow?utm_source=rss</link>
  <guid isPermaLink="false">story-1</guid>
  <description>&lt;p&gt;The UN envoy &lt;b&gt;will travel&lt;/b&gt;
    to Moscow.&lt;/p&gt;</description>
  <content:encoded><![CDATA[<p>Full <b>text</b> here.</p><script>steal()</script>]]>
  </content:encoded>
  <pubDate>Tue, 10 Jun 2025 04:00:00 +0200</pubDate>
</item>
<item>
  <title>Ceasefire holds</title>
  <link>https://example.org/news/ceasefire</link>
  <description>Plain summary only.</description>
</item>
</channel></rss>
"""


# --- helpers ---------------------------------------------------------------------------------


def serve(body: bytes | str, content_type: str = "application/rss+xml", **headers: str) -> Handler:
    raw = body.encode() if isinstance(body, str) else body
    return respond(body=raw, headers={"Content-Type": content_type, **headers})


async def poll(session: aiohttp.ClientSession, url: str, **kwargs: Any) -> Any:
    kwargs.setdefault("etag", None)
    kwargs.setdefault("last_modified", None)
    return await poll_feed(session, url, allow_private=True, **kwargs)


# --- polling ---------------------------------------------------------------------------------


async def test_poll_maps_entries(server: LocalServer, session: aiohttp.ClientSession) -> None:
    server.routes["/rss"] = serve(
        RSS, ETag='"abc"', **{"Last-Modified": "Tue, 10 Jun 2025 04:00:00 GMT"}
    )
    result = await poll(session, server.url("/rss"))
    assert result.ok and result.warning is None and result.status == 200
    assert (result.etag, result.last_modified) == ('"abc"', "Tue, 10 Jun 2025 04:00:00 GMT")
    assert result.final_url is None and not result.not_modified
    first, second = result.entries
    assert first == Entry(
        feed_url=server.url("/rss"),
        guid="story-1",
        url=server.url("/news/envoy-moscow?utm_source=rss"),  # relative link resolved
        title="Envoy travels to Moscow",
        summary="The UN envoy will travel to Moscow.",
        content="<p>Full <b>text</b> here.</p>",  # feedparser's sanitizer dropped the script
        published=datetime(2025, 6, 10, 2, 0, tzinfo=UTC),
    )
    assert second.content is None and second.published is None and second.guid is None
    assert second.summary == "Plain summary only."
    _path, sent = server.seen[0]
    assert "application/rss+xml" in sent["Accept"]
    assert "If-None-Match" not in sent and "If-Modified-Since" not in sent


async def test_conditional_get_not_modified(
    server: LocalServer, session: aiohttp.ClientSession
) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        if request.headers.get("If-None-Match") == '"abc"':
            return web.Response(status=304)
        return web.Response(text=RSS, headers={"ETag": '"abc"'})

    server.routes["/rss"] = handler
    lm = "Tue, 10 Jun 2025 04:00:00 GMT"
    result = await poll(session, server.url("/rss"), etag='"abc"', last_modified=lm)
    assert result.not_modified and result.ok and result.status == 304
    assert result.entries == ()
    assert (result.etag, result.last_modified) == ('"abc"', lm)  # kept
    _path, sent = server.seen[0]
    assert (sent["If-None-Match"], sent["If-Modified-Since"]) == ('"abc"', lm)


async def test_304_with_new_validators(server: LocalServer, session: aiohttp.ClientSession) -> None:
    async def handler(_request: web.Request) -> web.StreamResponse:
        return web.Response(status=304, headers={"ETag": '"v2"'})

    server.routes["/rss"] = handler
    result = await poll(session, server.url("/rss"), etag='"v1"', last_modified="old")
    assert (result.etag, result.last_modified) == ('"v2"', "old")


@pytest.mark.parametrize(
    ("status", "moved"),
    [(301, True), (308, True), (302, False), (307, False)],
    ids=["301", "308", "302", "307"],
)
async def test_redirects(
    server: LocalServer, session: aiohttp.ClientSession, status: int, moved: bool
) -> None:
    async def old(_request: web.Request) -> web.StreamResponse:
        return web.Response(status=status, headers={"Location": "/new-rss"})

    server.routes["/rss"] = old
    server.routes["/new-rss"] = serve(RSS)
    result = await poll(session, server.url("/rss"))
    assert result.ok and len(result.entries) == 2
    assert result.final_url == (server.url("/new-rss") if moved else None)
    # entries keep the feed they were configured under; links resolve against the new URL
    assert result.entries[0].feed_url == server.url("/rss")


async def test_fetch_errors_keep_validators(
    server: LocalServer, session: aiohttp.ClientSession
) -> None:
    async def busy(_request: web.Request) -> web.StreamResponse:
        return web.Response(status=429, headers={"Retry-After": "300"})

    server.routes["/rss"] = busy
    result = await poll(session, server.url("/rss"), etag='"e"', last_modified="lm")
    assert result.error == "fetch: too many requests (429 status code)"
    assert result.retry_after == 300.0 and result.status == 429
    assert (result.etag, result.last_modified) == ('"e"', "lm")
    missing = await poll(session, server.url("/nothing-here"))
    assert missing.error == "fetch: not found (404 status code)"


async def test_oversized_feed(server: LocalServer, session: aiohttp.ClientSession) -> None:
    server.routes["/rss"] = serve(RSS)
    result = await poll(session, server.url("/rss"), max_bytes=100)
    assert result.error == "fetch: body larger than 100 bytes"


async def test_gzip_feed(server: LocalServer, session: aiohttp.ClientSession) -> None:
    server.routes["/rss"] = serve(gzip.compress(RSS.encode()), **{"Content-Encoding": "gzip"})
    result = await poll(session, server.url("/rss"))
    assert result.ok and [e.title for e in result.entries] == [
        "Envoy travels to Moscow",
        "Ceasefire holds",
    ]


async def test_private_feed_refused(server: LocalServer) -> None:
    async with make_session(allow_private=False) as session:
        result = await poll_feed(
            session, server.url("/rss"), etag=None, last_modified=None, allow_private=False
        )
    assert result.error == f"fetch: refused {server.url('/rss')} (private address)"
    assert server.seen == []


# --- hostile and odd feeds -------------------------------------------------------------------

MALFORMED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Broken</title>
<item><title>One</title><link>https://example.org/1</link></item>
<item><title>Two</title><link>https://example.org/2</link></item>
<item><title>Three <b>bold</i></title><link>https://example.org/3</link></item>
</channel></rss>
"""


async def test_malformed_xml_keeps_entries(
    server: LocalServer, session: aiohttp.ClientSession
) -> None:
    server.routes["/rss"] = serve(MALFORMED)
    result = await poll(session, server.url("/rss"))
    assert result.ok
    assert result.warning == "feed: malformed XML (mismatched tag at line 5), 3 entries kept"
    assert [e.title for e in result.entries] == ["One", "Two", "Three bold"]


async def test_html_page_advertising_a_feed(
    server: LocalServer, session: aiohttp.ClientSession
) -> None:
    page = """<!doctype html><html><head><title>News</title>
    <link rel="stylesheet" href="/s.css">
    <link rel="alternate" type="application/rss+xml" title="RSS" href="/feeds/all.rss">
    </head><body><p>Latest news</p></body></html>"""
    server.routes["/news"] = serve(page, "text/html; charset=utf-8", ETag='"page"')
    result = await poll(session, server.url("/news"), etag='"feed"', last_modified=None)
    assert result.error == (
        f"feed: not a feed (HTML page; it advertises the feed {server.url('/feeds/all.rss')})"
    )
    assert result.entries == ()
    assert result.etag == '"feed"'  # the page's validators are not adopted


def test_html_page_without_feed_link() -> None:
    result = parse_feed(b"<html><body>Hello</body></html>", feed_url="https://example.org/")
    assert result.error == "feed: not a feed (HTML page)"


def test_html_page_with_base_and_atom_link() -> None:
    page = (
        b'<html><head><base href="https://cdn.example.org/site/">'
        b'<link rel="alternate" type="application/atom+xml" href="atom.xml"></head></html>'
    )
    result = parse_feed(page, feed_url="https://example.org/", content_type="text/html")
    assert result.error == (
        "feed: not a feed (HTML page; it advertises the feed https://cdn.example.org/site/atom.xml)"
    )


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>t</title>
<item><title>&lol9;</title><link>https://example.org/lol</link></item>
</channel></rss>
"""


async def test_billion_laughs_is_not_expanded(
    server: LocalServer, session: aiohttp.ClientSession
) -> None:
    server.routes["/rss"] = serve(BILLION_LAUGHS)
    result = await poll(session, server.url("/rss"))
    assert result.warning is not None
    assert result.warning.startswith("feed: malformed XML (undefined entity")
    [entry] = result.entries
    assert len(entry.title) < 100  # the entity stayed a reference, nothing was expanded


def test_external_entity_is_not_read() -> None:
    xxe = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>t</title>
<item><title>&xxe;</title><link>https://example.org/x</link></item></channel></rss>"""
    result = parse_feed(xxe, feed_url="https://example.org/rss")
    assert all("root:" not in e.title for e in result.entries)


def test_body_naming_a_local_file_is_not_opened(tmp_path: Path) -> None:
    # given bare bytes, feedparser opens the local file they name: parse_feed must not let it
    local = tmp_path / "secret.xml"
    local.write_text(RSS, encoding="utf-8")
    result = parse_feed(str(local).encode(), feed_url="https://example.org/rss")
    assert result.entries == ()
    assert result.error is not None and result.error.startswith("feed: not a feed (malformed XML")


@pytest.mark.parametrize(
    ("encoding", "content_type"),
    [
        ("windows-1252", "application/rss+xml"),
        ("iso-8859-1", "text/xml"),
        ("windows-1252", "application/xml"),
    ],
    ids=["cp1252-rss", "latin1-text-xml", "cp1252-xml"],
)
async def test_declared_charset(
    server: LocalServer, session: aiohttp.ClientSession, encoding: str, content_type: str
) -> None:
    title = "Café naïve à Genève – “déclaration”" if encoding == "windows-1252" else "Café à Genève"
    feed = (
        f'<?xml version="1.0" encoding="{encoding}"?>\n<rss version="2.0"><channel><title>t'
        f"</title><item><title>{title}</title><link>https://example.org/1</link></item>"
        "</channel></rss>"
    ).encode(encoding)
    server.routes["/rss"] = serve(feed, content_type)
    result = await poll(session, server.url("/rss"))
    assert result.ok and result.warning is None
    assert [e.title for e in result.entries] == [title]


def test_titles_become_single_line_plain_text() -> None:
    feed = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><title>Breaking &lt;script&gt;alert(1)&lt;/script&gt; news\r\nfrom   the&#13;&#10;desk</title>
<link>https://example.org/1</link>
<description><![CDATA[<p>Line one</p>\r\n<p>Line&nbsp;two <img src=x onerror=alert(1)></p>]]>
</description></item>
<item><title><![CDATA[<b>AT&amp;T</b> &amp; friends<script>x()</script>]]></title>
<link>https://example.org/2</link></item>
</channel></rss>"""
    result = parse_feed(feed, feed_url="https://example.org/rss")
    assert [e.title for e in result.entries] == ["Breaking news from the desk", "AT&T & friends"]
    assert result.entries[0].summary == "Line one Line two"  # nbsp is whitespace too


def test_atom_feed() -> None:
    atom = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><id>urn:feed</id>
<updated>2025-01-02T00:00:00Z</updated>
<entry><title type="html">A &lt;em&gt;big&lt;/em&gt; step</title><id>tag:example.org,2025:1</id>
<link rel="alternate" href="/a/1"/><updated>2025-01-02T03:04:05+01:00</updated>
<summary>short</summary>
<content type="html">&lt;p&gt;long &lt;b&gt;text&lt;/b&gt;&lt;/p&gt;</content></entry>
<entry><title>No link</title><id>tag:example.org,2025:2</id>
<content type="text">a &lt; b</content></entry>
</feed>"""
    result = parse_feed(atom, feed_url="https://example.org/feed.atom")
    first, second = result.entries
    assert (first.title, first.url, first.summary) == (
        "A big step",
        "https://example.org/a/1",
        "short",
    )
    assert first.content == "<p>long <b>text</b></p>"
    assert first.published == datetime(2025, 1, 2, 2, 4, 5, tzinfo=UTC)
    assert second.url is None  # feedparser offers the tag: id as a link; not http(s)
    assert second.content == "a &lt; b"  # plain text content, escaped into HTML


def test_non_http_links_dropped() -> None:
    feed = b"""<rss version="2.0"><channel><title>t</title>
<item><title>x</title><link>javascript:alert(1)</link><guid>g</guid></item></channel></rss>"""
    [entry] = parse_feed(feed, feed_url="https://example.org/rss").entries
    assert entry.url is None and entry.guid is not None


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"", "feed: not a feed (empty body)"),
        (b"  \n", "feed: not a feed (empty body)"),
        (
            b'<?xml version="1.0"?><catalog><book/></catalog>',
            "feed: not a feed (no RSS, Atom or RDF root element)",
        ),
        (
            b'{"version": "https://jsonfeed.org/version/1.1"}',
            "feed: not a feed (malformed XML: not well-formed (invalid token) at line 1)",
        ),
    ],
    ids=["empty", "blank", "other-xml", "json"],
)
def test_not_a_feed(body: bytes, error: str) -> None:
    assert parse_feed(body, feed_url="https://example.org/rss").error == error


def test_valid_empty_feed() -> None:
    result = parse_feed(
        b'<rss version="2.0"><channel><title>t</title></channel></rss>',
        feed_url="https://example.org/rss",
    )
    assert result.ok and result.entries == () and result.warning is None


def test_truncated_feed_without_entries() -> None:
    result = parse_feed(b'<rss version="2.0"><channel><title>t', feed_url="https://e.org/rss")
    assert result.error is not None
    assert result.error.startswith("feed: malformed XML (") and result.error.endswith("no entries")


def test_large_feed_parses_quickly_enough_to_not_hang() -> None:
    # not a timing assertion: a bounded input that must simply finish and parse
    items = "".join(
        f"<item><title>t{n}</title><link>https://example.org/{n}</link></item>" for n in range(2000)
    )
    result = parse_feed(
        f'<rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode(),
        feed_url="https://example.org/rss",
    )
    assert len(result.entries) == 2000


# --- pure helpers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Plain", "Plain"),
        ("  spaced \r\n\t out\u2028here ", "spaced out here"),
        ("<p>a</p><p>b</p>", "a b"),
        ("x<script>evil()</script>y", "xy"),
        ("Tom &amp; Jerry &#8211; f&eacute;e", "Tom & Jerry – fée"),
        ("a < b > c", "a < b > c"),
        ("nul\x00and\x1bescape", "nul and escape"),
    ],
    ids=["plain", "whitespace", "blocks", "script", "entities", "lone-brackets", "controls"],
)
def test_plain_text(value: str, expected: str) -> None:
    assert plain_text(value) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://Example.ORG:443/a/b?utm_source=rss&id=3&fbclid=x#top",
            "https://example.org/a/b?id=3",
        ),
        ("http://example.org/story?b=2&a=1", "http://example.org/story?a=1&b=2"),
        ("  https://example.org/x  ", "https://example.org/x"),
        ("https://example.org/", "https://example.org/"),
    ],
    ids=["trackers-port-fragment", "sorted-query", "whitespace", "root"],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_entry_identity() -> None:
    feed = "https://example.org/rss"
    linked = Entry(feed_url=feed, guid="g", url="https://example.org/a?utm_medium=x#c", title="t")
    assert entry_identity(linked) == "https://example.org/a"
    uri_guid = Entry(feed_url=feed, guid="tag:example.org,2025:1", url=None, title="t")
    assert entry_identity(uri_guid) == "tag:example.org,2025:1"
    bare_guid = Entry(feed_url=feed, guid="1234", url=None, title="t")
    assert entry_identity(bare_guid) == "https://example.org/rss#1234"
    anonymous = Entry(feed_url=feed, guid=None, url=None, title="t", summary="s")
    assert entry_identity(anonymous) == entry_identity(
        Entry(feed_url=feed, guid=None, url=None, title="t", summary="s")
    )
    assert entry_identity(anonymous).startswith("urn:news-monitor:entry:")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'<?xml version="1.0"?>\n<rss version="2.0">', True),
        (
            b'\xef\xbb\xbf<?xml version="1.0"?><!-- hi --><feed xmlns="http://www.w3.org/2005/Atom">',
            True,
        ),
        (b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">', True),
        (b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "b">]>\n<rss>', True),
        ('<?xml version="1.0" encoding="utf-16"?><rss>'.encode("utf-16"), True),
        (b"<!doctype html><html><head></head>", False),
        (b"<html><body><rss>", False),
        (b"<rssx>", False),
        (b"just text", False),
        (b"", False),
    ],
    ids=[
        "rss",
        "atom-bom-comment",
        "rdf",
        "doctype",
        "utf16",
        "html",
        "html-with-rss",
        "rssx",
        "text",
        "empty",
    ],
)
def test_looks_like_feed(body: bytes, expected: bool) -> None:
    assert looks_like_feed(body) is expected


def test_a_guid_becomes_the_article_link_only_when_it_is_http():
    from monitor.intake.feeds import entry_article
    from monitor.models import Entry

    for guid, url in [
        ("javascript:alert(4)", ""),
        ("https://news.example/a", "https://news.example/a"),
    ]:
        entry = Entry(feed_url="https://news.example/feed", guid=guid, url=None, title="T")
        assert entry_article(entry).url == url
