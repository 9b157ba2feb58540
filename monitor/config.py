"""monitor.yaml: one typed, resolved `Config`; the only module that reads os.environ.

Order of precedence: environment (MONITOR_DATABASE_URL, and the variables the file names for
secrets), then the file, then defaults. Relative paths resolve against the config file's
folder. Every error is `path:line:col: message`, and every error of a file is found in one
pass: a part of the file in error (a feed, a subscription, a top-level key) is left out of
what is checked next, so the problems of the rest still show (`inspect_config`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from pydantic import Field, ValidationError, field_validator, model_validator

from monitor.channels.email import DkimSettings, SmtpModel, SmtpSettings
from monitor.channels.webhook import WebhookModel, secret_key
from monitor.digest.schedule import Schedule, parse_schedule
from monitor.errors import ConfigError, Problem
from monitor.passwords import is_hash
from monitor.timeutil import parse_duration
from monitor.yamlsrc import Locator, PathKey, StrictModel, data_loc, load_yaml, located_errors

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


M = TypeVar("M", bound=StrictModel)

# No publisher wants to be polled more often than this.
MIN_INTERVAL = timedelta(minutes=1)


def _duration(value: str | None) -> str | None:
    if value is not None:
        parse_duration(value)
    return value


class FeedModel(StrictModel):
    url: str = Field(pattern=r"^https?://\S+$")
    interval: str = "10m"
    tags: list[str] = []
    first_poll_max_age: str | None = None

    _check_age = field_validator("first_poll_max_age")(_duration)

    @field_validator("interval")
    @classmethod
    def _polite_interval(cls, value: str) -> str:
        if parse_duration(value) < MIN_INTERVAL:
            raise ValueError(f"interval {value} is too short: poll a feed at most once a minute")
        return value


class SubscriptionModel(StrictModel):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    email: str | list[str] | None = None
    webhook: WebhookModel | None = None
    rules: list[str] = []
    tags: list[str] = []
    schedule: str = "immediate"

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        parse_schedule(value)
        return value

    @field_validator("email")
    @classmethod
    def _addresses(cls, value: str | list[str] | None) -> str | list[str] | None:
        """Each address well-formed: "not-an-address" or one carrying CRLF and a Bcc: header
        would otherwise reach the SMTP envelope and the To: line."""
        for address in [value] if isinstance(value, str) else value or []:
            problem = address_problem(address)
            if problem:
                raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _target_and_filter(self) -> SubscriptionModel:
        if (self.email is None) == (self.webhook is None):
            raise ValueError(
                f"subscription '{self.name}' needs exactly one target: email or webhook"
            )
        if not self.rules and not self.tags:
            raise ValueError(
                f"subscription '{self.name}' needs rules or tags to say what it receives"
            )
        return self


class HttpModel(StrictModel):
    """The worker's web endpoint (`monitor run` serves it): unsubscribe pages, health."""

    listen: str = Field("127.0.0.1:8080", pattern=r"^\[?[0-9A-Za-z.:-]*\]?:[0-9]{1,5}$")
    # the address subscribers reach it at (https in production): unsubscribe links use it
    public_url: str | None = Field(None, pattern=r"^https?://[^\s/]+(/\S*)?$")
    # signs the links in emails; without it, emails carry no unsubscribe link of ours
    secret_env: str = "MONITOR_SECRET_KEY"


class ConsoleModel(StrictModel):
    """The operator's console on the web endpoint (`/console/`): who may log in."""

    # the operator's password (reads and changes), from this variable or as a scrypt hash
    password_env: str = "MONITOR_CONSOLE_PASSWORD"
    password_hash: str | None = None
    # a read-only login, optional
    viewer_password_env: str | None = None
    viewer_password_hash: str | None = None
    # a labelled corpus (a folder with labels.jsonl, as `monitor rules eval` reads): the Rules
    # page shows each rule's scores on it, the playground what an edit changes there
    corpus: str | None = None

    @field_validator("password_hash", "viewer_password_hash")
    @classmethod
    def _a_hash(cls, value: str | None) -> str | None:
        if value is not None and not is_hash(value):
            raise ValueError("not a scrypt hash: make one with `monitor console-password`")
        return value


class ConfigModel(StrictModel):
    database: str = "sqlite:///monitor.db"
    rules: str | list[str] = "rules/"
    templates: str | None = None
    allow_private_networks: bool = False
    first_poll_max_age: str = "48h"
    feed_health_after: int = Field(5, ge=1)
    respect_robots_txt: bool = True
    alert_settle: str = "10s"
    feeds: list[FeedModel] = Field(min_length=1)
    smtp: SmtpModel | None = None
    http: HttpModel | None = None
    console: ConsoleModel | None = None
    subscriptions: list[SubscriptionModel] = []

    _check_age = field_validator("first_poll_max_age", "alert_settle")(_duration)


def address_problem(address: str, *, local_domains: bool = False) -> str | None:
    """Why `address` is no email address (None when it is one). With `local_domains`, a
    special-use domain such as `localhost` is accepted (a sender on the SMTP host itself)."""
    try:
        validate_email(
            address,
            check_deliverability=False,  # no DNS at load time
            globally_deliverable=False,  # internal domains serve self-hosted desks
            test_environment=True,
        )
    except EmailNotValidError as exc:
        local, at, domain = address.rpartition("@")
        if local_domains and at and "." not in domain and domain.isalnum():
            return address_problem(f"{local}@example.org")
        return f"invalid email address {address!r}: {exc}"
    return None


def url_problem(url: str) -> str | None:
    """Why `url` is no http(s) URL a request can be sent to (None when it is one)."""
    if not url or any(c.isspace() or ord(c) < 32 for c in url):
        return (
            "is empty or holds spaces" if not url.strip() else "holds spaces or control characters"
        )
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a port that is no number)
    except ValueError as exc:
        return f"is not a valid URL ({exc})"
    if parts.scheme not in ("http", "https"):
        return "is not an http:// or https:// URL"
    if not parts.hostname:
        return "has no host"
    return None


# -- the resolved configuration handed to the rest of the program ---------------------------


@dataclass(frozen=True)
class FeedConfig:
    url: str
    interval: timedelta
    tags: tuple[str, ...]
    first_poll_max_age: timedelta


@dataclass(frozen=True)
class WebhookTarget:
    url: str
    format: str
    secret: str | None


@dataclass(frozen=True)
class HttpConfig:
    host: str
    port: int
    public_url: str | None
    secret: bytes | None


@dataclass(frozen=True)
class ConsoleConfig:
    """What each role's password is: a scrypt hash, or the password itself (from the
    environment); `viewer` None when there is no read-only login."""

    operator: str
    viewer: str | None = None
    corpus: Path | None = None


@dataclass(frozen=True)
class SubscriptionConfig:
    name: str
    rules: tuple[str, ...]
    tags: tuple[str, ...]
    schedule: Schedule
    email: tuple[str, ...] = ()
    webhook: WebhookTarget | None = None
    # where each of `rules` and `tags` is written, for errors about what matches nothing
    rule_locations: tuple[Problem, ...] = ()
    tag_locations: tuple[Problem, ...] = ()

    def wants(self, rule: str, tags: tuple[str, ...]) -> bool:
        return rule in self.rules or bool(set(self.tags) & set(tags))


@dataclass(frozen=True)
class Config:
    path: Path | None
    database_url: str
    rule_paths: tuple[Path, ...]
    templates_dir: Path | None
    allow_private_networks: bool
    feed_health_after: int
    respect_robots_txt: bool
    alert_settle: timedelta
    feeds: tuple[FeedConfig, ...]
    smtp: SmtpSettings | None
    subscriptions: tuple[SubscriptionConfig, ...]
    http: HttpConfig | None = None
    console: ConsoleConfig | None = None
    # where the database URL is written (`monitor.yaml:1:11: database`, or at 1:1 for the
    # default); None when it comes from MONITOR_DATABASE_URL
    database_at: Problem | None = None

    @property
    def database_origin(self) -> str:
        """How a message about the database starts: where its URL comes from."""
        return str(self.database_at) if self.database_at else "MONITOR_DATABASE_URL"


@dataclass(frozen=True)
class ConfigInspection:
    """Everything found in a config file: the config as far as it resolves (None when the
    file is no YAML mapping), every problem, and the top-level keys that have one (what
    depends on them, like reaching the database, is not checked further)."""

    config: Config | None
    problems: list[Problem]
    broken: frozenset[str]


def load_config(path: Path, environ: Mapping[str, str] | None = None) -> Config:
    """Read, validate and resolve a config file; raise ConfigError with every problem found."""
    found = inspect_config(path, environ)
    if found.problems or found.config is None:
        raise ConfigError(found.problems)
    return found.config


def inspect_config(path: Path, environ: Mapping[str, str] | None = None) -> ConfigInspection:
    """Read, validate and resolve a config file, collecting every problem: `${VAR}`s that are
    not set, then schema problems, then the rest (for the parts that passed the schema)."""
    environ = os.environ if environ is None else environ
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problem = Problem(str(path), 1, 1, f"cannot read config ({exc})")
        return ConfigInspection(None, [problem], frozenset())
    data, locator, problems = load_yaml(text, str(path))
    if problems:
        return ConfigInspection(None, problems, frozenset())
    if not isinstance(data, dict):
        problem = locator.problem((), "a config file is a mapping with at least 'feeds:'")
        return ConfigInspection(None, [problem], frozenset())
    unset: list[PathKey] = []
    data = _expand_env(data, (), environ, locator, problems, unset)
    broken = {str(at[0]) for at in unset if at}
    feed_index: list[int] | None = None
    sub_index: list[int] | None = None
    try:
        model = ConfigModel.model_validate(data)
    except ValidationError as exc:
        # a value whose variable is not set is reported once, for the variable
        said = {(p.line, p.col) for p in problems}
        problems.extend(p for p in located_errors(exc, locator) if (p.line, p.col) not in said)
        broken |= {str(loc[0]) for e in exc.errors() if (loc := data_loc(e["loc"]))}
        model, feed_index, sub_index = _salvage(data, exc)
    config = _resolve(
        model, path, environ, locator, problems, broken, feed_index, sub_index, "database" in data
    )
    return ConfigInspection(config, problems, frozenset(broken))


def _salvage(
    data: dict[Any, Any], exc: ValidationError
) -> tuple[ConfigModel, list[int], list[int]]:
    """A config model of what validates: top-level keys in error are left at their defaults;
    feeds and subscriptions are kept without their keys in error when they validate so (with
    their indexes in the file, for locating what `_resolve` finds)."""
    in_error: dict[Any, set[Any]] = {}  # top-level key -> the items' keys in error
    for error in exc.errors():
        loc = data_loc(error["loc"])
        if loc:
            keys = in_error.setdefault(loc[0], set())
            if len(loc) >= 3 and isinstance(loc[1], int):
                keys.add((loc[1], loc[2]))
    rest = {
        k: v for k, v in data.items() if k not in in_error and k not in ("feeds", "subscriptions")
    }
    model = ConfigModel.model_validate({**rest, "feeds": [{"url": "http://placeholder"}]})
    feeds = _valid_items(data.get("feeds"), FeedModel, in_error.get("feeds", set()))
    subs = _valid_items(
        data.get("subscriptions"), SubscriptionModel, in_error.get("subscriptions", set())
    )
    model = model.model_copy(
        update={"feeds": [m for _, m in feeds], "subscriptions": [m for _, m in subs]}
    )
    return model, [i for i, _ in feeds], [i for i, _ in subs]


def _valid_items(items: Any, model: type[M], in_error: set[Any]) -> list[tuple[int, M]]:
    valid: list[tuple[int, M]] = []
    for index, item in enumerate(items if isinstance(items, list) else ()):
        if isinstance(item, dict):
            item = {k: v for k, v in item.items() if (index, k) not in in_error}
        try:
            valid.append((index, model.model_validate(item)))
        except ValidationError:
            pass
    return valid


def _expand_env(
    value: Any,
    at: PathKey,
    environ: Mapping[str, str],
    locator: Locator,
    problems: list[Problem],
    unset: list[PathKey],
) -> Any:
    """Replace ${VAR} in string values; a missing variable is an error at its place."""
    if isinstance(value, dict):
        return {
            k: _expand_env(v, at + (k,), environ, locator, problems, unset)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [
            _expand_env(v, at + (i,), environ, locator, problems, unset)
            for i, v in enumerate(value)
        ]
    if isinstance(value, str):

        def substitute(m: re.Match[str]) -> str:
            if m.group(1) not in environ:
                problems.append(
                    locator.problem(at, f"environment variable {m.group(1)} is not set")
                )
                unset.append(at)
                return ""
            return environ[m.group(1)]

        return _ENV_REF.sub(substitute, value)
    return value


def _resolve(
    model: ConfigModel,
    path: Path,
    environ: Mapping[str, str],
    locator: Locator,
    problems: list[Problem],
    broken: set[str] | None = None,
    feed_index: list[int] | None = None,
    sub_index: list[int] | None = None,
    database_written: bool = True,
) -> Config:
    base = path.parent.resolve()
    broken = broken or set()
    feed_at = feed_index if feed_index is not None else list(range(len(model.feeds)))
    sub_at = sub_index if sub_index is not None else list(range(len(model.subscriptions)))

    def secret(name: str | None, at: tuple[str | int, ...]) -> str | None:
        if name is None:
            return None
        if not environ.get(name):
            problems.append(locator.problem(at, f"environment variable {name} is not set"))
            return None
        return environ[name]

    smtp = None
    if model.smtp is not None:
        s = model.smtp
        for name, address in (("from", s.from_), ("unsubscribe_mailto", s.unsubscribe_mailto)):
            problem = _sender_problem(address) if address is not None else None
            if problem:
                problems.append(locator.problem(("smtp", name), f"smtp.{name}: {problem}"))
        smtp = SmtpSettings(
            host=s.host,
            port=s.port,
            starttls=s.starttls,
            use_tls=s.tls,
            username=s.username,
            password=secret(s.password_env, ("smtp", "password_env")),
            sender=s.from_,
            timeout=s.timeout,
            unsubscribe_mailto=s.unsubscribe_mailto or parseaddr(s.from_)[1] or None,
            dkim=_dkim(s, secret, locator, problems),
        )
    subscriptions = []
    names: set[str] = set()
    for i, sub in zip(sub_at, model.subscriptions, strict=True):
        at = ("subscriptions", i)
        if sub.name in names:
            problems.append(
                locator.problem(at + ("name",), f"duplicate subscription name '{sub.name}'")
            )
        names.add(sub.name)
        if sub.email is not None and smtp is None and "smtp" not in broken:
            problems.append(
                locator.problem(at + ("email",), "an email subscription needs an smtp: section")
            )
        webhook = None
        if sub.webhook is not None:
            w = sub.webhook
            url = w.url or secret(w.url_env, at + ("webhook", "url_env")) or ""
            if url:
                _check_webhook_url(w.url, w.url_env, url, at + ("webhook",), locator, problems)
            key = secret(w.secret_env, at + ("webhook", "secret_env"))
            if key is not None:
                try:
                    secret_key(key)
                except ValueError as exc:
                    where = at + ("webhook", "secret_env")
                    problems.append(locator.problem(where, f"{w.secret_env}: {exc}"))
            webhook = WebhookTarget(url, w.format, key)
        emails = (sub.email,) if isinstance(sub.email, str) else tuple(sub.email or ())
        subscriptions.append(
            SubscriptionConfig(
                sub.name,
                tuple(sub.rules),
                tuple(sub.tags),
                parse_schedule(sub.schedule),
                emails,
                webhook,
                tuple(locator.problem(at + ("rules", k), r) for k, r in enumerate(sub.rules)),
                tuple(locator.problem(at + ("tags", k), t) for k, t in enumerate(sub.tags)),
            )
        )
    default_age = parse_duration(model.first_poll_max_age)
    first_seen: dict[str, int] = {}
    for i, f in zip(feed_at, model.feeds, strict=True):
        if f.url in first_seen:
            problems.append(
                locator.problem(
                    ("feeds", i, "url"),
                    f"feed {f.url} is listed twice (first as feeds.{first_seen[f.url]})",
                )
            )
        first_seen.setdefault(f.url, i)
    feeds = tuple(
        FeedConfig(
            f.url,
            parse_duration(f.interval),
            tuple(f.tags),
            parse_duration(f.first_poll_max_age) if f.first_poll_max_age else default_age,
        )
        for f in model.feeds
    )
    rules = [model.rules] if isinstance(model.rules, str) else model.rules
    from_env = environ.get("MONITOR_DATABASE_URL")
    database_at = (
        None
        if from_env
        else locator.problem(("database",), "database")
        if database_written
        else Problem(str(path), 1, 1, f"database (default {model.database})")
    )
    return Config(
        path=path,
        database_url=resolve_database_url(from_env or model.database, base),
        rule_paths=tuple(base / r for r in rules),
        templates_dir=base / model.templates if model.templates else None,
        allow_private_networks=model.allow_private_networks,
        feed_health_after=model.feed_health_after,
        respect_robots_txt=model.respect_robots_txt,
        alert_settle=parse_duration(model.alert_settle),
        feeds=feeds,
        smtp=smtp,
        subscriptions=tuple(subscriptions),
        http=_http(model.http, environ, locator, problems),
        console=_console(model.console, environ, locator, problems, base),
        database_at=database_at,
    )


def _sender_problem(value: str) -> str | None:
    """Why an `smtp.from` (`Name <a@b>` or `a@b`) is no sender address, or None."""
    name, address = parseaddr(value)
    if not address or "@" not in address:
        return (
            f"{value!r} is not an email address "
            "(expected alerts@example.org or News Monitor <alerts@example.org>)"
        )
    return address_problem(address, local_domains=True)


def _check_webhook_url(
    written: str | None,
    env: str | None,
    url: str,
    at: PathKey,
    locator: Locator,
    problems: list[Problem],
) -> None:
    problem = url_problem(url)
    if problem is None:
        return
    if written is not None:
        problems.append(locator.problem(at + ("url",), f"webhook url {url!r} {problem}"))
    else:  # a chat webhook URL is a secret: said without its value
        problems.append(locator.problem(at + ("url_env",), f"{env}: the webhook URL {problem}"))


def _dkim(
    smtp: SmtpModel,
    secret: Callable[[str | None, tuple[str | int, ...]], str | None],
    locator: Locator,
    problems: list[Problem],
) -> DkimSettings | None:
    if smtp.dkim is None:
        return None
    at = ("smtp", "dkim", "private_key_env")
    key = (secret(smtp.dkim.private_key_env, at) or "").encode()
    if key:
        from dkim.crypto import UnparsableKeyError, parse_pem_private_key

        try:
            parse_pem_private_key(key)
        except UnparsableKeyError as exc:  # found now, not as a dead letter per email
            problems.append(
                locator.problem(at, f"{smtp.dkim.private_key_env} is not a PEM private key ({exc})")
            )
    return DkimSettings(smtp.dkim.domain, smtp.dkim.selector, key)


def _console(
    model: ConsoleModel | None,
    environ: Mapping[str, str],
    locator: Locator,
    problems: list[Problem],
    base: Path,
) -> ConsoleConfig | None:
    if model is None:
        return None
    operator = model.password_hash or environ.get(model.password_env)
    if not operator:
        where = (
            ("console", "password_hash")
            if "password_hash" in model.model_fields_set
            else ("console",)
        )
        problems.append(
            locator.problem(
                where,
                f"the console needs a password: set {model.password_env} or console.password_hash",
            )
        )
        return None
    viewer = model.viewer_password_hash
    if viewer is None and model.viewer_password_env:
        viewer = environ.get(model.viewer_password_env)
        if not viewer:
            problems.append(
                locator.problem(
                    ("console", "viewer_password_env"),
                    f"environment variable {model.viewer_password_env} is not set",
                )
            )
    return ConsoleConfig(operator, viewer or None, base / model.corpus if model.corpus else None)


def _http(
    model: HttpModel | None, environ: Mapping[str, str], locator: Locator, problems: list[Problem]
) -> HttpConfig | None:
    if model is None:
        return None
    host, _, port = model.listen.rpartition(":")
    if not 0 < int(port) < 65536:
        problems.append(locator.problem(("http", "listen"), f"port {port} is out of range"))
    secret = environ.get(model.secret_env)
    if model.public_url and not secret:
        problems.append(
            locator.problem(
                ("http", "public_url"),
                f"unsubscribe links need a signing key: set {model.secret_env}",
            )
        )
    return HttpConfig(
        host.strip("[]") or "127.0.0.1",
        int(port),
        model.public_url.rstrip("/") if model.public_url else None,
        secret.encode() if secret else None,
    )


def resolve_database_url(url: str, base: Path) -> str:
    """Relative SQLite paths resolve against the config folder; postgresql:// gets our driver."""
    if (
        url.startswith("sqlite:///")
        and not url.startswith("sqlite:////")
        and url != "sqlite:///:memory:"
    ):
        return "sqlite:///" + str(base / url[len("sqlite:///") :])
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url
