"""news-monitor: poll feeds, extract articles, match watch rules, deliver digests."""

__version__ = "0.1.0"
