"""The Rules page and the playground, used as a person would: log in, read every rule with
its examples, latest alerts and corpus scores; try the rules on the seed page (served on
127.0.0.1) and on pasted text; edit a rule and see what the edit changes before saving it;
a private URL refused while `allow_private_networks` is off; hostile text escaped."""

from __future__ import annotations

import html
import json
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from markupsafe import escape

from monitor.config import load_config
from monitor.demo.seedsite import REQUESTS, SEED_ARTICLE_SLUG, start_seed_site
from monitor.models import Article, Hit, Match
from monitor.resources import rules_dir
from monitor.store import Store
from monitor.web.app import make_app, serving
from monitor.web.console.rulesource import SourceError, edited_file, rule_source, write_rule
from tests.web.console.conftest import OPERATOR_PASSWORD, VIEWER_PASSWORD, Console

PLAYGROUND = "/console/rules/playground"
HOSTILE = "<script>alert('x')</script>\r\nSet-Cookie: a=b"


@pytest.fixture
def rules(tmp_path) -> Path:
    """The shipped rules, in a folder of the test's own (saving writes there)."""
    folder = tmp_path / "rules"
    shutil.copytree(rules_dir(), folder)
    return folder


@pytest.fixture
def corpus(tmp_path) -> Path:
    folder = tmp_path / "corpus"
    (folder / "docs").mkdir(parents=True)
    (folder / "docs" / "1.txt").write_text("A fragile truce between the army and rebels held.")
    (folder / "docs" / "2.txt").write_text("Washington and Beijing extended their trade truce.")
    (folder / "docs" / "3.txt").write_text("The warring parties agreed a 72-hour cease-fire.")
    labels = [
        {"file": "docs/1.txt", "expect": {"ceasefire": {"match": True}}},
        {"file": "docs/2.txt", "expect": {"ceasefire": {"match": False}}},
        {"file": "docs/3.txt", "expect": {"ceasefire": {"match": True}}},
    ]
    (folder / "labels.jsonl").write_text("".join(json.dumps(x) + "\n" for x in labels))
    return folder


@asynccontextmanager
async def console_on(
    tmp_path: Path,
    rules: Path,
    *,
    allow_private: bool = False,
    corpus: Path | None = None,
    password: str = OPERATOR_PASSWORD,
) -> AsyncIterator[Console]:
    console_section = "{viewer_password_env: VIEWER_PASSWORD"
    console_section += f", corpus: {corpus}}}" if corpus else "}"
    path = tmp_path / "monitor.yaml"
    path.write_text(
        f"""\
database: sqlite:///{tmp_path}/monitor.db
rules: {rules}
allow_private_networks: {"true" if allow_private else "false"}
feeds: [{{url: "https://news.example/rss", tags: [world]}}]
console: {console_section}
subscriptions:
  - name: desk
    webhook: {{url: "https://example.org/hook"}}
    rules: [ceasefire]
"""
    )
    env = {"MONITOR_CONSOLE_PASSWORD": OPERATOR_PASSWORD, "VIEWER_PASSWORD": VIEWER_PASSWORD}
    config = load_config(path, env)
    store = Store(config.database_url)
    try:
        async with serving(make_app(config, store), "127.0.0.1", 0) as base:
            jar = aiohttp.CookieJar(unsafe=True)
            async with aiohttp.ClientSession(cookie_jar=jar) as http:
                console = Console(base, store, http)
                assert (await console.login(password)).status == 303
                yield console
    finally:
        store.close()


async def post(console: Console, path: str = PLAYGROUND, **fields) -> tuple[int, str]:
    data = {"csrf": await console.csrf(), **fields}
    async with console.http.post(console.base + path, data=data) as response:
        return response.status, await response.text()


def rows(page: str, kind: str) -> list[str]:
    """The rules of the playground's result rows of `kind` (fired | not-fired)."""
    return re.findall(rf'<tr class="{kind}" data-rule="([^"]+)"', page)


def store_article(store: Store, n: int, title: str, text: str) -> int:
    url = f"https://news.example/{n}"
    article = Article(url=url, title=title, text=text, feed_url="https://news.example/rss")
    return store.add_article(url, article)[0]


async def test_the_rules_page_shows_examples_latest_alerts_and_corpus_scores(
    tmp_path, rules, corpus
):
    async with console_on(tmp_path, rules, corpus=corpus) as console:
        article_id = store_article(console.store, 1, HOSTILE, "A truce held.")
        snippet = "A fragile <b>truce</b> held overnight."
        start = snippet.index("truce")
        hit = Hit("truce*", "truce", 0, start, start + 5)
        match = Match(
            "ceasefire", "Ceasefire mentioned", "medium", snippets=(snippet,), hits=(hit,)
        )
        console.store.add_alert(article_id, match, ("world",))
        for _ in range(20):  # the corpus is scored in the background: a moment at most
            status, page = await console.page("/console/rules")
            if "being scored" not in page:
                break
        assert status == 200 and "<h1>Rules</h1>" in page
        for rule in ("envoy-travel", "displacement-figures", "ceasefire"):
            assert f'id="rule-{rule}"' in page
        counts = re.findall(r"Examples: (\d+)/(\d+) pass", page)
        assert len(counts) == 3 and all(passed == total for passed, total in counts)
        assert "failed-example" not in page
        # the latest alert, its title and snippet escaped, the hit marked
        assert "<script>" not in page and str(escape("<script>alert('x')</script>")) in page
        assert "A fragile &lt;b&gt;<mark>truce</mark>&lt;/b&gt; held overnight." in page
        assert page.count("No alert yet.") == 2
        # the corpus scores: ceasefire right on all three documents
        assert str(corpus) in page
        row = re.search(r'<a href="#rule-ceasefire">ceasefire</a></td>(.*?)</tr>', page, re.S)
        assert row and "<strong>1.00</strong>" in row.group(1)


async def test_a_corpus_that_cannot_be_read_is_said_so(tmp_path, rules):
    async with console_on(tmp_path, rules, corpus=tmp_path / "nowhere") as console:
        _, page = await console.page("/console/rules")
    assert f"{tmp_path / 'nowhere'}:1:1: cannot read labels" in page


async def test_a_failing_example_is_shown_with_what_went_wrong(tmp_path, rules):
    path = rules / "humanitarian.yaml"
    path.write_text(
        path.read_text().replace(
            "The warring parties agreed a 72-hour cease-fire in Hodeidah.",
            "The warring parties agreed a 72-hour pause in Hodeidah.",
        )
    )
    async with console_on(tmp_path, rules) as console:
        _, page = await console.page("/console/rules")
    assert "Examples: 9/10 pass" in page
    failed = re.search(r'<tr class="failed-example">(.*?)</tr>', page, re.S).group(1)
    assert "<td>2</td>" in failed and "72-hour pause" in failed
    assert "expected match: true, got match: false" in failed


async def test_rule_files_that_do_not_load_show_their_problems(tmp_path, rules):
    (rules / "broken.yaml").write_text(
        "rules:\n  - id: broken\n    match: {any: [x]}\n    colour: red\n"
    )
    async with console_on(tmp_path, rules) as console:
        _, page = await console.page("/console/rules")
    assert "The rule files do not load" in page
    assert f"{rules / 'broken.yaml'}:4:5: " in page


async def test_the_playground_runs_the_seed_page_and_marks_the_three_rules_hits(tmp_path, rules):
    runner, seed = await start_seed_site()
    try:
        async with console_on(tmp_path, rules, allow_private=True) as console:
            status, page = await console.page(PLAYGROUND)
            assert status == 200 and page.count('type="checkbox" name="rule"') == 3
            assert page.count("checked") == 3  # every rule, unless told
            status, page = await post(console, url=f"{seed}/news/{SEED_ARTICLE_SLUG}")
    finally:
        await runner.cleanup()
    assert status == 200
    assert "UN Syria peace envoy travels to Moscow" in page
    assert rows(page, "fired") == ["envoy-travel", "displacement-figures", "ceasefire"]
    assert "UN Syria peace <mark>envoy</mark> <mark>travels</mark> to Moscow" in page
    assert "have been <mark>displaced</mark> in Syria" in page
    assert "Several local <mark>ceasefires</mark> were in place" in page
    assert "destination: Moscow, Washington" in page and "at least 40,000" in page


async def test_a_pasted_page_is_extracted_as_the_worker_would(tmp_path, rules, seed_html):
    async with console_on(tmp_path, rules) as console:
        status, page = await post(console, text=seed_html.decode("utf-8"))
    assert status == 200 and "UN Syria peace envoy travels to Moscow" in page
    assert rows(page, "fired") == ["envoy-travel", "displacement-figures", "ceasefire"]


async def test_a_rule_that_does_not_fire_says_why_and_only_chosen_rules_run(tmp_path, rules):
    async with console_on(tmp_path, rules, password=VIEWER_PASSWORD) as console:
        status, page = await post(
            console,
            title="Talks",
            text="The envoy met reporters. Talks on a truce in the trade war resumed.",
            rule=["ceasefire", "envoy-travel"],
            action="run",
        )
    assert status == 200
    assert rows(page, "fired") == [] and rows(page, "not-fired") == ["envoy-travel", "ceasefire"]
    reasons = re.search(r'data-rule="ceasefire">(.*?)</tr>', page, re.S).group(1)
    assert "vetoed by none" in reasons and "truce" in reasons


async def test_pasted_text_and_titles_are_escaped(tmp_path, rules):
    text = "A ceasefire <script>alert('x')</script> was agreed.\r\n<img src=x onerror=alert(1)>"
    async with console_on(tmp_path, rules) as console:
        _, page = await post(console, title=HOSTILE, text="Wow. " + text, action="run")
    assert rows(page, "fired") == ["ceasefire"]
    assert "<script>" not in page and "<img src=x" not in page
    assert (
        "A <mark>ceasefire</mark> &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; was agreed."
        in page
    )
    assert str(escape("<script>alert('x')</script>")) in page  # the title, in its heading


async def test_a_long_pasted_report_is_taken(tmp_path, rules):
    text = "Fighting went on in the north. " * 2000 + "A ceasefire was agreed on Sunday."
    assert len(text) > 50_000  # well past the app's limit for short forms
    async with console_on(tmp_path, rules) as console:
        status, page = await post(console, text=text, rule="ceasefire")
    assert status == 200 and rows(page, "fired") == ["ceasefire"]


async def test_a_private_url_is_refused_when_private_networks_are_not_allowed(tmp_path, rules):
    runner, seed = await start_seed_site()
    try:
        async with console_on(tmp_path, rules, allow_private=False) as console:
            status, page = await post(console, url=f"{seed}/news/{SEED_ARTICLE_SLUG}")
        assert runner.app[REQUESTS] == []  # never asked
    finally:
        await runner.cleanup()
    assert status == 200
    error = re.search(r'id="fetch-error">(.*?)</p>', page).group(1)
    assert error == str(escape(f"fetch: refused {seed}/news/{SEED_ARTICLE_SLUG} (private address)"))
    assert rows(page, "fired") == []


CEASEFIRE_TERMS = "any: [ceasefire*, cease-fire*, cessation of hostilities, armistice, truce*]"
EDITED_TERMS = (
    "any: [ceasefire*, cease-fire*, cessation of hostilities, armistice, pause in fighting]"
)


async def load_rule(console: Console, rule: str) -> dict[str, str]:
    status, page = await console.page(f"{PLAYGROUND}?rule={rule}")
    assert status == 200
    yaml = html.unescape(re.search(r'name="yaml"[^>]*>(.*?)</textarea>', page, re.S).group(1))
    digest = re.search(r'name="digest" value="([0-9a-f]+)"', page).group(1)
    return {"edit": rule, "yaml": yaml, "digest": digest}


async def test_an_edit_shows_what_it_changes_on_examples_stored_articles_and_the_corpus(
    tmp_path, rules, corpus
):
    async with console_on(tmp_path, rules, corpus=corpus) as console:
        store_article(
            console.store, 1, "North", "A fragile truce between the army and rebels held."
        )
        store_article(console.store, 2, "Port", "The warring parties agreed a 72-hour cease-fire.")
        store_article(console.store, 3, "Front", "There was a pause in fighting on Sunday.")
        store_article(console.store, 4, "Markets", "Shares rose in Tokyo.")
        form = await load_rule(console, "ceasefire")
        assert form["yaml"].startswith("id: ceasefire\ntitle: Ceasefire mentioned\n")
        assert CEASEFIRE_TERMS in form["yaml"]
        form["yaml"] = form["yaml"].replace(CEASEFIRE_TERMS, EDITED_TERMS).replace("\n", "\r\n")
        text = "Under the truce, a pause in fighting let aid in."
        status, page = await post(console, **form, text=text, rule="ceasefire", action="diff")
    assert status == 200
    summary = html.unescape(
        re.search(r'id="difference-summary"><strong>(.*?)</strong>', page).group(1)
    )
    assert summary == (
        "+1 matches, -1, example 4 now fails, example 9 now fails, corpus F1 1.00 -> 0.67"
    )
    assert "Examples: 8/10 pass" in page
    gained = re.search(r"<h4>Now matched \(1\)</h4>(.*?)</table>", page, re.S).group(1)
    assert (
        ">Front</a>" in gained and "There was a <mark>pause in fighting</mark> on Sunday." in gained
    )
    lost = re.search(r"<h4>No longer matched \(1\)</h4>(.*?)</table>", page, re.S).group(1)
    assert ">North</a>" in lost and "A fragile <mark>truce</mark>" in lost
    assert "Stored articles: 4 of the latest 4 tried" in page
    assert "docs/1.txt: miss: no match, labelled a match" in page
    # the text tried with the rule as it is and as edited
    assert rows(page, "fired") == ["ceasefire", "ceasefire (as edited)"]
    assert "a <mark>pause in fighting</mark> let aid in" in page
    # nothing written: the file is as it was
    assert CEASEFIRE_TERMS in (rules / "humanitarian.yaml").read_text()


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda y: y.replace("severity: medium", "severity: medium\ncolour: red"), "6:1: "),
        (lambda y: y.replace("truce*]", "truce*, /(unclosed/]"), "8:"),
        (lambda y: y.replace("any: [", "any: [$no_such_list, "), "unknown list '$no_such_list'"),
        (
            lambda y: y.replace("id: ceasefire", "id: envoy-travel"),
            "duplicate rule id 'envoy-travel'",
        ),
        (lambda y: y + "  broken: [\n", "invalid YAML"),
        (lambda _y: "- just a list\n", "1:1: a rule is one mapping"),
    ],
    ids=["unknown key", "bad regex", "unknown list", "duplicate id", "bad yaml", "not a mapping"],
)
async def test_an_invalid_edit_shows_its_problems_at_line_and_column(
    tmp_path, rules, change, problem
):
    async with console_on(tmp_path, rules) as console:
        form = await load_rule(console, "ceasefire")
        form["yaml"] = change(form["yaml"])
        status, page = await post(console, **form, action="diff")
    assert status == 200 and "The edit does not compile" in page
    problems = re.findall(r"<li><code>(.*?)</code></li>", page)
    assert problems and any(problem in html.unescape(p) for p in problems), problems
    assert all(re.match(r"\d+:\d+: ", html.unescape(p)) for p in problems), problems
    assert 'id="difference-summary"' not in page


async def test_an_edit_that_compiles_shows_its_lint_warnings(tmp_path, rules):
    async with console_on(tmp_path, rules) as console:
        form = await load_rule(console, "ceasefire")
        form["yaml"] = form["yaml"].split("examples:")[0]
        _, page = await post(console, **form, action="diff")
    assert "1:5: warning: rule &#39;ceasefire&#39; has no examples" in page
    assert "Examples: 0/0 pass" in page and "10 examples removed" in page


async def test_the_operator_saves_an_edit_and_the_rules_page_shows_it(tmp_path, rules):
    path = rules / "humanitarian.yaml"
    before = path.read_text()
    async with console_on(tmp_path, rules) as console:
        form = await load_rule(console, "ceasefire")
        form["yaml"] = form["yaml"].replace(
            "title: Ceasefire mentioned", "title: Truce or ceasefire"
        )
        status, page = await post(console, **form, action="save")
        assert status == 200 and 'id="saved"' in page
        assert f"Saved to {path} (rule 2)" in page
        assert path.read_text() == before.replace(
            "    title: Ceasefire mentioned", "    title: Truce or ceasefire"
        )
        _, page = await console.page("/console/rules")
        assert "Truce or ceasefire" in page
        # the form of the first edit is stale now: saving it again is refused
        status, page = await post(console, **form, action="save")
        assert "changed since this edit began" in page
    assert sorted(p.name for p in rules.iterdir()) == ["diplomacy.yaml", "humanitarian.yaml"]


async def test_saving_refuses_an_invalid_edit_or_a_subscribed_rule_renamed_away(tmp_path, rules):
    before = (rules / "humanitarian.yaml").read_text()
    async with console_on(tmp_path, rules) as console:
        form = await load_rule(console, "ceasefire")
        renamed = {**form, "yaml": form["yaml"].replace("id: ceasefire", "id: truce")}
        _, page = await post(console, **renamed, action="save")
        assert "subscription &#39;desk&#39;: unknown rule &#39;ceasefire&#39;" in page
        broken = {**form, "yaml": form["yaml"].replace("severity: medium", "severity: loud")}
        _, page = await post(console, **broken, action="save")
        assert "The edit does not compile" in page and 'id="saved"' not in page
    assert (rules / "humanitarian.yaml").read_text() == before


async def test_the_viewer_may_try_an_edit_but_not_save_it(tmp_path, rules):
    async with console_on(tmp_path, rules, password=VIEWER_PASSWORD) as console:
        form = await load_rule(console, "ceasefire")
        _, page = await console.page(f"{PLAYGROUND}?rule=ceasefire")
        assert 'value="diff"' in page and 'value="save"' not in page
        status, page = await post(console, **form, action="diff")
        assert status == 200 and 'id="difference-summary"' in page
        status, _ = await post(console, **form, action="save")
        assert status == 403


async def test_an_unknown_rule_cannot_be_loaded(tmp_path, rules):
    async with console_on(tmp_path, rules) as console:
        status, page = await console.page(f"{PLAYGROUND}?rule=%3Cscript%3E")
    assert status == 200 and "There is no rule &#39;&lt;script&gt;&#39;" in page


def test_each_shipped_rule_comes_out_of_its_file_and_goes_back_unchanged():
    import yaml

    for path in sorted(rules_dir().glob("*.yaml")):
        text = path.read_text()
        data = yaml.safe_load(text)
        for index, rule in enumerate(data["rules"]):
            source = rule_source(path, index)
            assert yaml.safe_load(source.text) == rule
            assert not source.text.startswith((" ", "-"))
            assert edited_file(source, source.text, text) == text


def test_a_rule_is_written_back_in_its_place_atomically(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text(
        "lists:\n  a: [x]\nrules:\n  # first\n  - id: one\n    match: {any: [one]}\n"
        "    # its own comment\n  # second\n  - id: two\n    match:\n      any: [two]\n"
    )
    path.chmod(0o640)
    one = rule_source(path, 0)
    assert one.text == "id: one\nmatch: {any: [one]}\n# its own comment\n"
    two = rule_source(path, 1)
    assert two.text == "id: two\nmatch:\n  any: [two]\n"
    write_rule(two, "id: two\r\nmatch:\r\n  any: [two, deux]\r\n")
    assert path.read_text().endswith(
        "  # second\n  - id: two\n    match:\n      any: [two, deux]\n"
    )
    assert path.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.yaml"]  # no temporary left
    with pytest.raises(SourceError, match="changed since this edit began"):
        write_rule(one, "id: one\nmatch: {any: [uno]}\n")
    with pytest.raises(SourceError, match="does not fit"):
        write_rule(rule_source(path, 0), "id: one\nmatch: {any: [uno]}\nlists: [\n")
