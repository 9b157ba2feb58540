"""The Rules page and the playground.

- `/console/rules`: every rule loaded from the config's rule paths, with its examples'
  pass/fail, its latest alerts and, when `console.corpus` names a labelled corpus, its
  `monitor rules eval` scores (computed once per version of the rules and the corpus; the
  page waits a moment for them, then says they are on their way).
- `/console/rules/playground`: paste a text (or a page's HTML) or give a URL (fetched through
  the SSRF guard, `allow_private_networks` as configured), pick rules (all by default), see
  what fires with its hits marked and, for each rule that does not, why not. Load a rule
  into the editor to change it: "Show the difference" compiles the edit (its problems as
  `line:col: message`) and runs it, as it is and as edited, over its examples, the latest
  1,000 stored articles and the corpus. "Save" (the operator's login only) writes the rule
  back into its file, atomically and only if the file has not changed since the edit began;
  the worker's rule watcher then reloads it, as it would after any edit of the file.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from monitor.config import Config
from monitor.digest.render import highlight
from monitor.errors import ConfigError
from monitor.intake.fetch import fetch
from monitor.intake.netguard import make_session
from monitor.models import Article
from monitor.replay import documents_of
from monitor.rules.compile import CompiledRule
from monitor.rules.explain import Explanation, explain_article
from monitor.rules.match import RuleSet
from monitor.web.app import CONFIG, STORE
from monitor.web.console.auth import SESSION, viewer
from monitor.web.console.layout import render
from monitor.web.console.rulebook import Books, CorpusScores, RuleBook, latest_alerts
from monitor.web.console.ruleedit import STORED_ARTICLES, Difference, Edit, compile_edit, difference
from monitor.web.console.rulesource import SourceError, normalised, rule_source, write_rule
from monitor.worker.runtime import check_subscribed_rules

BOOKS = web.AppKey("console_rule_books", Books)
SCORING = web.AppKey("console_rule_scoring", dict)  # "task": the corpus scoring under way

# a pasted report is tens of kilobytes: the playground takes more than the app's other forms
MAX_PLAYGROUND_BYTES = 2 * 1024 * 1024
# the Rules page waits this long for corpus scores before saying they are on their way
SCORES_WAIT = 2.0
# a feed given to the playground is tried on this many of its items
MAX_DOCUMENTS = 20

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def routes(app: web.Application) -> None:
    config = app[CONFIG]
    corpus = config.console.corpus if config.console is not None else None
    app[BOOKS] = Books(config.rule_paths, corpus)
    app[SCORING] = {}
    app.on_cleanup.append(_finish_scoring)
    app.router.add_get("/console/rules", rules_page)
    app.router.add_get("/console/rules/playground", playground)
    app.router.add_post("/console/rules/playground", _roomy(play))


def _roomy(handler: Handler) -> Handler:
    """`handler` reading a body up to MAX_PLAYGROUND_BYTES (the app's limit is for short forms)."""

    async def roomy(request: web.Request) -> web.StreamResponse:
        return await handler(request.clone(client_max_size=MAX_PLAYGROUND_BYTES))

    return roomy


async def _finish_scoring(app: web.Application) -> None:
    task = app[SCORING].get("task")
    if task is not None:
        await asyncio.wait({task})


@viewer
async def rules_page(request: web.Request) -> web.Response:
    books = request.app[BOOKS]
    book = await asyncio.to_thread(books.book)
    ids = [entry.id for entry in book.entries]
    latest = await asyncio.to_thread(latest_alerts, request.app[STORE], ids)
    scores, scoring = await _scores(request.app, book)
    return render(
        request,
        "console/rules.html.j2",
        title="Rules",
        book=book,
        latest=latest,
        corpus=books.corpus,
        scores=scores,
        scoring=scoring,
        highlight=highlight,
    )


async def _scores(app: web.Application, book: RuleBook) -> tuple[CorpusScores | None, bool]:
    """The book's corpus scores, and whether they are still being computed."""
    books = app[BOOKS]
    if books.corpus is None or book.rules is None:
        return None, False
    cached = await asyncio.to_thread(books.cached_scores, book)
    if cached is not None:
        return cached, False
    task = app[SCORING].get("task")
    if task is None or task.done():
        task = app[SCORING]["task"] = asyncio.ensure_future(asyncio.to_thread(books.scores, book))
    done, _ = await asyncio.wait({task}, timeout=SCORES_WAIT)
    if not done:
        return None, True
    # the task may have scored an older version of the rules: ask again (cached now, or not)
    return await asyncio.to_thread(books.cached_scores, book), False


@dataclass(frozen=True)
class PlayForm:
    """What the playground's form holds."""

    text: str = ""
    title: str = ""
    url: str = ""
    chosen: tuple[str, ...] = ()  # the rules to try (none chosen: all)
    edit: str = ""  # the id of the rule in the editor ("" when none)
    yaml: str = ""
    digest: str = ""  # of the rule's file when the edit began

    @classmethod
    def of(cls, form: MultiDictProxy[Any]) -> PlayForm:
        def text(name: str) -> str:
            value = form.get(name, "")
            return value if isinstance(value, str) else ""

        return cls(
            text=text("text"),
            title=text("title").strip(),
            url=text("url").strip(),
            chosen=tuple(v for v in form.getall("rule", []) if isinstance(v, str)),
            edit=text("edit"),
            yaml=text("yaml"),
            digest=text("digest"),
        )


@dataclass(frozen=True)
class Tried:
    """One document of the text or URL, and what the rules made of it."""

    article: Article
    explanations: list[Explanation]
    edited: Explanation | None = None  # the edited rule on it


@viewer
async def playground(request: web.Request) -> web.Response:
    book = await asyncio.to_thread(request.app[BOOKS].book)
    form = PlayForm(chosen=tuple(e.id for e in book.entries))
    problem = None
    wanted = request.query.get("rule", "")
    entry = book.entry(wanted) if wanted else None
    if wanted and entry is None:
        problem = f"There is no rule {wanted!r} in the rule files."
    elif entry is not None:
        try:
            source = await asyncio.to_thread(rule_source, entry.path, entry.index)
            form = replace(form, edit=entry.id, yaml=source.text, digest=source.digest)
        except SourceError as exc:
            problem = str(exc)
    return _page(request, book, form, problem=problem)


@viewer
async def play(request: web.Request) -> web.Response:
    book = await asyncio.to_thread(request.app[BOOKS].book)
    posted = await request.post()
    form = PlayForm.of(posted)
    action = posted.get("action", "run")
    if action == "save" and not request[SESSION].can_change:
        raise web.HTTPForbidden(text="saving a rule needs the operator's login")
    config = request.app[CONFIG]
    context: dict[str, Any] = {}
    entry = book.entry(form.edit) if form.edit else None
    if form.edit and entry is None:
        context["problem"] = f"Rule {form.edit!r} is no longer in the rule files: reload."
    edit = None
    if entry is not None and action in ("diff", "save"):
        edit = await asyncio.to_thread(compile_edit, book, entry, form.yaml)
        context["edit"] = edit
    if action == "save" and entry is not None and edit is not None:
        context.update(await _save(config, entry.path, entry.index, form, edit))
        if "saved" in context:
            form = replace(form, digest=context.pop("digest"), yaml=normalised(form.yaml))
    elif action == "diff" and entry is not None and edit is not None and edit.rule is not None:
        context["difference"] = await _difference(request, book, entry.rule, edit)
    if form.text.strip() or form.url:
        context["tried"], context["fetch_error"] = await _try(config, book, form, edit)
    return _page(request, book, form, **context)


def _page(request: web.Request, book: RuleBook, form: PlayForm, **context: Any) -> web.Response:
    context.setdefault("problem", None)
    return render(
        request,
        "console/playground.html.j2",
        title="Rule playground",
        book=book,
        form=form,
        chosen=set(form.chosen) or {e.id for e in book.entries},
        stored_articles=STORED_ARTICLES,
        corpus_configured=request.app[BOOKS].corpus is not None,
        highlight=highlight,
        **{
            "edit": None,
            "difference": None,
            "tried": None,
            "fetch_error": None,
            "saved": None,
            **context,
        },
    )


async def _try(
    config: Config, book: RuleBook, form: PlayForm, edit: Edit | None
) -> tuple[list[Tried], str | None]:
    """The rules (and the edited one) on the documents of the form's URL or text."""
    articles, error = await _documents(config, form)
    if book.rules is None:
        return [], error
    rules, only = book.rules, set(form.chosen) or None
    edited = RuleSet((edit.rule,)) if edit is not None and edit.rule is not None else None

    def explain() -> list[Tried]:
        return [
            Tried(
                article,
                explain_article(article, rules, only=only),
                explain_article(article, edited)[0] if edited is not None else None,
            )
            for article in articles
        ]

    return await asyncio.to_thread(explain), error


async def _documents(config: Config, form: PlayForm) -> tuple[list[Article], str | None]:
    """The articles of the form's URL (fetched through the SSRF guard) or pasted text."""
    if form.url:
        allow_private = config.allow_private_networks
        async with make_session(allow_private=allow_private) as session:
            page = await fetch(session, form.url, allow_private=allow_private)
        if not page.ok:
            return [], page.error or f"fetch: status {page.status}"
        is_html = "html" in (page.content_type or "")
        found = await asyncio.to_thread(documents_of, page.body, page.final_url, is_html=is_html)
    elif form.text.lstrip().startswith("<"):  # a page's HTML, or a feed
        found = await asyncio.to_thread(
            documents_of, form.text.encode("utf-8"), "playground:", is_html=True
        )
    else:
        text = normalised(form.text).strip()
        found = [(Article(url="playground:", title=form.title, text=text), None)]
    articles = [a for a, _ in found if a is not None][:MAX_DOCUMENTS]
    errors = [e for a, e in found if e]
    if form.title:
        articles = [replace(a, title=form.title) for a in articles]
    return articles, errors[0] if errors and not articles else None


async def _difference(
    request: web.Request, book: RuleBook, old: CompiledRule, edit: Edit
) -> Difference:
    books, store, config = request.app[BOOKS], request.app[STORE], request.app[CONFIG]
    tags = {feed.url: feed.tags for feed in config.feeds}
    stored = await asyncio.to_thread(store.recent_articles, STORED_ARTICLES)
    scores = await asyncio.to_thread(books.cached_scores, book)
    assert edit.rule is not None
    return await asyncio.to_thread(
        difference,
        old,
        edit.rule,
        stored,
        tags_of=lambda feed: tags.get(feed or "", ()),
        corpus=books.corpus,
        scores=scores,
    )


async def _save(
    config: Config, path: Path, index: int, form: PlayForm, edit: Edit
) -> dict[str, Any]:
    """Write the edit to its file; what the page says about it."""
    if edit.rules is None:
        return {"problem": "The edit has problems: it was not saved."}
    try:
        check_subscribed_rules(config, edit.rules)
    except ConfigError as exc:  # a subscribed rule renamed away
        return {"problem": "Not saved: " + "; ".join(str(p) for p in exc.problems)}
    try:
        source = await asyncio.to_thread(rule_source, path, index)
        await asyncio.to_thread(write_rule, replace(source, digest=form.digest), form.yaml)
        written = await asyncio.to_thread(rule_source, path, index)
    except SourceError as exc:
        return {"problem": f"Not saved: {exc}"}
    return {"saved": f"{path} (rule {index + 1})", "digest": written.digest}
