"""kernel/reachability.py: the closure of role assumption, by Datalog recursion."""

from pyDatalog import pyDatalog

from iamlogic.kernel.reachability import closure


def test_a_chain_is_followed_to_its_end():
    assert closure({("u", "r1"), ("r1", "r2"), ("r2", "r3"), ("x", "r4")}, "u") == {"r1", "r2", "r3"}


def test_a_cycle_ends_and_reaches_its_start():
    assert closure({("a", "b"), ("b", "c"), ("c", "a")}, "a") == {"a", "b", "c"}


def test_no_edge_reaches_nothing():
    assert closure({("x", "y")}, "u") == frozenset()


def test_a_caller_s_own_logic_is_left_alone():
    pyDatalog.Logic()
    pyDatalog.load("mine(X) <= base(X)")
    pyDatalog.assert_fact("base", 1)
    closure({("a", "b")}, "a")
    assert pyDatalog.ask("mine(X)").answers == [(1,)]
