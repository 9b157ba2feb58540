"""The `monitor` command: a thin layer over the library. Results go to stdout, logs to stderr.

Exit codes (the README has the table):

    0   the command did its job, even if some feeds or articles failed (those are in the logs
        and feed health)
    1   invalid configuration or rules (`monitor check` found a problem), a database that
        cannot be opened, an input that cannot be read (`replay`), a request refused
        (`outbox --requeue` of a delivery that is not dead-lettered or pending, `silence
        expire` of a silence that is unknown or ended already)
    2   usage errors
    3   `once` did its cycle but dead-lettered a delivery
    4   `db current`: the database's schema is behind this version's (`monitor db upgrade`)
    70  `run` had to be ended: something was still stuck after SIGTERM
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from monitor import __version__
from monitor.errors import LocatedError, MonitorError, Problem
from monitor.logs import FORMATS, setup_logging

if TYPE_CHECKING:
    from monitor.config import Config
    from monitor.store import Store

log = logging.getLogger("monitor")

EXIT_PROBLEM = 1
EXIT_DEAD_LETTERED = 3
EXIT_SCHEMA_BEHIND = 4


def _fail(error: MonitorError) -> NoReturn:
    problems = error.problems if isinstance(error, LocatedError) else [error]
    for problem in problems:
        click.echo(str(problem), err=True)
    sys.exit(1)


def _load_config(path: Path) -> Any:
    from monitor.config import load_config

    try:
        config = load_config(path)
    except LocatedError as exc:
        _fail(exc)
    # a database error escaping a command (`run`, `once`) is said with where its URL is from
    click.get_current_context().meta["monitor.config"] = config
    _check_database_url(config)
    return config


def _check_database_url(config: Config) -> None:
    """A URL that is none, or names a database whose driver is missing, fails here for every
    command (creating an engine connects to nothing)."""
    from sqlalchemy import create_engine

    from monitor.database import OPEN_ERRORS, open_failure

    try:
        create_engine(config.database_url).dispose()
    except OPEN_ERRORS as exc:
        _exit_with(str(open_failure(config.database_origin, config.database_url, exc)))


@contextmanager
def _open_store(config: Config, **options: Any) -> Iterator[Store]:
    """The config's store, opened (and migrated), closed on exit; a database that cannot be
    opened is one line naming the `database:` key (or MONITOR_DATABASE_URL) and the cause."""
    from monitor.database import OPEN_ERRORS, open_failure
    from monitor.store import Store

    try:
        store = Store(config.database_url, **options)
    except OPEN_ERRORS as exc:
        log.debug("the database cannot be opened", exc_info=True)
        _exit_with(str(open_failure(config.database_origin, config.database_url, exc)))
    try:
        yield store
    finally:
        store.close()


def _exit_with(message: str, code: int = EXIT_PROBLEM) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(code)


class _MonitorGroup(click.Group):
    """Database errors that escape a command (the worker's store opens inside the runtime)
    end it with one line, not a traceback (`-vv` logs the traceback)."""

    def invoke(self, ctx: click.Context) -> Any:
        from sqlalchemy.exc import InterfaceError, OperationalError

        from monitor.database import DatabaseUnavailable, describe_error, open_failure

        try:
            return super().invoke(ctx)
        except DatabaseUnavailable as exc:
            _exit_with(str(exc))
        except (OperationalError, InterfaceError) as exc:
            log.debug("database error", exc_info=True)
            config = _config_in(ctx)
            if config is None:
                _exit_with(f"database: {describe_error(exc)}")
            _exit_with(str(open_failure(config.database_origin, config.database_url, exc)))


def _config_in(ctx: click.Context) -> Config | None:
    """The config the command loaded (`meta` is shared by every context of one run)."""
    config: Config | None = ctx.meta.get("monitor.config")
    return config


rules_option = click.option(
    "-r",
    "--rules",
    "rule_paths",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Rule files or folders (default: ./rules).",
)
# `replay --explain` without a rule explains every rule
ALL_RULES = "*"

config_option = click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=Path("monitor.yaml"),
    show_default=True,
    help="Config file.",
)


@click.group(cls=_MonitorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="news-monitor")
@click.option("-v", "--verbose", count=True, help="More logging on stderr (-vv for debug).")
@click.option(
    "--log-format",
    type=click.Choice(FORMATS),
    default="text",
    envvar="MONITOR_LOG_FORMAT",
    show_default=True,
    help="Log lines as text or JSON Lines (times in UTC either way).",
)
def main(verbose: int, log_format: str) -> None:
    """news-monitor: watch news feeds, match watch rules, send digests.

    Example: monitor demo
    """
    setup_logging(verbose, log_format)


@main.command()
def demo() -> None:
    """Run the whole pipeline once on the seed story, against local servers it starts
    (feed site, SMTP server, webhook receiver); print the digest received. No internet needed.

    Example: monitor demo
    """
    try:
        from monitor.demo.run import describe, run_demo
    except ModuleNotFoundError as exc:  # the demo's SMTP server is an optional extra
        raise click.ClickException(
            f"monitor demo needs {exc.name}: pip install 'news-monitor[demo]'"
        ) from exc

    logging.getLogger("monitor").setLevel(logging.INFO)
    result = asyncio.run(run_demo())
    click.echo(describe(result))


@main.command()
@config_option
@click.option(
    "--http",
    "listen",
    metavar="HOST:PORT",
    help="Serve /healthz, /readyz, /metrics and the unsubscribe pages here "
    "(overrides http.listen).",
)
def run(config_path: Path, listen: str | None) -> None:
    """The worker: poll feeds on their schedules, match, send digests; stops on SIGTERM,
    reloads config and rules on SIGHUP.

    Example: monitor run -c /etc/news-monitor/monitor.yaml --http 127.0.0.1:8080
    """
    from monitor.web.app import listening_on
    from monitor.worker.scheduler import run_worker

    config = _load_config(config_path)
    if listen:
        try:
            config = listening_on(config, listen)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--http") from exc
    logging.getLogger("monitor").setLevel(logging.INFO)
    try:
        asyncio.run(run_worker(config))
    except MonitorError as exc:
        _fail(exc)


@main.command()
@config_option
@click.option("--all", "poll_all", is_flag=True, help="Poll every feed now, whatever its schedule.")
def once(config_path: Path, poll_all: bool) -> None:
    """One cycle: poll what is due, match, deliver what is due; then exit (cron-friendly).
    Exits 3 when a delivery was dead-lettered (given up on) in the cycle.

    Example: monitor once --all -c monitor.yaml
    """
    from monitor.worker.pipeline import open_runtime, run_cycle

    config = _load_config(config_path)

    async def cycle() -> int:
        async with open_runtime(config, extract_workers=None) as rt:
            report = await run_cycle(rt, poll_all=poll_all)
        click.echo(
            f"polled {report.feeds_polled} feeds ({report.feeds_failed} failed), "
            f"{report.articles} new articles, "
            f"{report.alerts} alerts, {report.digests} digests queued, {report.delivered} delivered"
        )
        return report.dead_lettered

    try:
        dead = asyncio.run(cycle())
    except LocatedError as exc:
        _fail(exc)
    if dead:
        _exit_with(
            f"{dead} deliver{'y' if dead == 1 else 'ies'} dead-lettered in this cycle "
            "(monitor outbox says why)",
            EXIT_DEAD_LETTERED,
        )


@main.command()
@click.argument("sources", nargs=-1, required=True)
@rules_option
@click.option("--json", "as_json", is_flag=True, help="JSON Lines: one object per document.")
@click.option(
    "--fetch", "fetch_pages", is_flag=True, help="For a feed, fetch and extract each entry's page."
)
@click.option(
    "--allow-private-networks", is_flag=True, help="Allow URLs on loopback and private addresses."
)
@click.option(
    "--explain",
    "explain",
    is_flag=False,
    flag_value=ALL_RULES,
    default=None,
    metavar="[RULE]",
    help="Also say why each rule (or RULE) did not fire: the node that failed, nearest candidate.",
)
def replay(
    sources: tuple[str, ...],
    rule_paths: tuple[Path, ...],
    as_json: bool,
    fetch_pages: bool,
    allow_private_networks: bool,
    explain: str | None,
) -> None:
    """Dry run: extract and match SOURCE (an HTML or text file, a feed file, or a URL).
    Writes nothing, sends nothing. Exits 1 when a SOURCE cannot be read (after the others).

    Example: monitor replay seeds/mee-syria-envoy.html --explain envoy-travel
    """
    from monitor.replay import replay as run_replay
    from monitor.rules.explain import explain_article

    rules = _load_rules(rule_paths)
    only = None if explain in (None, ALL_RULES) else (explain,)
    if only and explain not in rules.by_id:
        raise click.UsageError(f"--explain: no rule '{explain}' (rules: {', '.join(rules.ids)})")
    results = asyncio.run(
        run_replay(
            list(sources), rules, fetch_pages=fetch_pages, allow_private=allow_private_networks
        )
    )
    unreadable = 0
    for result in results:
        if result.error and result.article is None:  # nothing to match: the source failed
            unreadable += 1
            click.echo(f"{result.source}: {result.error}", err=True)
        elif result.error:
            log.warning("%s: %s", result.source, result.error)
        explained = (
            explain_article(result.article, rules, only=only, now=result.article.published)
            if explain is not None and result.article is not None
            else []
        )
        if as_json:
            record = result.to_json()
            if explain is not None:
                record["explanations"] = [
                    {"rule": e.rule, "matched": e.match is not None, "reasons": e.reasons}
                    for e in explained
                ]
            click.echo(json.dumps(record, ensure_ascii=False))
        else:
            click.echo(_describe_replay(result, explained, color=sys.stdout.isatty()))
    if unreadable:
        sys.exit(EXIT_PROBLEM)


def _load_rules(rule_paths: tuple[Path, ...]) -> Any:
    from monitor.rules.load import load_rules

    try:
        return load_rules(list(rule_paths) or [Path("rules")])
    except LocatedError as exc:
        _fail(exc)


def _describe_replay(result: Any, explained: list[Any], *, color: bool) -> str:
    from monitor.digest.render import highlight
    from monitor.textfmt import figure_text

    article = result.article
    lines = [click.style(article.title or result.source, bold=True) if article else result.source]
    if article:
        lines.append(f"  {article.url}")
    if result.error:
        lines.append(f"  error: {result.error}")
    if article and not result.matches and not explained:
        lines.append("  no rule matched (--explain says why)")
    for explanation in explained:
        if explanation.match is None:
            lines.append(f"  {explanation.rule}: did not fire")
            lines.extend(f"    - {reason}" for reason in explanation.reasons)
    for match in result.matches:
        lines.append(
            f"  {click.style(match.rule, fg='green') if color else match.rule} "
            f"({match.severity}): {match.title}"
        )
        if match.figures:
            lines.append("    figures: " + ", ".join(figure_text(f) for f in match.figures))
        for name, values in match.captures.items():
            lines.append(f"    {name}: {', '.join(values)}")
        for i, snippet in enumerate(match.snippets):
            marked = highlight(snippet, match.hits, i, mark="text")
            if color:
                marked = marked.replace("**", "\x1b[1;33m", 1)
                while "**" in marked:
                    marked = marked.replace("**", "\x1b[0m", 1).replace("**", "\x1b[1;33m", 1)
            lines.append(f"    > {marked}")
    return "\n".join(lines)


@main.group()
def rules() -> None:
    """Check, test and describe rule files."""


@rules.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def rules_check(paths: tuple[Path, ...]) -> None:
    """Validate rule files; every problem as path:line:col: message (exit 1 on any).

    Example: monitor rules check rules/
    """
    from monitor.rules.lint import lint_rules
    from monitor.rules.load import compile_rule_files, parse_rule_files

    problems: list[Problem] = []
    parsed = parse_rule_files(list(paths) or [Path("rules")], problems)
    try:
        ruleset = compile_rule_files(parsed, problems)
    except LocatedError as exc:
        _fail(exc)
    warnings = lint_rules(parsed)
    for warning in warnings:
        click.echo(str(warning))
    click.echo(
        f"{len(ruleset.rules)} rules OK" + (f", {len(warnings)} warnings" if warnings else "")
    )


@rules.command("test")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def rules_test(paths: tuple[Path, ...]) -> None:
    """Run every rule's examples (exit 1 on any failure).

    Example: monitor rules test rules/
    """
    from monitor.rules.examples import run_examples
    from monitor.rules.load import load_rules

    try:
        ruleset = load_rules(list(paths) or [Path("rules")])
    except LocatedError as exc:
        _fail(exc)
    results = run_examples(ruleset)
    failed = [r for r in results if not r.passed]
    for r in failed:
        click.echo(f"FAIL {r.rule} example {r.index + 1}: {r.text!r}")
        for failure in r.failures:
            click.echo(f"     {failure}")
    click.echo(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if failed:
        sys.exit(1)


@rules.command("schema")
def rules_schema() -> None:
    """Print the JSON Schema of rule files (for editor completion).

    Example: monitor rules schema > rules.schema.json
    """
    from monitor.rules.schema import RuleFileSpec

    click.echo(json.dumps(RuleFileSpec.model_json_schema(by_alias=True), indent=2))


@rules.command("eval")
@click.argument("corpus", type=click.Path(path_type=Path))
@rules_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object with every score.")
@click.option(
    "--min-f1", type=click.FloatRange(0, 1), help="Exit 1 when a rule's F1 is below this."
)
def rules_eval(
    corpus: Path, rule_paths: tuple[Path, ...], as_json: bool, min_f1: float | None
) -> None:
    """Score rules on a labelled corpus (a folder with labels.jsonl): precision, recall and
    F1 per rule, figure and capture recall and precision, every miss and false alarm explained.

    Example: monitor rules eval ../shared/corpus --min-f1 0.9
    """
    from monitor.evaluate import evaluate, format_table

    rules = _load_rules(rule_paths)
    try:
        report = evaluate(corpus, rules)
    except LocatedError as exc:
        _fail(exc)
    click.echo(
        json.dumps(report.to_json(), ensure_ascii=False) if as_json else format_table(report)
    )
    below = [s.rule for s in report.scores.values() if min_f1 is not None and s.f1 < min_f1]
    if below:
        click.echo(f"F1 below {min_f1}: {', '.join(below)}", err=True)
        sys.exit(1)


@main.command()
@config_option
@click.option(
    "--all", "show_all", is_flag=True, help="Also list deliveries already sent or skipped."
)
@click.option(
    "--requeue",
    "requeue_ids",
    type=int,
    multiple=True,
    metavar="ID",
    help="Send this dead-lettered (or pending) delivery again at the next cycle (repeatable); "
    "exits 1 naming each ID that is unknown, sent or skipped.",
)
@click.option("--requeue-dead", is_flag=True, help="Send every dead-lettered digest again.")
def outbox(
    config_path: Path, show_all: bool, requeue_ids: tuple[int, ...], requeue_dead: bool
) -> None:
    """Deliveries waiting, retrying or dead-lettered (one per target of a digest); requeue
    dead letters once the cause is fixed.

    Example: monitor outbox -c monitor.yaml --requeue-dead
    """
    from monitor.status import delivery_states, requeue_refusal

    config = _load_config(config_path)
    with _open_store(config) as store:
        if requeue_ids:
            states = delivery_states(store, requeue_ids)
            refusals = [
                refusal
                for row_id in dict.fromkeys(requeue_ids)
                if (refusal := requeue_refusal(row_id, states.get(row_id)))
            ]
            ids = [i for i in requeue_ids if i in states and not requeue_refusal(i, states[i])]
            click.echo(f"requeued {store.requeue(ids) if ids else 0} deliveries")
            if refusals:
                _exit_with("\n".join(refusals))
            return
        if requeue_dead:
            ids = [e.id for e in store.outbox_entries(("dead",))]
            click.echo(f"requeued {store.requeue(ids)} deliveries")
            return
        statuses = ("pending", "dead", "sent", "skipped") if show_all else ("pending", "dead")
        entries = store.outbox_entries(statuses)
        for e in entries:
            retry = (
                f"  next attempt {e.next_attempt_at:%Y-%m-%d %H:%M}Z"
                if e.status == "pending"
                else ""
            )
            line = (
                f"{e.id:>6} {e.status:<8} {e.subscription} -> {e.target}"
                f"  attempts {e.attempts}{retry}"
            )
            click.echo(f"{line}  {e.subject}")
            if e.last_error:
                click.echo(f"       last error: {e.last_error}")
        counts = store.outbox_counts()
        shown = ("pending", "dead", "sent", "skipped")
        click.echo(", ".join(f"{counts.get(s, 0)} {s}" for s in shown))


@main.command()
@config_option
def feeds(config_path: Path) -> None:
    """Each feed's health: last poll, status, items, failures, last error, next poll.

    Example: monitor feeds -c monitor.yaml
    """
    from monitor.status import utc_text

    config = _load_config(config_path)
    with _open_store(config) as store:  # only looks: the running workers say which are active
        states = {state.url: state for state in store.feed_states()}
    for feed in config.feeds:
        state = states.get(feed.url)
        if state is None:
            click.echo(f"{feed.url}\n  never polled (no worker has run with this feed yet)")
            continue
        when = utc_text(state.last_polled_at, "never")
        nxt = utc_text(state.next_poll_at, "now")
        validators = (
            ", ".join(
                v for v, on in (("etag", state.etag), ("last-modified", state.last_modified)) if on
            )
            or "none"
        )
        click.echo(state.url)
        if state.poll_url != state.url:
            click.echo(f"  moved permanently to {state.poll_url}")
        click.echo(
            f"  last poll {when}  status {state.last_status or '-'}  items {state.items_seen}  "
            f"failures {state.consecutive_failures}  validators {validators}  next poll {nxt}"
        )
        if state.last_error:
            click.echo(f"  last error: {state.last_error}")
        if state.last_warning:
            click.echo(f"  warning: {state.last_warning}")


@main.command()
@config_option
def check(config_path: Path) -> None:
    """Check the config and its rules together: every key, secret, address, webhook URL and
    schedule; every rule file; rules and tags subscriptions name that nothing provides; and
    that the database opens. Every problem as path:line:col: message; exit 1 on any.

    Example: monitor check -c /etc/news-monitor/monitor.yaml
    """
    from monitor.check import check as run_check

    report = run_check(config_path)
    for warning in report.warnings:
        click.echo(str(warning))
    for line in report.lines():
        click.echo(line, err=True)
    if not report.ok:
        _exit_with(report.summary())
    click.echo(report.summary())


@main.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
def status(config_path: Path, as_json: bool) -> None:
    """One screen: workers and their heartbeats, feeds by health (failing first), rules
    loaded, the outbox by state with the oldest pending, each subscription's last digest and
    next due time. Times in UTC (Z).

    Example: monitor status -c monitor.yaml --json
    """
    from monitor.status import gather, render, to_json

    config = _load_config(config_path)
    with _open_store(config) as store:
        found = gather(config, store)
    click.echo(json.dumps(to_json(found), ensure_ascii=False) if as_json else render(found))


@main.group()
def db() -> None:
    """The database schema (Alembic migrations; every command also migrates when it opens
    the database)."""


@db.command("upgrade")
@config_option
def db_upgrade(config_path: Path) -> None:
    """Bring the database schema to this version's newest revision (one worker at a time on
    PostgreSQL); a database that does not exist yet is created.

    Example: MONITOR_DATABASE_URL=postgresql://monitor@db/monitor monitor db upgrade
    """
    from monitor.database import OPEN_ERRORS, open_failure, schema_revisions

    config = _load_config(config_path)
    try:
        before, head = schema_revisions(config.database_url)
    except OPEN_ERRORS as exc:
        _exit_with(str(open_failure(config.database_origin, config.database_url, exc)))
    with _open_store(config):  # opening the store migrates it
        pass
    if before == head:
        click.echo(f"database already at {head} (head)")
    else:
        click.echo(f"database upgraded from {before or 'empty'} to {head} (head)")


@db.command("current")
@config_option
def db_current(config_path: Path) -> None:
    """Print the database's schema revision and whether it is the head (the newest this
    version knows). Exits 4 when it is behind (run monitor db upgrade), 1 when it cannot be
    read or is newer than this version. Writes nothing.

    Example: monitor db current -c monitor.yaml
    """
    from monitor.database import (
        OPEN_ERRORS,
        describe_error,
        known_revisions,
        open_failure,
        schema_revisions,
    )

    config = _load_config(config_path)
    try:
        current, head = schema_revisions(config.database_url)
    except OPEN_ERRORS as exc:
        _exit_with(str(open_failure(config.database_origin, config.database_url, exc)))
    if current == head:
        click.echo(f"{current} (head)")
    elif current is None:
        click.echo(f"empty (no schema yet; head is {head}: monitor db upgrade)")
        sys.exit(EXIT_SCHEMA_BEHIND)
    elif current not in known_revisions():
        from alembic.util import CommandError

        message = describe_error(CommandError(f"Can't locate revision identified by '{current}'"))
        _exit_with(f"{config.database_origin}: {message}")
    else:
        click.echo(f"{current} (behind head {head}: monitor db upgrade)")
        sys.exit(EXIT_SCHEMA_BEHIND)


@main.group()
def digest() -> None:
    """Digests of subscriptions."""


@digest.command("preview")
@click.argument("name")
@config_option
@click.option("--out", type=click.Path(path_type=Path), help="Write the HTML part here.")
def digest_preview(name: str, config_path: Path, out: Path | None) -> None:
    """Render the next digest of subscription NAME without sending it.

    Example: monitor digest preview humanitarian-desk --out preview.html
    """
    from monitor.digest.render import make_environment
    from monitor.timeutil import utcnow
    from monitor.worker.deliver import plan_pending, render_plan

    config = _load_config(config_path)
    sub = next((s for s in config.subscriptions if s.name == name), None)
    if sub is None:
        raise click.UsageError(f"no subscription named '{name}' in {config_path}")
    now = utcnow()
    with _open_store(config) as store:
        cursor, since = store.peek_subscription(name)
        plan, _ = plan_pending(store, sub, cursor, now)  # what the worker would queue
    due = "now" if since is None else f"{sub.schedule.next_after(since):%Y-%m-%d %H:%M %Z}"
    click.echo(f"{name}: {sub.schedule.text}, next digest due {due}", err=True)
    if not plan.digests:
        click.echo(f"no pending alerts for {name}")
        return
    deliveries = render_plan(config, make_environment(config.templates_dir), sub, plan)
    if deliveries is None:
        raise click.ClickException("the digest could not be rendered (see the errors above)")
    first = deliveries[0]
    click.echo(
        f"{len(deliveries)} deliveries: "
        + ", ".join(f"{d.target} ({len(d.story_ids)} stories)" for d in deliveries),
        err=True,
    )
    if first.channel != "email":
        click.echo(first.body.decode("utf-8"))
        return
    email = BytesParser(policy=policy.default).parsebytes(first.body)
    text = email.get_body(("plain",))
    html = email.get_body(("html",))
    click.echo(f"Subject: {email['Subject']}\n")
    click.echo(text.get_content() if text is not None else "")
    if out and html is not None:
        out.write_text(html.get_content(), encoding="utf-8")
        click.echo(f"HTML written to {out}", err=True)


@main.command()
@config_option
@click.argument("subscription")
@click.argument("address")
@click.option("--rule", help="Mute only this rule for the address.")
@click.option("--story", type=int, help="Mute only this story (its id) for the address.")
@click.option("--undo", is_flag=True, help="Take the unsubscribe or mute back.")
def unsubscribe(
    config_path: Path,
    subscription: str,
    address: str,
    rule: str | None,
    story: int | None,
    undo: bool,
) -> None:
    """Record an unsubscribe (or a mute) that came by mail, as the link in the email would.

    Example: monitor unsubscribe humanitarian-desk desk@example.org -c monitor.yaml
    """
    if rule is not None and story is not None:
        raise click.UsageError("give --rule or --story, not both")
    config = _load_config(config_path)
    sub = next((s for s in config.subscriptions if s.name == subscription), None)
    if sub is None or address not in sub.email:
        known = ", ".join(
            f"{s.name} ({', '.join(s.email)})" for s in config.subscriptions if s.email
        )
        raise click.UsageError(
            f"no email subscription {subscription!r} with the address {address!r}; "
            f"email subscriptions: {known or 'none'}"
        )
    scope, value = ("rule", rule) if rule else ("story", str(story)) if story else ("all", "")
    with _open_store(config) as store:
        if undo:
            store.resubscribe(subscription, address, scope, value)
        else:
            store.unsubscribe(subscription, address, scope, value)
    what = "unsubscribed" if scope == "all" else f"{scope} {value} muted"
    click.echo(f"{subscription}: {address} {what}{' taken back' if undo else ''}")


@main.command("console-password")
def console_password() -> None:
    """Read a password on stdin and print its scrypt hash, for `console.password_hash`.

    Example: monitor console-password < password.txt
    """
    from monitor.passwords import hash_password

    password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < 12:
        raise click.UsageError("choose a console password of at least 12 characters")
    click.echo(hash_password(password))


@main.command()
@config_option
def subscriptions(config_path: Path) -> None:
    """Each subscription, where it goes, and who unsubscribed or muted what.

    Example: monitor subscriptions -c monitor.yaml
    """
    config = _load_config(config_path)
    with _open_store(config) as store:
        choices = store.unsubscribes()
    for sub in config.subscriptions:
        what = ", ".join([*sub.rules, *(f"tag:{t}" for t in sub.tags)])
        click.echo(f"{sub.name}  {sub.schedule.text}  {what}")
        for target in sub.email or ((f"webhook ({sub.webhook.format})",) if sub.webhook else ()):
            mine = [c for c in choices if c.subscription == sub.name and c.address == target]
            gone = next((c for c in mine if c.scope == "all"), None)
            if gone is not None:
                state = f"unsubscribed {gone.created_at:%Y-%m-%d %H:%M} UTC"
            else:
                muted = [f"{c.scope} {c.value}" for c in mine]
                state = "receiving" + (f" (muted: {', '.join(muted)})" if muted else "")
            click.echo(f"  {target}  {state}")
    configured = {s.name for s in config.subscriptions}
    for c in choices:
        if c.subscription not in configured:
            click.echo(f"(no longer configured) {c.subscription}  {c.address}  {c.scope} {c.value}")


@main.group()
def silence() -> None:
    """Silences: keep a rule, story, feed or tag out of digests for a while (for one
    subscription or all), with a comment and an author; they expire by themselves."""


@silence.command("add")
@config_option
@click.option("--rule", help="Silence this rule.")
@click.option("--story", type=int, help="Silence this story (its id, as digests give it).")
@click.option("--feed", metavar="URL", help="Silence the alerts of articles from this feed.")
@click.option("--tag", help="Silence the alerts carrying this tag.")
@click.option("--subscription", metavar="NAME", help="Only for this subscription (default: all).")
@click.option("--for", "for_text", metavar="DURATION", help="How long: 30m, 2h, 3d, 1w.")
@click.option(
    "--until", "until_text", metavar="TIME", help="Or until when (ISO 8601; UTC if no zone)."
)
@click.option("--comment", required=True, help="Why, and until what (required).")
@click.option("--author", default=None, help="Who to ask about it (default: your user name).")
@click.option("--dry-run", is_flag=True, help="Only say what it would have hidden; save nothing.")
def silence_add(
    config_path: Path,
    rule: str | None,
    story: int | None,
    feed: str | None,
    tag: str | None,
    subscription: str | None,
    for_text: str | None,
    until_text: str | None,
    comment: str,
    author: str | None,
    dry_run: bool,
) -> None:
    """Silence a rule, story, feed or tag; first prints what it would have hidden over the
    last 7 days. Its alerts are left out of digests while it lasts, and are not sent later.

    Example: monitor silence add --rule ceasefire --for 2h --comment "truce talks, too noisy"
    """
    from monitor.digest.silences import (
        PREVIEW_WINDOW,
        InvalidSilence,
        Known,
        Silence,
        ends_at,
        normalized,
        wanted_by,
    )
    from monitor.timeutil import utcnow

    given = [(n, v) for n, v in (("rule", rule), ("story", story), ("feed", feed), ("tag", tag))]
    chosen = [(n, str(v)) for n, v in given if v is not None]
    if len(chosen) != 1:
        raise click.UsageError("say what to silence: one of --rule, --story, --feed or --tag")
    [(scope, value)] = chosen
    config = _load_config(config_path)
    now = utcnow()
    try:
        ends = ends_at(for_text, until_text, now)
        scope, value, comment, author, subscription = normalized(
            scope,
            value,
            starts_at=now,
            ends_at=ends,
            comment=comment,
            author=author or _user_name(),
            subscription=subscription,
        )
    except InvalidSilence as exc:
        raise click.UsageError(str(exc)) from None
    problem = Known.of(config, _rules_or_none(config)).problem(scope, value, subscription)
    if problem:
        raise click.UsageError(f"silence: {problem}")
    audience = [s for s in config.subscriptions if subscription in (None, s.name)]
    draft = Silence(0, subscription, scope, value, now, ends, comment, author, now)
    with _open_store(config) as store:
        hidden = store.silence_preview(draft, now=now, wants=wanted_by(audience))
        click.echo(_describe_hidden(hidden, PREVIEW_WINDOW.days))
        if dry_run:
            click.echo("nothing saved (--dry-run)")
            return
        saved = store.add_silence(
            scope,
            value,
            ends_at=ends,
            comment=comment,
            author=author,
            subscription=subscription,
            now=now,
        )
    click.echo(f"silence {saved.id} saved: {_describe_silence(saved, now)}")


def _user_name() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container): say who with --author
        raise click.UsageError("silence: say who you are with --author") from None


def _rules_or_none(config: Config) -> Any:
    """The config's rules, or None when they do not load (rule ids are not checked then)."""
    from monitor.rules.load import load_rules

    try:
        return load_rules(config.rule_paths)
    except LocatedError:
        log.warning("the rules do not load (monitor check says why): rule ids are not checked")
        return None


def _describe_hidden(hidden: list[Any], days: int, most: int = 10) -> str:
    from monitor.status import utc_text
    from monitor.textfmt import one_line

    count = len(hidden)
    lines = [f"would have hidden {count} alert{'' if count == 1 else 's'} in the last {days} days"]
    for alert in sorted(hidden, key=lambda a: -a.id)[:most]:
        title = one_line(alert.article_title, 90)
        lines.append(f"  {utc_text(alert.created_at)}  {alert.match.rule}  {title}")
    if count > most:
        lines.append(f"  … and {count - most} more")
    return "\n".join(lines)


def _describe_silence(s: Any, now: Any) -> str:
    from monitor.status import age_text, utc_text

    left = f" ({age_text(s.ends_at - now)} left)" if s.ends_at > now else ""
    return f"{s.target} for {s.audience} until {utc_text(s.ends_at)}{left}"


@silence.command("list")
@config_option
@click.option("--all", "show_all", is_flag=True, help="Also the silences that have ended.")
def silence_list(config_path: Path, show_all: bool) -> None:
    """The silences in force (and those yet to start), soonest to end first; with --all, the
    ended ones too, latest first.

    Example: monitor silence list --all -c monitor.yaml
    """
    from monitor.status import utc_text
    from monitor.textfmt import one_line
    from monitor.timeutil import utcnow

    config = _load_config(config_path)
    now = utcnow()
    with _open_store(config) as store:
        found = store.silences("active", now=now)
        if show_all:
            found += store.silences("expired", now=now)
    if not found:
        click.echo("no silences" if show_all else "no active silences")
        return
    for s in found:
        ended = "ended" if s.state(now) == "expired" else "until"
        click.echo(
            f"{s.id:>5}  {s.state(now):<8} {s.target}  {s.audience}  {ended} "
            f"{utc_text(s.ends_at)}  by {one_line(s.author, 40)}: {one_line(s.comment, 120)}"
        )


@silence.command("expire")
@config_option
@click.argument("silence_id", metavar="ID", type=int)
def silence_expire(config_path: Path, silence_id: int) -> None:
    """End silence ID now (its alerts reach digests again from the next one). Exits 1 when
    there is no such silence, or it has ended already.

    Example: monitor silence expire 3 -c monitor.yaml
    """
    from monitor.status import utc_text
    from monitor.timeutil import utcnow

    config = _load_config(config_path)
    now = utcnow()
    with _open_store(config) as store:
        ended = store.expire_silence(silence_id, now)
        if ended is None:
            known = store.silence(silence_id)
            if known is None:
                _exit_with(f"no silence {silence_id} (monitor silence list --all shows them)")
            _exit_with(f"silence {silence_id} had already ended at {utc_text(known.ends_at)}")
    click.echo(f"silence {silence_id} ended: {ended.target} for {ended.audience}")


if __name__ == "__main__":
    main()
