"""proofs/automata.py: a concrete string's membership is read two ways — by
the regex engine (globs with few stars) and by the glob's automaton (what
the searches run) — and the two must agree, or a witness checked by one
would be found by the other."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from iamlogic.proofs import automata as A

CLASSES = [A.ANY, A.NOT_COLON, A.ID, A.ID_PATH, A.DIGIT, A.REGION, frozenset("ab:/")]
items = st.one_of(
    st.tuples(st.just("lit"), st.sampled_from(list("ab:/-1Kk*?\\.[]"))),
    st.tuples(st.just("one"), st.sampled_from(CLASSES)),
    st.tuples(st.just("star"), st.sampled_from(CLASSES)),
)
globs = st.lists(items, max_size=8).map(tuple)
texts = st.text(alphabet="ab:/-1Kk\u212a*?\\.[] \n", max_size=12)


@given(glob=globs, text=texts)
@settings(max_examples=400, deadline=None)
def test_regex_and_automaton_read_a_string_alike(glob, text):
    assert bool(A._matcher(glob)(text)) == A._automaton(glob, False).accepts(text)


@given(glob=globs, text=texts, negated=st.booleans())
@settings(max_examples=300, deadline=None)
def test_member_of_a_folded_term_reads_the_case_fold(glob, text, negated):
    # IgnoreCase operators: the automaton reads each character's case fold,
    # so the Kelvin sign is a "k" to a folded glob.
    folded = tuple((kind, value.casefold()) if kind == "lit" else (kind, value) for kind, value in glob)
    if any(kind == "lit" and len(value) != 1 for kind, value in folded):
        return
    term = A.Term((folded,), negated=negated, fold=True)
    assert A.member(term, text) == (A._automaton(folded, True).accepts(text) != negated)


def test_a_star_in_a_segment_does_not_cross_a_colon():
    # SEMANTICS §3: wildcards stay within a segment, but a * that is the
    # last character of a segment may expand past the colons
    # (arn:aws:s3:* matches everything in S3) — read alike by both matchers.
    inside = A.Term((A.resource_glob("arn:aws:ec2:us-*-1:111122223333:instance/i"),))
    assert A.member(inside, "arn:aws:ec2:us-east-1:111122223333:instance/i")
    assert not A.member(inside, "arn:aws:ec2:us-east:x-1:111122223333:instance/i")
    last = A.Term((A.resource_glob("arn:aws:s3:*"),))
    assert A.member(last, "arn:aws:s3:::bucket/key") and not A.member(last, "arn:aws:sqs:us-east-1:1:q")


def test_many_stars_are_read_by_the_automaton_not_a_backtracking_regex():
    # "*a*a…*a*b" against a string its literal ends fit but with one "a" too
    # few: a backtracking matcher tries every split of the run (exponential);
    # the automaton reads the string once.
    glob = A.resource_glob("arn:aws:s3:::" + "*a" * 12 + "*b")
    assert isinstance(A._full_matcher(glob).__self__, A._Automaton)
    assert not A.member(A.Term((glob,)), "arn:aws:s3:::" + "a" * 11 + "x" * 40 + "b")
    assert A.member(A.Term((glob,)), "arn:aws:s3:::" + "ax" * 12 + "b")


@given(g=globs, h=globs)
@settings(max_examples=400, deadline=None)
def test_two_globs_meet_exactly_when_the_search_finds_a_common_string(g, h):
    # The pair walk (a candidate resource named by a pattern, inside the
    # action's ARN formats) against the exhaustive search over both.
    met = A._meet(g, h)
    searched = A._search([A.Term((g,)), A.Term((h,))], all, [0, 1], 200_000)
    assert (met is None) == (searched is None)
    if met is not None:
        assert A.member(A.Term((g,)), met) and A.member(A.Term((h,)), met)


@given(g=globs, h=globs)
@settings(max_examples=400, deadline=None)
def test_a_glob_said_to_subsume_another_holds_all_its_strings(g, h):
    # stack.py drops an Allow pattern another subsumes: that must lose no
    # resource, so no string of the narrower may be outside the wider.
    if A.subsumes(g, h):
        outside = A._search([A.Term((h,)), A.Term((g,))], lambda v: v[0] and not v[1], [0], 200_000)
        assert outside is None, (g, h, outside)


def test_a_narrow_pattern_under_a_wide_one_is_subsumed():
    wide = A.resource_glob("arn:aws:ec2:*:111122223333:instance/*")
    narrow = A.resource_glob("arn:aws:ec2:us-*-1:111122223333:instance/i-0007*")
    other = A.resource_glob("arn:aws:ec2:us-*-1:111122223333:instance/i-0009*")
    assert A.subsumes(wide, narrow) and not A.subsumes(narrow, wide) and not A.subsumes(narrow, other)
