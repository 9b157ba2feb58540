import textwrap

from monitor.resources import rules_dir
from monitor.rules.lint import lint_rules
from monitor.rules.load import parse_rule_files


def test_shipped_rules_have_no_warnings():
    assert lint_rules(parse_rule_files([rules_dir()], [])) == []


def test_warnings_name_the_place_and_the_reason(tmp_path):
    path = tmp_path / "w.yaml"
    path.write_text(
        textwrap.dedent("""\
        rules:
          - id: contradictory
            match:
              all: [truce]
              none: [truce, "/x*/"]
            alert: new-figure
            key: place
        """)
    )
    assert [
        str(w).replace(str(path), "w.yaml") for w in lint_rules(parse_rule_files([tmp_path], []))
    ] == [
        "w.yaml:2:9: warning: rule 'contradictory' has no examples: `monitor rules test` cannot check it",
        "w.yaml:6:12: warning: alert: new-figure, but the rule has no figure: every match alerts",
        "w.yaml:7:10: warning: key: 'place' is not the `as` of any place or figure in this rule",
        "w.yaml:5:14: warning: 'truce' is both required and excluded: the node never holds",
        "w.yaml:5:21: warning: /x*/ matches the empty string, so every document",
    ]
