"""Rule files: every problem reported as path:line:col: message, and the shipped rules' examples."""

import textwrap

import pytest

from monitor.errors import RuleError
from monitor.resources import rules_dir
from monitor.rules.examples import run_examples
from monitor.rules.load import compile_rule_files, load_rules, parse_rule_files


def problems(tmp_path, text, name="bad.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    with pytest.raises(RuleError) as info:
        load_rules([tmp_path])
    return [str(p).replace(str(path), name) for p in info.value.problems]


def test_shipped_rules_load_and_their_examples_pass(shipped_rules):
    assert {"displacement-figures", "envoy-travel", "ceasefire"} <= set(shipped_rules.ids)
    results = run_examples(shipped_rules)
    assert len(results) >= 15
    assert [r for r in results if not r.passed] == []


def test_unknown_key_names_the_key_and_its_place(tmp_path):
    assert problems(
        tmp_path,
        """\
        rules:
          - id: x
            match: {any: [a]}
            severty: high
        """,
    ) == ["bad.yaml:4:5: unknown key 'severty' in rules.0"]


def test_bad_regex_unknown_list_and_missing_match(tmp_path):
    found = problems(
        tmp_path,
        """\
        rules:
          - id: one
            match:
              any: ["/(unclosed/", $nope]
          - id: two
            title: No match here
        """,
    )
    # schema errors first, then what compiling the rest of the file finds, in the same run
    assert found == [
        "bad.yaml:5:5: missing required key 'match' in rules.1",
        "bad.yaml:4:13: invalid regular expression /(unclosed/ (missing ): (unclosed)",
        "bad.yaml:4:28: unknown list '$nope' (define it under lists:)",
    ]


def test_an_unknown_key_hides_nothing_else_of_its_rule_or_file(tmp_path):
    (tmp_path / "a.yaml").write_text("rules:\n  - id: dup\n    match: {any: [a]}\n")
    found = problems(
        tmp_path,
        """\
        lists:
          moves: [travel*, 7]
        rules:
          - id: dup
            severty: high
            severity: urgent
            match:
              any: ["/(unclosed/", $nope, $moves]
              colour: red
          - id: other
            tags: humanitarian
            match: {all: ["/[z-a]/"]}
          - id: Bad Id
            match: {any: [$missing]}
        """,
        name="b.yaml",
    )
    assert found == [
        "b.yaml:2:20: lists.moves.1: Input should be a valid string",
        "b.yaml:6:15: rules.0.severity: Input should be 'info', 'low', 'medium', 'high' or 'critical'",
        "b.yaml:9:7: unknown key 'colour' in rules.0.match",
        "b.yaml:5:5: unknown key 'severty' in rules.0",
        "b.yaml:11:11: rules.1.tags: Input should be a valid list",
        "b.yaml:13:9: rules.2.id: String should match pattern '^[a-z0-9]+(-[a-z0-9]+)*$'",
        # what compiling the rest finds: the duplicate id, and each rule's terms and lists
        f"b.yaml:4:9: duplicate rule id 'dup' (first defined in {tmp_path / 'a.yaml'})",
        "b.yaml:8:13: invalid regular expression /(unclosed/ (missing ): (unclosed)",
        "b.yaml:8:28: unknown list '$nope' (define it under lists:)",
        "b.yaml:12:19: invalid regular expression /[z-a]/ (invalid character class range: z-a)",
        "b.yaml:14:19: unknown list '$missing' (define it under lists:)",
    ]


def test_a_salvaged_rule_is_compiled_but_never_loaded(tmp_path):
    (tmp_path / "r.yaml").write_text(
        "rules:\n  - id: one\n    match: {any: ['/(x/']}\n    colour: red\n"
    )
    problems: list = []
    [parsed] = parse_rule_files([tmp_path], problems)
    [rule] = parsed.rules
    assert (rule.id, rule.valid) == ("one", False)
    assert list(parsed.valid_rules()) == []
    with pytest.raises(RuleError) as info:
        compile_rule_files([parsed], problems)
    assert [p.message for p in info.value.problems] == [
        "unknown key 'colour' in rules.0",
        "invalid regular expression /(x/ (missing ): (x)",
    ]


def test_semantic_errors_after_validation(tmp_path):
    found = problems(
        tmp_path,
        """\
        rules:
          - id: one
            match:
              any: ["/(unclosed/", $nope]
        """,
    )
    assert found == [
        "bad.yaml:4:13: invalid regular expression /(unclosed/ (missing ): (unclosed)",
        "bad.yaml:4:28: unknown list '$nope' (define it under lists:)",
    ]


def test_duplicate_ids_across_files(tmp_path):
    (tmp_path / "a.yaml").write_text("rules:\n  - id: same\n    match: {any: [a]}\n")
    (tmp_path / "b.yaml").write_text("rules:\n  - id: same\n    match: {any: [b]}\n")
    with pytest.raises(RuleError) as info:
        load_rules([tmp_path])
    [problem] = info.value.problems
    assert (problem.line, problem.col) == (2, 9)
    assert problem.message.startswith("duplicate rule id 'same' (first defined in")


def test_invalid_yaml_and_bad_id(tmp_path):
    assert problems(tmp_path, "rules:\n  - id: Not Kebab\n    match: {any: [a]}\n") == [
        "bad.yaml:2:9: rules.0.id: String should match pattern '^[a-z0-9]+(-[a-z0-9]+)*$'"
    ]
    assert problems(tmp_path, "rules: [\n")[0].startswith("bad.yaml:2:1: invalid YAML")


def test_yaml_is_loaded_safely(tmp_path):
    found = problems(tmp_path, "rules: !!python/object/apply:os.system ['true']\n")
    assert found == [
        "bad.yaml:1:8: unsupported YAML tag tag:yaml.org,2002:python/object/apply:os.system"
    ]


def test_failing_example_says_what_was_expected(tmp_path):
    (tmp_path / "r.yaml").write_text(
        textwrap.dedent("""\
        rules:
          - id: quake
            match: {figure: {near: [killed], within: 3}}
            examples:
              - text: "The quake killed 300 people."
                expect: {match: true, figures: [400]}
        """)
    )
    [result] = run_examples(load_rules([tmp_path]))
    assert result.failures == ("expected figures [400], got [300]",)


def test_shipped_rules_folder_is_found():
    assert (rules_dir() / "humanitarian.yaml").is_file()


def test_lists_can_name_other_lists(tmp_path):
    (tmp_path / "l.yaml").write_text(
        textwrap.dedent("""\
        lists:
          moves: [travel*, $flights]
          flights: [flew to, fly to]
        rules:
          - id: moving
            match: {any: [$moves]}
            examples:
              - text: "The envoy flew to Paris."
                expect: {match: true}
        """)
    )
    [result] = run_examples(load_rules([tmp_path]))
    assert result.passed


def test_list_cycles_and_unknown_references(tmp_path):
    found = problems(
        tmp_path,
        """\
        lists:
          a: [x, $b]
          b: [$a]
          c: [$nope]
        rules: []
        """,
    )
    assert "bad.yaml:3:7: lists refer to each other in a cycle (a -> b -> a)" in found
    assert "bad.yaml:4:7: unknown list '$nope'" in found


def test_empty_node_lists_are_errors(tmp_path):
    assert problems(tmp_path, "rules:\n  - id: x\n    match: {all: []}\n") == [
        "bad.yaml:3:18: rules.0.match.all: List should have at least 1 item after validation, not 0"
    ]


def test_case_exact_terms(tmp_path):
    (tmp_path / "c.yaml").write_text(
        textwrap.dedent("""\
        rules:
          - id: who
            match: {all: [{term: WHO, case: true}, {term: "U.S.", case: true}]}
            examples:
              - text: "The WHO and the U.S. agreed."
                expect: {match: true}
              - text: "Who knows what the U.S. wants?"
                expect: {match: false}
              - text: "The WHO met us."
                expect: {match: false}
        """)
    )
    assert all(r.passed for r in run_examples(load_rules([tmp_path])))


def test_yaml_alias_bombs_are_refused_quickly(tmp_path):
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 9)]
    found = problems(
        tmp_path, "lists:\n" + "\n".join("  " + line for line in levels) + "\nrules: []\n"
    )
    # one line per anchor, however often it is used (72 lines for this file before)
    assert found == [
        f"bad.yaml:{line}:7: YAML anchors and aliases (&name, *name) are not supported"
        for line in range(2, 10)
    ]


def test_word_forms_and_place_options_are_checked(tmp_path):
    found = problems(
        tmp_path,
        """\
        rules:
          - id: one
            match:
              any: ["~flee*", "~cease-fire"]
          - id: two
            match:
              place: {near: [~visit], in: [$cities], prepositions: [$nope], names: true}
        """,
    )
    assert found == [
        "bad.yaml:4:13: '~flee*' in term '~flee*': ~ takes one plain word (~flee)",
        "bad.yaml:4:23: '~cease-fire' in term '~cease-fire': ~ takes one plain word (~flee)",
        "bad.yaml:7:61: unknown list '$nope' (define it under lists:)",
        "bad.yaml:7:76: names: true needs with: (the terms a name follows)",
    ]


def test_a_rule_file_of_megabytes_is_refused_before_it_is_read(tmp_path):
    huge = tmp_path / "huge.yaml"
    huge.write_text("rules:\n" + "# padding\n" * 150_000)
    with pytest.raises(RuleError) as caught:
        load_rules([tmp_path])
    assert str(caught.value.problems[0]) == (
        f"{huge}:1:1: rule file is 1.5 MB, above the limit of 1 MB"
    )
