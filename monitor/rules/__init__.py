"""The rule language: schema (validation), load (files, locations), compile (closures and the
prefilter), match (pure evaluation), with figures, places and text as its vocabulary.
The language itself is documented in docs/rules.md."""

# Alerts the worker raises itself, which subscriptions name like rule ids.
FEED_HEALTH = "feed-health"
BUILTIN_RULES = (FEED_HEALTH,)
