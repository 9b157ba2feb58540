"""Word forms: `~flee` in a rule means every inflection of the word (flee, flees, fled,
fleeing), so operators write the word once instead of listing its tenses.

The forms come from lemminflect's English dictionary (it ships its data; nothing is fetched),
expanded when rules compile, so matching stays exact word lookups.
"""

from __future__ import annotations

from functools import cache

import lemminflect

_PARTS_OF_SPEECH = ("VERB", "AUX", "NOUN", "ADJ")


@cache
def word_forms(word: str) -> frozenset[str]:
    """Every inflection of every lemma of `word` (folded), `word` included."""
    word = word.casefold()
    lemmas = {word} | {
        lemma for found in lemminflect.getAllLemmas(word).values() for lemma in found
    }
    forms = set(lemmas)
    for lemma in lemmas:
        for pos in _PARTS_OF_SPEECH:
            for inflected in lemminflect.getAllInflections(lemma, upos=pos).values():
                forms.update(f.casefold() for f in inflected)
    if len(forms) == 1:  # a word the dictionary does not know: the regular verb forms
        for inflected in lemminflect.getAllInflectionsOOV(word, upos="VERB").values():
            forms.update(f.casefold() for f in inflected)
    return frozenset(forms)
