"""`~word` terms: every inflection of a word, from lemminflect's dictionary."""

import pytest

from monitor.rules.forms import word_forms


@pytest.mark.parametrize(
    "word, forms",
    [
        ("flee", {"flee", "flees", "fled", "fleeing"}),
        ("fled", {"flee", "flees", "fled", "fleeing"}),
        ("seek", {"seek", "seeks", "sought", "seeking"}),
        ("be", {"is", "was", "were", "been", "being", "are", "am", "be"}),
        ("refugee", {"refugee", "refugees"}),
        ("travel", {"travel", "travels", "travelled", "traveled", "travelling", "traveling"}),
    ],
)
def test_word_forms(word, forms):
    assert forms <= word_forms(word)


def test_an_unknown_word_gets_the_regular_forms():
    assert {"blorf", "blorfed", "blorfing", "blorfs"} <= word_forms("blorf")
