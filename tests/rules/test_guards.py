"""Source guards and the JSON Schema of rule files."""

import json
from datetime import UTC, datetime, timedelta

import jsonschema
import pytest
import yaml

from monitor.models import Article
from monitor.resources import rules_dir
from monitor.rules.load import load_rules, rule_files
from monitor.rules.match import match_article
from monitor.rules.schema import RuleFileSpec

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
GUARDED = """\
rules:
  - id: guarded
    match: {any: [ceasefire]}
    sources: {tags: [mideast], domains: [example.org], exclude_domains: [blog.example.org]}
    languages: [en]
    max_age: 3d
"""


@pytest.fixture
def guarded(tmp_path):
    (tmp_path / "g.yaml").write_text(GUARDED)
    return load_rules([tmp_path])


@pytest.mark.parametrize(
    "changes, matched",
    [
        ({}, True),
        ({"url": "https://news.example.org/a"}, True),  # subdomains belong to their domain
        ({"url": "https://blog.example.org/a"}, False),  # excluded
        ({"url": "https://example.com/a"}, False),  # not a listed domain
        ({"tags": ("africa",)}, False),  # the feed lacks the tag
        ({"language": "fr"}, False),
        ({"language": "en-GB"}, True),
        ({"language": None}, True),  # unknown language is not excluded
        ({"published": NOW - timedelta(days=4)}, False),  # too old
        ({"published": None}, True),
    ],
    ids=str,
)
def test_source_guards(guarded, changes, matched):
    fields = {
        "url": "https://example.org/a",
        "title": "",
        "text": "A ceasefire holds.",
        "tags": ("mideast",),
        "language": "en",
        "published": NOW - timedelta(days=1),
    }
    article = Article(**{**fields, **changes})
    assert bool(match_article(article, guarded, now=NOW)) is matched


def test_shipped_rules_validate_against_the_published_schema():
    schema = RuleFileSpec.model_json_schema(by_alias=True)
    jsonschema.Draft202012Validator.check_schema(schema)
    for path in rule_files([rules_dir()]):
        jsonschema.validate(yaml.safe_load(path.read_text()), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(
            {"rules": [{"id": "x", "match": {"any": ["a"]}, "severty": "high"}]}, schema
        )
    json.dumps(schema)  # what `monitor rules schema` prints


def test_fields_restrict_where_a_rule_looks(tmp_path):
    (tmp_path / "f.yaml").write_text(
        "rules:\n  - id: t\n    fields: [title]\n    match: {any: [ceasefire]}\n"
    )
    rules = load_rules([tmp_path])
    assert match_article(Article(url="u", title="Ceasefire holds", text="Quiet."), rules)
    assert not match_article(Article(url="u", title="Quiet", text="A ceasefire holds."), rules)
