"""Properties of the decision procedure itself, proven by Z3 for every
signature at once (every caller kind, account relation, and combination of
layers applying, allowing, denying and granting — two SCP and two RCP levels
included): kernel/rules.py's own Datalog text compiled by proofs/rules.py.

Each property is one named test; each also shows its premise can happen (a
property of an impossible situation would prove nothing) and, where it
matters, that a mutated program breaks it (so the proof is not vacuous)."""

from __future__ import annotations

import random
import re

import pytest
import z3

from iamlogic.kernel.rules import PROGRAM, Signature, outcome
from iamlogic.proofs.rules import CALLER_KINDS, GRANTS, LAYERS, Compiled, Facts

RULES = Compiled()
LIMITS = ("boundary", "session", "scp/0", "scp/1", "rcp/0", "rcp/1", "vpc_endpoint")


def proven(*premises) -> bool:
    """No assignment of the facts satisfies the premises (the negated property)."""
    solver = z3.Solver()
    solver.add(*premises)
    return solver.check() == z3.unsat


def possible(*premises) -> bool:
    solver = z3.Solver()
    solver.add(*premises)
    return solver.check() == z3.sat


def allowed(facts: Facts, rules: Compiled = RULES) -> z3.BoolRef:
    return rules.decision(facts, "allow")


def controlled(facts: Facts) -> z3.BoolRef:
    """The action is one policies control (every action but the few of
    SEMANTICS §7, which the last test pins)."""
    return z3.Not(facts.atoms[("no_authorization",)])


def test_the_compiled_rules_agree_with_the_kernel():
    # The compilation is checked against pyDatalog itself on 300 random
    # well-formed signatures: the same decision every time.
    rng = random.Random(7)
    for _ in range(300):
        kind = rng.choice(CALLER_KINDS)
        in_account = kind in ("user", "role_session", "federated_session", "root")
        same = rng.choice([True, False]) if in_account else None
        applies = frozenset(l for l in LAYERS if rng.random() < 0.6)
        allows = frozenset(l for l in applies if rng.random() < 0.6)
        denies = frozenset(l for l in applies if rng.random() < 0.15)
        grants = frozenset(g for g in GRANTS if "resource" in allows and rng.random() < 0.4)
        must = rng.random() < 0.2
        exempt = rng.random() < 0.1
        refused = frozenset(k for k in CALLER_KINDS if rng.random() < 0.1)
        signature = Signature(kind, same, must, applies, allows, denies, grants,
                              tuple(l for l in LAYERS if l.startswith("scp/") and l in applies),
                              tuple(l for l in LAYERS if l.startswith("rcp/") and l in applies), exempt, refused)
        expected = outcome(signature).decision
        facts = Facts("f")
        pins = [facts.atoms[("caller", k)] == z3.BoolVal(k == kind) for k in CALLER_KINDS]
        pins += [facts.atoms[("same_account",)] == z3.BoolVal(same is True),
                 facts.atoms[("cross_account",)] == z3.BoolVal(same is False),
                 facts.atoms[("must_allow_itself",)] == z3.BoolVal(must),
                 facts.atoms[("no_authorization",)] == z3.BoolVal(exempt),
                 *[facts.atoms[("refused_to", k)] == z3.BoolVal(k in refused) for k in CALLER_KINDS]]
        for layer in LAYERS:
            pins += [facts.atoms[("applies", layer)] == z3.BoolVal(layer in applies),
                     facts.atoms[("allows", layer)] == z3.BoolVal(layer in allows),
                     facts.atoms[("denies", layer)] == z3.BoolVal(layer in denies)]
        pins += [facts.atoms[("resource_grant", g)] == z3.BoolVal(g in grants) for g in GRANTS]
        solver = z3.Solver()
        solver.add(*pins)
        assert solver.check() == z3.sat
        model = solver.model()
        got = [d for d in ("allow", "explicit_deny", "implicit_deny")
               if z3.is_true(model.eval(RULES.decision(facts, d), model_completion=True))]
        assert got == [expected], signature


def test_an_explicit_deny_always_wins():
    # SEMANTICS §1.1: a matching Deny in any layer that applies decides.
    f = Facts("f")
    some_deny = z3.Or(*[f.atoms[("denies", l)] for l in LAYERS])
    assert possible(f.well_formed(), controlled(f), some_deny)
    assert proven(f.well_formed(), controlled(f), some_deny, allowed(f))
    assert proven(f.well_formed(), controlled(f), some_deny, z3.Not(RULES.decision(f, "explicit_deny")))


def test_the_limits_never_grant():
    # SEMANTICS §1.2, §1.3, §1.6, §1.7, §1.8: SCPs, RCPs, boundaries, session
    # and endpoint policies only cap; access comes from an identity policy,
    # a resource policy naming the caller, or the root user's own account.
    f = Facts("f")
    granting = z3.Or(f.atoms[("allows", "identity")], f.atoms[("caller", "root")],
                     *[f.atoms[("resource_grant", g)] for g in GRANTS])
    assert possible(f.well_formed(), controlled(f), allowed(f))
    assert proven(f.well_formed(), controlled(f), allowed(f), z3.Not(granting))
    # Turning every limit's Allow on never helps a request nothing grants.
    for layer in LIMITS:
        g, tie = f.with_("g", **{f"allows:{layer}": True})
        assert proven(f.well_formed(), g.well_formed(), tie, controlled(f), z3.Not(granting), allowed(g)), layer


@pytest.mark.parametrize("layer", LAYERS)
def test_adding_an_allow_never_removes_access(layer):
    # Monotonicity: a request allowed without this layer's Allow is still
    # allowed with it (SEMANTICS §1: Allows only ever add paths).
    f = Facts("f")
    g, tie = f.with_("g", **{f"allows:{layer}": True})
    premise = possible(f.well_formed(), g.well_formed(), tie, controlled(f), allowed(f))
    # An organization level or endpoint policy that applies without allowing
    # blocks everything (§1.2, §1.3, §1.8): there is then nothing to lose.
    assert premise == (layer in ("identity", "resource", "boundary", "session"))
    assert proven(f.well_formed(), g.well_formed(), tie, allowed(f), z3.Not(allowed(g)))


@pytest.mark.parametrize("how", GRANTS)
def test_a_resource_policy_naming_the_caller_more_never_removes_access(how):
    f = Facts("f")
    g, tie = f.with_("g", **{f"resource_grant:{how}": True})
    assert proven(f.well_formed(), g.well_formed(), tie, allowed(f), z3.Not(allowed(g)))


@pytest.mark.parametrize("layer", LAYERS)
def test_adding_a_deny_never_adds_access(layer):
    f = Facts("f")
    g, tie = f.with_("g", **{f"denies:{layer}": True})
    assert possible(f.well_formed(), g.well_formed(), tie, z3.Not(allowed(f)))
    assert proven(f.well_formed(), g.well_formed(), tie, controlled(f), allowed(g))  # with the Deny: never allowed
    assert proven(f.well_formed(), g.well_formed(), tie, z3.Not(allowed(f)), allowed(g))


def test_cross_account_access_needs_the_resource_side():
    # SEMANTICS §2: across accounts both the identity side and the resource
    # policy must allow; the resource policy must name the caller.
    f = Facts("f")
    cross = f.atoms[("cross_account",)]
    names = z3.Or(*[f.atoms[("resource_grant", g)] for g in GRANTS])
    assert possible(f.well_formed(), controlled(f), cross, allowed(f))
    assert proven(f.well_formed(), controlled(f), cross, allowed(f), z3.Not(names))
    # ...and the caller's own side: its identity policies, or being the root
    # user of its account (whose own permissions are complete).
    own_side = z3.Or(f.atoms[("allows", "identity")], f.atoms[("caller", "root")])
    assert proven(f.well_formed(), controlled(f), cross, allowed(f), z3.Not(own_side))


def test_every_signature_has_exactly_one_decision():
    f = Facts("f")
    decisions = [RULES.decision(f, d) for d in ("allow", "explicit_deny", "implicit_deny")]
    assert proven(f.well_formed(), z3.Not(z3.PbEq([(d, 1) for d in decisions], 1)))


def test_the_proofs_catch_a_broken_program():
    # The same properties on a program whose final rule forgets the deny:
    # the deny-wins proof must now fail, so it is not vacuous.
    broken = Compiled(PROGRAM.replace("allowed(Q) <= request(Q) & ~denied(Q) & ~blocked(Q) & ~refused(Q) & granted(Q)",
                                      "allowed(Q) <= request(Q) & ~blocked(Q) & ~refused(Q) & granted(Q)"))
    assert broken.by_head["allowed"] != RULES.by_head["allowed"]
    f = Facts("f")
    some_deny = z3.Or(*[f.atoms[("denies", l)] for l in LAYERS])
    assert not proven(f.well_formed(), some_deny, allowed(f, broken))
    # And a program where an SCP grants on its own breaks "limits never grant".
    granting_scp = Compiled(PROGRAM + "\nidentity_grants(Q) <= allows(Q, 'scp/0')\n")
    g = Facts("g")
    granting = z3.Or(g.atoms[("allows", "identity")], g.atoms[("caller", "root")],
                     *[g.atoms[("resource_grant", h)] for h in GRANTS])
    assert not proven(g.well_formed(), allowed(g, granting_scp), z3.Not(granting))


def test_the_property_domain_covers_each_layer_family():
    # The proofs range over every layer family the rules name.
    families = {l.split("/")[0] for l in LAYERS}
    named = set(re.findall(r"'(\w+)'", PROGRAM)) & {"identity", "resource", "boundary", "session", "vpc_endpoint",
                                                      "scp", "rcp"}
    assert named <= families


def test_an_action_no_policy_controls_is_allowed_to_every_signed_in_caller():
    # SEMANTICS §7 (STS API Reference, GetCallerIdentity: "If an administrator
    # attaches a policy to your identity that explicitly denies access to the
    # sts:GetCallerIdentity action, you can still perform this operation").
    f = Facts("f")
    exempt = f.atoms[("no_authorization",)]
    signed_in = z3.Not(f.atoms[("caller", "anonymous")])
    some_deny = z3.Or(*[f.atoms[("denies", l)] for l in LAYERS])
    # ... that may call it at all (GetSessionToken is an IAM user's, not a session's).
    callable_ = z3.And(*[z3.Not(z3.And(f.atoms[("caller", k)], f.atoms[("refused_to", k)])) for k in CALLER_KINDS])
    assert possible(f.well_formed(), exempt, signed_in, callable_, some_deny)
    assert proven(f.well_formed(), exempt, signed_in, callable_, z3.Not(allowed(f)))
    # An anonymous request is not signed: the exemption changes nothing for it.
    g, tie = f.with_("g", no_authorization=True)
    anonymous = f.atoms[("caller", "anonymous")]
    assert proven(f.well_formed(), g.well_formed(), tie, anonymous, allowed(f) != allowed(g))
    # Without the exemption the same signatures can be denied (not vacuous).
    assert possible(f.well_formed(), controlled(f), signed_in, some_deny, z3.Not(allowed(f)))


def test_an_action_refused_to_a_kind_of_caller_is_never_allowed_to_it():
    # STS API Reference, AssumeRole: "You cannot use AWS account root user
    # credentials to call AssumeRole": no policy can grant it to the root user
    # (nor, for an action no policy controls, does the exemption).
    f = Facts("f")
    refused, root = f.atoms[("refused_to", "root")], f.atoms[("caller", "root")]
    assert proven(f.well_formed(), refused, root, allowed(f))
    # Other callers are decided as for any action (not vacuous: they can be allowed).
    assert possible(f.well_formed(), controlled(f), refused, z3.Not(root), allowed(f))
    g, tie = f.with_("g", **{"refused_to:root": True})
    assert proven(f.well_formed(), g.well_formed(), tie, z3.Not(root), allowed(f) != allowed(g))
