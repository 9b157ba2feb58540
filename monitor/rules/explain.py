from __future__ import annotations
from dataclasses import dataclass, field
from datetime import datetime
from monitor.models import Article, Match
from monitor.rules.match import RuleSet

@dataclass
class Explanation:
    rule: str
    match: Match | None
    reasons: list[str] = field(default_factory=list)

def explain_article(article: Article, rules: RuleSet, *, only=None, now: datetime | None = None) -> list[Explanation]:
    return []
