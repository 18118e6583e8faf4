"""The two readers of a document — json.loads for values, the Lark grammar for
positions — must see the same document; and spans must be exact."""

from __future__ import annotations

import json

from hypothesis import given, settings, strategies as st

from iamlogic.grammar.source import Source
from iamlogic.translator.reader import _decode

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values, st.sampled_from([None, 0, 2]))
def test_grammar_and_json_loads_read_the_same_values(value, indent):
    text = json.dumps(value, indent=indent)
    assert Source(text).grammar_value() == json.loads(text)


@settings(max_examples=300, deadline=None)
@given(json_values, st.integers(0, 10_000), st.sampled_from(['"', "}", ",", "\\", "\x01", "]", "1", " ", "nul"]))
def test_grammar_and_json_loads_agree_on_what_is_json(value, where, insert):
    text = json.dumps(value)
    i = where % (len(text) + 1)
    broken = text[:i] + insert + text[i:]
    try:
        _decode(broken)
        json_ok = True
    except ValueError:
        json_ok = False
    try:
        Source(broken).grammar_value()
        grammar_ok = True
    except Exception:
        grammar_ok = False
    assert json_ok == grammar_ok, broken


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_every_value_span_covers_exactly_that_value(value):
    text = json.dumps({"root": value}, indent=1)
    source = Source(text)
    stack = [(("root",), value)]
    while stack:
        path, v = stack.pop()
        span = source.span(path)
        assert json.loads(text[span.start : span.end]) == v
        lines = text.split("\n")
        assert lines[span.line - 1][span.column - 1 :].startswith(text[span.start : span.end].split("\n")[0])
        if isinstance(v, dict):
            stack.extend((path + (k,), x) for k, x in v.items())
            for k in v:
                key_span = source.key_span(path + (k,))
                assert json.loads(text[key_span.start : key_span.end]) == k
        elif isinstance(v, list):
            stack.extend((path + (i,), x) for i, x in enumerate(v))


def test_deep_nesting_is_indexed_without_recursion():
    depth = 5_000
    text = "[" * depth + "]" * depth
    assert Source(text).span((0,) * (depth - 1)).start == depth - 1
