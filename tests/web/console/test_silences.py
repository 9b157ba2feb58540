"""The console's silences page, used as a person would: log in, fill the form, look at what
it would have hidden, save, see it listed, end it now; a viewer only reads; everything an
article or an operator wrote is escaped."""

from __future__ import annotations

import re
from datetime import timedelta

from monitor.models import Article, Match
from monitor.timeutil import utcnow
from tests.web.console.conftest import VIEWER_PASSWORD

PATH = "/console/silences"
HOSTILE = 'Truce <script>alert("x")</script>\r\nBcc: boss@example.org'


def seed(store, rules, *, feed="https://example.org/rss", days=0, title=HOSTILE):
    when = utcnow() - timedelta(days=days)
    for i, rule in enumerate(rules):
        url = f"https://example.org/news/{days}-{i}"
        article = Article(
            url=url,
            title=title,
            text=f"Article {days} {i} about a truce, told at its own length. " * 4,
            feed_url=feed,
            site_name="Example <i>News</i>",
        )
        article_id, _, _ = store.add_article(url, article, now=when)
        store.add_alert(article_id, Match(rule, rule, "high"), ("mideast",), now=when)


def form(token, **fields):
    defaults = {"scope": "rule", "value": "ceasefire", "subscription": "", "for_text": "2h"}
    defaults.update(comment="truce talks", author="ana")
    return {"csrf": token, **defaults, **fields}


async def post(console, data, path=PATH):
    async with console.http.post(console.base + path, data=data, allow_redirects=False) as response:
        return response.status, response.headers.get("Location"), await response.text()


async def test_preview_then_save_then_end_now(console):
    seed(console.store, ["ceasefire"] * 3 + ["envoy-travel"])
    seed(console.store, ["ceasefire"], days=8)  # older than a week
    await console.login()
    status, page = await console.page(PATH)
    assert status == 200 and "<h1>Silences</h1>" in page and "No silence is in force." in page
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)

    status, _, preview = await post(console, form(token, preview="1"))
    assert status == 200
    assert '<strong id="hidden-count">3 alerts</strong>' in preview
    assert "Before you save: rule ceasefire for all subscriptions" in preview
    assert preview.count("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") == 3
    assert "<script>" not in preview and "<i>News</i>" not in preview
    assert console.store.silences("all") == []  # a preview saves nothing

    # the preview's button carries the form as it was, and saves it
    confirm = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', preview))
    assert confirm["value"] == "ceasefire" and confirm["comment"] == "truce talks"
    status, location, _ = await post(console, {**confirm, "confirm": "1"})
    assert status == 303 and location == f"{PATH}?saved=1"
    [saved] = console.store.silences("active")
    assert (saved.scope, saved.value, saved.subscription, saved.author) == (
        "rule",
        "ceasefire",
        None,
        "ana",
    )
    assert timedelta(hours=1, minutes=59) < saved.ends_at - utcnow() <= timedelta(hours=2)

    status, page = await console.page(f"{PATH}?saved=1")
    assert "Silence 1 saved." in page
    in_force = page.split("<h2>In force</h2>")[1].split("<h2>")[0]
    assert 'id="silence-1"' in in_force and "truce talks" in in_force and "ana" in in_force
    assert "all subscriptions" in in_force and 'aria-label="End silence 1 now"' in in_force

    status, location, _ = await post(console, {"csrf": token}, f"{PATH}/1/expire")
    assert status == 303 and location == f"{PATH}?ended=1"
    status, page = await console.page(location)
    assert "Silence 1 ended." in page and "No silence is in force." in page
    ended = page.split("<h2>Ended</h2>")[1]
    assert 'id="silence-1"' in ended and "End silence 1" not in ended
    assert console.store.active_silences("desk", utcnow()) == []

    # ending it again, or one that does not exist
    status, _, page = await post(console, {"csrf": token}, f"{PATH}/1/expire")
    assert status == 409 and "Silence 1 had ended already." in page
    status, _, page = await post(console, {"csrf": token}, f"{PATH}/7/expire")
    assert status == 404 and "There is no silence 7." in page


async def test_a_silence_for_one_subscription_counts_what_it_receives(console):
    seed(console.store, ["ceasefire", "envoy-travel"])  # the desk receives ceasefire only
    await console.login()
    token = await console.csrf(PATH)
    _, _, preview = await post(
        console,
        form(
            token, scope="feed", value="https://example.org/rss", subscription="desk", preview="1"
        ),
    )
    assert '<strong id="hidden-count">1 alert</strong>' in preview
    assert "Before you save: feed https://example.org/rss for desk" in preview


async def test_a_form_that_cannot_be_saved_says_why_and_keeps_what_was_typed(console):
    await console.login()
    token = await console.csrf(PATH)
    cases = [
        ({"comment": " "}, "a comment is required"),
        ({"author": ""}, "an author is required"),
        ({"value": "ceasfire"}, "no rule &#39;ceasfire&#39; (rules: "),
        (
            {"scope": "tag", "value": "mid-east"},
            "no rule and no feed has the tag &#39;mid-east&#39;",
        ),
        (
            {"scope": "feed", "value": "https://x.example/rss"},
            "no feed &#39;https://x.example/rss&#39;",
        ),
        ({"scope": "story", "value": "abc"}, "a story is its id"),
        ({"subscription": "nobody"}, "no subscription &#39;nobody&#39;"),
        ({"for_text": "2 hours"}, "invalid duration &#39;2 hours&#39;"),
        ({"for_text": "", "until_text": ""}, "say how long"),
        ({"until_text": "2001-01-01T00:00"}, "already past"),
        ({"scope": "everything"}, "scope must be one of"),
    ]
    for fields, message in cases:
        for step in ({"preview": "1"}, {"confirm": "1"}):
            status, _, page = await post(console, {**form(token, **fields), **step})
            assert status == 400, fields
            assert message in page, (fields, page.split('role="alert">')[1][:200])
    _, _, page = await post(console, form(token, comment="<b>why</b>", value="ceasfire"))
    assert "&lt;b&gt;why&lt;/b&gt;</textarea>" in page and 'value="ceasfire"' in page
    assert console.store.silences("all") == []


async def test_until_wins_over_the_duration_filled_in(console):
    await console.login()
    token = await console.csrf(PATH)
    until = utcnow() + timedelta(days=2)
    data = form(token, until_text=f"{until:%Y-%m-%dT%H:%M}", confirm="1")
    assert (await post(console, data))[0] == 303
    [saved] = console.store.silences("active")
    assert saved.ends_at == until.replace(second=0, microsecond=0)


async def test_what_a_person_wrote_is_escaped_in_the_lists(console):
    console.store.add_silence(
        "rule",
        "ceasefire",
        ends_at=utcnow() + timedelta(hours=1),
        comment='<img src=x onerror="alert(1)">\r\nsecond line',
        author="<b>mallory</b>",
    )
    await console.login(VIEWER_PASSWORD)
    status, page = await console.page(PATH)
    assert status == 200
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page and "<img" not in page
    assert "&lt;b&gt;mallory&lt;/b&gt;" in page


async def test_the_viewer_reads_but_cannot_silence(console):
    console.store.add_silence(
        "rule", "ceasefire", ends_at=utcnow() + timedelta(hours=1), comment="c", author="ana"
    )
    await console.login(VIEWER_PASSWORD)
    status, page = await console.page(PATH)
    assert status == 200 and 'id="silence-1"' in page
    assert "New silence" not in page and "End now" not in page
    token = await console.csrf(PATH)
    status, _, text = await post(console, form(token, confirm="1"))
    assert status == 403 and "operator" in text
    status, _, _ = await post(console, {"csrf": token}, f"{PATH}/1/expire")
    assert status == 403
    assert console.store.silence(1).ends_at > utcnow()


async def test_nothing_changes_without_the_form_s_token_or_a_login(console):
    status, location, _ = await post(console, form("x", confirm="1"))
    assert status == 303 and location.startswith("/console/login")
    await console.login()
    status, _, _ = await post(console, form("not-the-token", confirm="1"))
    assert status == 403
    status, _, _ = await post(console, {"csrf": "nope"}, f"{PATH}/1/expire")
    assert status == 403
    assert console.store.silences("all") == []


async def test_other_pages_can_link_to_a_prefilled_form(console):
    await console.login()
    _, page = await console.page(f"{PATH}?scope=tag&value=mid%22east&subscription=desk")
    assert '<option value="tag" selected>' in page
    assert 'value="mid&#34;east"' in page
    assert '<option value="desk" selected>' in page


async def test_a_rule_added_to_the_rule_files_can_be_silenced_at_once(tmp_path, write_config):
    import shutil
    from dataclasses import replace

    import aiohttp

    from monitor.resources import rules_dir
    from monitor.store import Store
    from monitor.web.app import make_app, serving
    from tests.web.console.conftest import Console, console_config

    rules = tmp_path / "rules"
    shutil.copytree(rules_dir(), rules)
    config = console_config(tmp_path, write_config)
    config = replace(config, rule_paths=(rules,))
    store = Store(config.database_url)
    async with serving(make_app(config, store), "127.0.0.1", 0) as base:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            console = Console(base, store, http)
            await console.login()
            token = await console.csrf(PATH)
            status, _, page = await post(console, form(token, value="quake", preview="1"))
            assert status == 400 and "no rule &#39;quake&#39;" in page
            (rules / "quake.yaml").write_text(
                "rules:\n  - id: quake\n    title: Earthquake\n    severity: high\n"
                "    match: {any: [earthquake]}\n"
            )
            status, _, page = await post(console, form(token, value="quake", preview="1"))
            assert status == 200, page.split('role="alert">')[-1][:300]
    store.close()
