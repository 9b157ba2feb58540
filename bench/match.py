"""Matcher throughput at 10 to 10,000 rules, against a naive baseline in the same run.

The baseline is what a first attempt looks like: every rule evaluated on every article, each
term a precompiled regular expression searched over the text. Ours tokenises once, runs the
one-pass prefilter and evaluates only candidate rules. Rules are generated (seeded) in the
shapes operators write: keyword lists, all/none combinations, proximity, figures and places;
their words come from real reporting (the seed pages) and from a large pool of rarer words,
as real rule sets mostly name things an article does not mention.

Prints a table, then one JSON line: {"bench": "match", "rows": [...], "goals": {...}}.
"""

from __future__ import annotations

import gc
import json
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.extract.article import Extracted, extract_html  # noqa: E402
from monitor.models import Article  # noqa: E402
from monitor.resources import seeds_dir  # noqa: E402
from monitor.rules.compile import CompiledRule, Compiler  # noqa: E402
from monitor.rules.match import ALL_FIELDS, RuleSet, article_parts, match_article  # noqa: E402
from monitor.rules.schema import RuleFileSpec  # noqa: E402
from monitor.rules.text import Document, tokenize  # noqa: E402
from monitor.yamlsrc import Locator  # noqa: E402

RULE_COUNTS = (10, 100, 1_000, 10_000)
MIN_SECONDS = 1.5  # per measurement: repeat the corpus until at least this long
SYLLABLES = "ka lo mi ren tu sa vel dor an is ur bel mar tin gal or ep sun zi hal".split()


def corpus() -> list[Article]:
    """The seed pages plus articles mixed from their sentences and invented names."""
    pages = [seeds_dir() / "mee-syria-envoy.html", *sorted((seeds_dir() / "pages").glob("*.html"))]
    texts = []
    for page in pages:
        extracted = extract_html(page.read_bytes(), "https://www.middleeasteye.net/news/x")
        assert isinstance(extracted, Extracted)
        texts.append((extracted.title or "", extracted.text))
    sentences = [s for _, text in texts for s in re.split(r"(?<=[.!?])\s+", text)]
    rng = random.Random(7)
    articles = [
        Article(url=f"https://example.org/{i}", title=t, text=x) for i, (t, x) in enumerate(texts)
    ]
    for i in range(15):
        body = " ".join(rng.choice(sentences) for _ in range(25))
        names = " ".join(_pseudo_word(rng).capitalize() for _ in range(10))
        articles.append(
            Article(
                url=f"https://example.org/m{i}",
                title=rng.choice(sentences)[:80],
                text=f"{body} Officials named {names}.",
            )
        )
    return articles


def _pseudo_word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))


def generate_rules(count: int, real_words: list[str], seed: int = 1) -> list[dict]:
    """Rule words are drawn uniformly from a 20,000-word vocabulary that contains every word of
    the corpus: a rule word occurs in an article about as often as in real rule sets."""
    rng = random.Random(seed)
    vocabulary = real_words + [_pseudo_word(rng) for _ in range(max(0, 20_000 - len(real_words)))]

    def word() -> str:
        return rng.choice(vocabulary)

    def term() -> str:
        roll = rng.random()
        if roll < 0.6:
            return word()
        if roll < 0.8:
            return word()[:5] + "*"
        return f"{word()} {word()}"

    rules = []
    for i in range(count):
        shape = i % 5
        if shape == 0:
            match = {"any": [term() for _ in range(rng.randint(2, 6))]}
        elif shape == 1:
            match = {
                "all": [{"any": [term(), term()]}, {"any": [term(), term(), term()]}],
                "none": [term()],
            }
        elif shape == 2:
            match = {"near": {"terms": [[term()], [term(), term()]], "within": 5}}
        elif shape == 3:
            match = {"figure": {"near": [term(), term()], "within": 8, "at_least": 100}}
        else:
            match = {
                "all": [
                    {"any": [term(), term()]},
                    {
                        "place": {
                            "near": [term(), term()],
                            "within": 6,
                            "in": ["$capitals"],
                            "as": "where",
                        }
                    },
                ]
            }
        rules.append({"id": f"rule-{i}", "match": match})
    return rules


def compile_rules(rules: list[dict]) -> RuleSet:
    spec = RuleFileSpec.model_validate({"rules": rules})
    problems: list = []
    compiler = Compiler({}, Locator("bench"), problems)
    compiled = [
        CompiledRule(r, compiler.node(r.match, ("rules", i, "match")), "bench")
        for i, r in enumerate(spec.rules)
    ]
    assert not problems, problems[:3]
    return RuleSet(tuple(compiled))


# -- the naive baseline ------------------------------------------------------------------------

CAPITALS_RE = re.compile(
    r"\b(?:Moscow|Washington|Paris|London|Beijing|Cairo|Riyadh|Tehran|Damascus|Ankara)\b"
)
NUMBER_RE = re.compile(r"\b\d[\d,.]*\b")


def _regex(term: str) -> re.Pattern[str]:
    parts = []
    for piece in term.split():
        if piece == "*":
            parts.append(r"\w+")
        elif piece.endswith("*"):
            parts.append(re.escape(piece[:-1]) + r"\w*")
        else:
            parts.append(re.escape(piece))
    return re.compile(r"\b" + r"\W+".join(parts) + r"\b", re.IGNORECASE)


def naive_compile(node: dict | str):
    """A rule as nested closures over precompiled regexes: one search per term per rule."""
    if isinstance(node, str):
        pattern = _regex(node)
        return lambda text: pattern.search(text) is not None
    checks = []
    for key, value in node.items():
        if key in ("any", "all", "none"):
            children = [naive_compile(v) for v in value]
            combine = {"any": any, "all": all, "none": lambda xs: not any(xs)}[key]
            checks.append(lambda text, c=children, f=combine: f(child(text) for child in c))
        elif key == "near":
            groups = [[naive_compile(t) for t in group] for group in value["terms"]]
            checks.append(lambda text, g=groups: all(any(t(text) for t in group) for group in g))
        elif key == "figure":
            triggers = [naive_compile(t) for t in value["near"]]
            checks.append(
                lambda text, t=triggers: (
                    any(x(text) for x in t) and NUMBER_RE.search(text) is not None
                )
            )
        elif key == "place":
            triggers = [naive_compile(t) for t in value["near"]]
            checks.append(
                lambda text, t=triggers: (
                    any(x(text) for x in t) and CAPITALS_RE.search(text) is not None
                )
            )
    return lambda text: all(check(text) for check in checks)


def rate(fn, articles: list[Article]) -> float:
    """Articles per second, repeating the corpus for at least MIN_SECONDS."""
    done, start = 0, time.perf_counter()
    while True:
        for article in articles:
            fn(article)
            done += 1
            elapsed = time.perf_counter() - start
            if elapsed >= MIN_SECONDS and done >= len(articles) // 4:
                return done / elapsed


ROW = "{:>7} {:>12} {:>12} {:>9} {:>11} {:>11}"


def measure(count: int, articles: list[Article], real_words: list[str]) -> dict[str, float]:
    specs = generate_rules(count, real_words)
    ruleset = compile_rules(specs)
    naive = [naive_compile(s["match"]) for s in specs]
    gc.freeze()  # as the worker does after loading rules: long-lived objects leave the GC's scans
    ours = rate(lambda a: match_article(a, ruleset), articles)
    baseline = rate(lambda a: [r(f"{a.title}\n{a.summary}\n{a.text}") for r in naive], articles)
    gc.unfreeze()
    vocabularies = [Document(article_parts(a, ALL_FIELDS)).positions for a in articles]
    candidates = sum(len(ruleset.prefilter.candidates(v)) for v in vocabularies) / len(articles)
    return {
        "rules": count,
        "articles_per_s": round(ours, 1),
        "baseline_articles_per_s": round(baseline, 2),
        "candidates_per_article": round(candidates, 1),
    }


def main() -> None:
    articles = corpus()
    # content words only: no operator writes a rule on "said" or "with", so words found in more
    # than a quarter of the articles are left out, as document-frequency stop words
    seen_in = Counter(w for a in articles for w in set(tokenize(a.text)))
    real_words = sorted(w for w, n in seen_in.items() if w.isalpha() and n <= len(articles) // 4)
    print(ROW.format("rules", "articles/s", "baseline/s", "speed-up", "ms/article", "candidates"))
    rows = []
    for count in RULE_COUNTS:
        row = measure(count, articles, real_words)
        rows.append(row)
        ours, baseline = row["articles_per_s"], row["baseline_articles_per_s"]
        print(
            ROW.format(
                count,
                ours,
                baseline,
                f"{ours / baseline:.1f}x",
                f"{1000 / ours:.2f}",
                row["candidates_per_article"],
            )
        )
    by_count = {r["rules"]: r for r in rows}
    speedup_1000 = by_count[1000]["articles_per_s"] / by_count[1000]["baseline_articles_per_s"]
    growth = by_count[1000]["articles_per_s"] / by_count[10_000]["articles_per_s"]
    goals = {
        "speedup_at_1000": round(speedup_1000, 1),
        "speedup_goal": 50,
        "speedup_met": speedup_1000 >= 50,
        "time_growth_1000_to_10000": round(growth, 2),
        "growth_goal": 3,
        "growth_met": growth < 3,
    }
    print(json.dumps({"bench": "match", "articles": len(articles), "rows": rows, "goals": goals}))


if __name__ == "__main__":
    main()
