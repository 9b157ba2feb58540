"""The `monitor` command: a thin layer over the library. Results go to stdout, logs to stderr.

Exit codes: 0 the command did its job (even if some feeds or articles failed: those are in
the logs and feed health); 1 invalid configuration or rules; 2 usage errors.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any, NoReturn

import click

from monitor import __version__
from monitor.errors import LocatedError, MonitorError, Problem

log = logging.getLogger("monitor")


class _Formatter(logging.Formatter):
    """`time level logger: message key=value ...` with the pipeline's shared keys."""

    KEYS = ("feed_url", "article_url", "rule", "subscription", "delivery_id")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = [f"{k}={getattr(record, k)}" for k in self.KEYS if getattr(record, k, None)]
        return " ".join([line, *extras])


def _setup_logging(verbose: int) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    logging.getLogger("monitor").setLevel(logging.DEBUG if verbose > 1 else logging.INFO)
    # trafilatura and htmldate log every page they find hard; our own log says what failed
    for noisy in (
        "trafilatura",
        "htmldate",
        "courlan",
        "apscheduler.executors",
        "apscheduler.scheduler",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING if verbose < 2 else logging.INFO)


def _fail(error: MonitorError) -> NoReturn:
    problems = error.problems if isinstance(error, LocatedError) else [error]
    for problem in problems:
        click.echo(str(problem), err=True)
    sys.exit(1)


def _load_config(path: Path) -> Any:
    from monitor.config import load_config

    try:
        return load_config(path)
    except LocatedError as exc:
        _fail(exc)


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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="news-monitor")
@click.option("-v", "--verbose", count=True, help="More logging on stderr (-vv for debug).")
def main(verbose: int) -> None:
    """news-monitor: watch news feeds, match watch rules, send digests.

    Example: monitor demo
    """
    _setup_logging(verbose)


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

    Example: monitor once --all -c monitor.yaml
    """
    from monitor.worker.pipeline import open_runtime, run_cycle

    config = _load_config(config_path)

    async def cycle() -> None:
        async with open_runtime(config, extract_workers=None) as rt:
            report = await run_cycle(rt, poll_all=poll_all)
        click.echo(
            f"polled {report.feeds_polled} feeds ({report.feeds_failed} failed), "
            f"{report.articles} new articles, "
            f"{report.alerts} alerts, {report.digests} digests queued, {report.delivered} delivered"
        )

    try:
        asyncio.run(cycle())
    except LocatedError as exc:
        _fail(exc)


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
    Writes nothing, sends nothing.

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
    for result in results:
        if result.error:
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
    help="Send this dead-lettered digest again at the next cycle (repeatable).",
)
@click.option("--requeue-dead", is_flag=True, help="Send every dead-lettered digest again.")
def outbox(
    config_path: Path, show_all: bool, requeue_ids: tuple[int, ...], requeue_dead: bool
) -> None:
    """Deliveries waiting, retrying or dead-lettered (one per target of a digest); requeue
    dead letters once the cause is fixed.

    Example: monitor outbox -c monitor.yaml --requeue-dead
    """
    from monitor.store import Store

    config = _load_config(config_path)
    store = Store(config.database_url)
    try:
        if requeue_ids or requeue_dead:
            ids = list(requeue_ids) or [e.id for e in store.outbox_entries(("dead",))]
            click.echo(f"requeued {store.requeue(ids)} deliveries")
            return
        statuses = ("pending", "dead", "sent", "skipped") if show_all else ("pending", "dead")
        entries = store.outbox_entries(statuses)
        for e in entries:
            retry = (
                f"  next attempt {e.next_attempt_at:%Y-%m-%d %H:%M}"
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
    finally:
        store.close()


@main.command()
@config_option
def feeds(config_path: Path) -> None:
    """Each feed's health: last poll, status, items, failures, last error, next poll.

    Example: monitor feeds -c monitor.yaml
    """
    from monitor.store import Store

    config = _load_config(config_path)
    store = Store(config.database_url)
    store.sync_feeds([f.url for f in config.feeds])
    configured = {f.url for f in config.feeds}
    for state in store.feed_states():
        if state.url not in configured:
            continue
        when = (
            state.last_polled_at.strftime("%Y-%m-%d %H:%M:%S") if state.last_polled_at else "never"
        )
        nxt = state.next_poll_at.strftime("%Y-%m-%d %H:%M:%S") if state.next_poll_at else "now"
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
    store.close()


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
    from monitor.digest.plan import plan_subscription
    from monitor.digest.render import make_environment
    from monitor.store import Store
    from monitor.timeutil import utcnow
    from monitor.worker.deliver import render_plan, targets

    config = _load_config(config_path)
    sub = next((s for s in config.subscriptions if s.name == name), None)
    if sub is None:
        raise click.UsageError(f"no subscription named '{name}' in {config_path}")
    now = utcnow()
    store = Store(config.database_url)
    try:
        cursor, since = store.peek_subscription(name)
        alerts = store.alerts_after(cursor)
        mutes = store.mutes(name)
    finally:
        store.close()
    plan = plan_subscription(name, targets(sub), sub.wants, alerts, cursor, now, mutes)
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
    from monitor.store import Store

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
    store = Store(config.database_url)
    try:
        if undo:
            store.resubscribe(subscription, address, scope, value)
        else:
            store.unsubscribe(subscription, address, scope, value)
    finally:
        store.close()
    what = "unsubscribed" if scope == "all" else f"{scope} {value} muted"
    click.echo(f"{subscription}: {address} {what}{' taken back' if undo else ''}")


@main.command()
@config_option
def subscriptions(config_path: Path) -> None:
    """Each subscription, where it goes, and who unsubscribed or muted what.

    Example: monitor subscriptions -c monitor.yaml
    """
    from monitor.store import Store

    config = _load_config(config_path)
    store = Store(config.database_url)
    try:
        choices = store.unsubscribes()
    finally:
        store.close()
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


if __name__ == "__main__":
    main()
