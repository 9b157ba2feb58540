"""Figures as real reporting writes them, and the traps that must never count."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.rules.figures import judge_numbers, numbers_in, to_figures
from monitor.rules.text import Document

TRIGGERS = ("displac", "uproot", "evacuat", "fled", "homeless")


def figures(text: str, within: int = 8) -> list[tuple[int, str, str | None, bool]]:
    doc = Document([("text", text)])
    triggers = [(i, i + 1) for i, t in enumerate(doc.tokens) if t.norm.startswith(TRIGGERS)]
    found = []
    for sentence in range(len(doc.sentences)):
        idx = [i for i, t in enumerate(doc.tokens) if t.sentence == sentence]
        if idx:
            verdicts = judge_numbers(
                doc, idx[0], idx[-1] + 1, [t for t in triggers if t[0] in idx], within
            )
            found += [
                (f.value, f.text, f.qualifier, f.approximate)
                for v in verdicts
                if v.trigger is not None
                for f in to_figures(v.number)
            ]
    return found


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "Russian strikes have displaced 40,000 people since 30 September.",
            [(40000, "40,000", None, False)],
        ),
        (
            "At least 40,000 people have been displaced in Syria.",
            [(40000, "40,000", "at least", False)],
        ),
        ("Clashes displaced 40 000 residents of the old city.", [(40000, "40 000", None, False)]),
        (
            "The floods have displaced 1.2 million people in Pakistan.",
            [(1200000, "1.2 million", None, False)],
        ),
        (
            "Some 1.5m Sudanese have fled to Chad, many of them now homeless.",
            [(1500000, "1.5m", "some", False)],
        ),
        ("Aid agencies say 40k people were uprooted.", [(40000, "40k", None, False)]),
        ("Forty thousand villagers were evacuated.", [(40000, "Forty thousand", None, False)]),
        (
            "Fighting has displaced more than half a million people.",
            [(500000, "half a million", "more than", False)],
        ),
        (
            "Tens of thousands of families were displaced by the storm.",
            [(10000, "Tens of thousands", None, True)],
        ),
        (
            "Nearly 3,000 families were evacuated from the coast.",
            [(3000, "3,000", "nearly", False)],
        ),
        (
            "Some 12,000 Syrians displaced by the quake crossed the border.",
            [(12000, "12,000", "some", False)],
        ),
        (
            "Officials said 500 internally displaced persons arrived on Monday.",
            [(500, "500", None, False)],
        ),
        (
            "The offensive displaced an estimated 250,000.",
            [(250000, "250,000", "an estimated", False)],
        ),
        ("The United Nations said 2,400 had been displaced.", [(2400, "2,400", None, False)]),
        (
            "The agency said 2,400 were registered and later displaced.",
            [],
        ),  # not the verb's subject
        ("Officials said 2000 people were displaced by the floods.", [(2000, "2000", None, False)]),
        (
            "The number of displaced people rose to 40,000 on Friday.",
            [(40000, "40,000", None, False)],
        ),
        (
            "The total number of people uprooted has reached 1.1 million.",
            [(1100000, "1.1 million", None, False)],
        ),
        ("The number of displaced people rose by 5% to 2015 levels.", []),
        # colons, months beside counts, ranges
        ("Sudan: 45,000 people displaced in a week", [(45000, "45,000", None, False)]),
        ("Gaza war: 1.9 million displaced, UN says", [(1900000, "1.9 million", None, False)]),
        (
            "Since October, 1.9 million people have been displaced.",
            [(1900000, "1.9 million", None, False)],
        ),
        ("By June, 80,000 people had been displaced.", [(80000, "80,000", None, False)]),
        (
            "Officials warned that 50,000 may be displaced by the dam.",
            [(50000, "50,000", None, False)],
        ),
        (
            "Between 10,000-15,000 people have been displaced.",
            [(10000, "10,000-15,000", "between", False), (15000, "15,000", "between", False)],
        ),
        (
            "Fighting displaced 200 to 300 families.",
            [(200, "200 to 300", None, False), (300, "300", None, False)],
        ),
        (
            "Sixty to seventy thousand people have been displaced by the fighting.",
            [
                (60000, "Sixty to seventy thousand", None, False),
                (70000, "seventy thousand", None, False),
            ],
        ),
        (
            "Between 1.5 and 2 million people have been displaced.",
            [
                (1500000, "1.5 and 2 million", "between", False),
                (2000000, "2 million", "between", False),
            ],
        ),
        (
            "The number of displaced people rose from 20,000 to 40,000.",
            [(40000, "40,000", None, False)],
        ),
        (
            "Between 200 and 300 families were displaced.",
            [(200, "200 and 300", "between", False), (300, "300", "between", False)],
        ),
        # a death toll beside the trigger is not its figure
        ("Some 2,400 had been displaced; 300 were killed.", [(2400, "2,400", "some", False)]),
        ("Thousands of people were displaced, 300 were killed.", [(1000, "Thousands", None, True)]),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_figures_found(text, expected):
    assert figures(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "In 2015 people displaced by the war returned home.",  # a year
        "Since 2011 families displaced by the war have lived in camps.",  # a year
        "They were displaced on 30 September and again in October.",  # a date
        "Residents displaced at 10:30 on Monday.",  # a time
        "Prices rose 40% as people displaced by the war arrived.",  # a percentage
        "The displaced families received $40,000 in aid.",  # money
        "Displaced families received 40,000 dollars.",  # money in words
        "The 40,000th displaced person was registered.",  # an ordinal
        "A 40-year-old man displaced by the floods spoke to us.",  # an age
        "The displaced mother, aged 35, fled.",  # an age
        "Call +44 20 7946 0958 if you were displaced.",  # a phone number
        "The war has killed 400,000 people, the displaced say.",  # a death toll
        "They were displaced 10 years ago.",  # a duration
        "The striker displaced his shoulder in front of 40,000 fans.",  # not people
    ],
)
def test_never_a_figure(text):
    assert figures(text) == []


def test_death_toll_beside_displacement_counts_only_the_displaced():
    text = "The war has killed 400,000 people and displaced millions more."
    assert figures(text) == [(1000000, "millions", None, True)]


@given(st.text())
def test_number_parser_never_crashes(text):
    doc = Document([("text", text)])
    numbers_in(doc, 0, len(doc.tokens))


def test_decimal_millions_are_whole_counts():
    assert figures("The number of people displaced by the conflict has risen to 8.2 million.") == [
        (8200000, "8.2 million", None, False)
    ]
