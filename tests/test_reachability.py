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


def test_a_change_counts_only_with_being_the_principal_changed():
    """escalation_closure: holding the capability to change B (an edge to
    ``change:B#x``) and getting B is getting ``B#x``; the capability alone,
    or B alone, is not. A capability is not itself a node got."""
    from iamlogic.kernel.reachability import escalation_closure

    combines = {("change:B#x", "B", "B#x")}
    edges = {("u", "z"), ("z", "change:B#x"), ("u", "B"), ("v", "change:B#x"), ("w", "B"), ("B#x", "GOAL")}
    got = escalation_closure(edges, combines)
    assert got["u"] == {"z", "B", "B#x", "GOAL"}
    assert "B#x" not in got.get("v", ()) and "B#x" not in got["w"]
    # B itself holding the capability to change itself
    assert escalation_closure({("B", "change:B#x"), ("B#x", "GOAL")}, combines)["B"] == {"B#x", "GOAL"}
    # one start alone: the same answer
    assert escalation_closure(edges, combines, start="u") == {"u": got["u"]}


def test_a_second_closure_starts_from_the_combinations_of_the_first():
    from iamlogic.kernel.reachability import escalation_closure

    combines = {("change:B#x", "B", "B#x")}
    derived: set = set()
    first = escalation_closure({("u", "change:B#x"), ("u", "B")}, combines, derived=derived)
    assert derived == {("u", "B#x")} and first["u"] == {"B", "B#x"}
    # more edges later: the combination found before still holds
    second = escalation_closure({("u", "change:B#x"), ("u", "B"), ("B#x", "GOAL")}, combines, derived=derived)
    assert second["u"] == {"B", "B#x", "GOAL"}
