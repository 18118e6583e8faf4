"""Glob matching in linear time (kernel/globs.py) held to the plain
backtracking regex on ordinary patterns, and timed on patterns built to
make a backtracking matcher run for minutes."""

from __future__ import annotations

import re
import subprocess
import sys
import time

from hypothesis import given, settings, strategies as st

import iamlogic
from iamlogic.kernel import globs
from iamlogic.kernel.matching import resource_glob, resource_regex

ALPHABET = "ab:/"


def backtracking(glob) -> re.Pattern:
    """The obvious regex: what the kernel used before (exponential on near misses)."""
    out = []
    for kind, value in glob:
        if kind == "lit":
            out.append(re.escape(value))
        else:
            char = "." if value else "[^:]"
            out.append(char + "*" if kind == "star" else char)
    return re.compile("".join(out), re.DOTALL)


tokens = st.lists(st.one_of(
    st.tuples(st.just("lit"), st.text(ALPHABET, min_size=1, max_size=3)),
    st.tuples(st.sampled_from(["star", "one"]), st.booleans())), max_size=8).map(tuple)


@settings(max_examples=int(__import__("os").environ.get("IAMLOGIC_GLOB_EXAMPLES", "3000")), deadline=None)
@given(glob=tokens, text=st.text(ALPHABET, max_size=14))
def test_the_linear_matcher_agrees_with_the_backtracking_regex(glob, text):
    expected = backtracking(glob).fullmatch(text) is not None
    assert bool(globs.compile_glob(glob).fullmatch(text)) == expected
    # The NFA is the fallback for the globs the atomic regex cannot take;
    # it must be right on every glob.
    assert bool(globs.Nfa(glob).fullmatch(text)) == expected


@settings(max_examples=1000, deadline=None)
@given(segments=st.lists(st.text("ab*?", max_size=4), min_size=4, max_size=4),
       rest=st.text("ab*?:/", max_size=6), text=st.text("ab:/", max_size=16))
def test_resource_patterns_keep_the_segment_rule(segments, rest, text):
    # SEMANTICS §3: wildcards stay inside their segment, except a * that ends
    # a segment; the resource part's * runs past colons.
    glob = resource_glob(tuple(segments), ((rest, True),))
    expected = backtracking(glob).fullmatch("arn:" + text) is not None
    assert bool(resource_regex(tuple(segments), ((rest, True),)).fullmatch("arn:" + text)) == expected


def _fast(f) -> float:
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


def test_two_hundred_stars_take_milliseconds():
    # issue 18 item 1: a near miss against many stars is linear, in every
    # place a glob meets a string.
    action = "s3:" + "?*" * 200 + "Q"
    resource = "arn:aws:s3:::" + "a*" * 200 + "b"
    engine = iamlogic.compile({"identity": [{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": action, "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": resource},
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*",
         "Condition": {"StringLike": {"s3:prefix": "a*" * 200 + "b"},
                       "ArnLike": {"aws:SourceArn": "arn:aws:sns:*:*:" + "a*" * 200 + "b"}}}]}]})
    request = {"principal": "arn:aws:iam::111111111111:user/alice", "resource_account": "111111111111"}
    took = _fast(lambda: [
        engine.decide({**request, "action": "s3:" + "x" * 300, "resource": "*"}),
        engine.decide({**request, "action": "s3:GetObject", "resource": "arn:aws:s3:::" + "a" * 300}),
        engine.decide({**request, "action": "s3:PutObject", "resource": "*",
                       "context": {"s3:prefix": "a" * 300, "aws:SourceArn": "arn:aws:sns:r:1:" + "a" * 300}}),
    ])
    assert took < 2.0, took  # a backtracking matcher: beyond any patience
    assert engine.decide({**request, "action": "s3:GetObject",
                          "resource": "arn:aws:s3:::" + "a" * 300 + "b"}).decision == "allow"


def test_validate_and_actions_on_a_many_star_pattern_answer_at_once(tmp_path):
    # issue 18 item 1: "s3:?*?*…Q" ran validate for minutes (catalogue expansion).
    policy = tmp_path / "p.json"
    policy.write_text('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:'
                      + "?*" * 40 + 'Q", "Resource": "*"}]}')
    for args in (["validate", str(policy)], ["actions", "s3:" + "?*" * 40 + "Q"]):
        out = subprocess.run([sys.executable, "-m", "iamlogic", *args], capture_output=True, text=True, timeout=60)
        assert out.returncode in (0, 2), out.stderr
        assert "Traceback" not in out.stderr
