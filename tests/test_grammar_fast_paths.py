"""The regex fast paths accept a subset of each grammar and read it the same.

grammar/__init__.py promises this; here hypothesis holds it to it, on strings
drawn from the characters that matter to each language."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from iamlogic import grammar
from iamlogic.grammar import (
    _ACTION_FAST, _ARN_FAST, _VARIABLE_FAST, _lark_action, _lark_resource, _lark_variable,
    parse_action, parse_operator, parse_resource, parse_template, parse_variable,
)

ACTION_ALPHABET = st.sampled_from(list("s3ec2:Get*?._- A$"))
ARN_ALPHABET = st.sampled_from(["arn", ":", "aws", "s3", "*", "?", "$", "{", "}", "${aws:username}", "b", "/", "-", "${*}", " "])


@settings(max_examples=500, deadline=None)
@given(st.text(ACTION_ALPHABET, max_size=14))
def test_action_fast_path_agrees_with_grammar(text):
    # Outside the fast path's subset the grammar decides alone: an entry IAM
    # stores but that names no action ("iam: asdf", "s3:") is read, flagged.
    assert parse_action(text) == (_lark_action(text) if text != "*" else (None, "*", True))
    if _ACTION_FAST.fullmatch(text):
        assert parse_action(text).names_action


@settings(max_examples=500, deadline=None)
@given(st.lists(ARN_ALPHABET, max_size=12).map("".join))
def test_resource_fast_path_agrees_with_grammar(text):
    fast = _ARN_FAST.fullmatch(text)
    if fast:
        assert parse_resource(text) == _lark_resource(text)
    # And a prefix "arn:" with six parts and no "$" is always fast-pathed, so
    # the grammar is only consulted for the unusual cases.
    parts = text.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn" and "$" not in text and parts[1] and parts[2]:
        assert fast


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"\$\{[A-Za-z0-9:/_.\-+=@ ,'*?$]{0,12}\}", fullmatch=True))
def test_variable_fast_path_agrees_with_grammar(text):
    if _VARIABLE_FAST.fullmatch(text):
        assert parse_variable(text) == _lark_variable(text)


def test_variable_grammar_reads_defaults_and_escapes():
    assert parse_variable("${aws:PrincipalTag/team, 'none'}") == grammar.VariableSyntax(
        "${aws:PrincipalTag/team, 'none'}", "aws:PrincipalTag/team", "none", None)
    assert parse_variable("${?}").escape == "?"
    assert parse_variable("${aws:username,'x'}").default == "x"
    assert parse_variable("${a b}") is None


def test_template_keeps_a_lone_dollar_literal():
    # MEASURED.md pitfall: "${aws:username}" must be one token, "$x" plain text.
    assert parse_template("a$b${aws:username}c") == ("a$b", parse_variable("${aws:username}"), "c")


def test_every_operator_name_reads():
    from iamlogic.kernel.operators import OPERATORS

    for name in OPERATORS:
        for qualifier in (None, "ForAnyValue", "ForAllValues"):
            for if_exists in (False, True):
                text = (f"{qualifier}:" if qualifier else "") + name + ("IfExists" if if_exists else "")
                assert parse_operator(text) == grammar.OperatorSyntax(qualifier, name, if_exists), text
    assert parse_operator("StringEqualsIgnoreCaseIfExists").base == "StringEqualsIgnoreCase"
    for bad in ("ForAnyValue::StringEquals", "stringequals", "StringEqualsIfExistsIfExists", "ForSomeValue:Bool", ""):
        assert parse_operator(bad) is None, bad
