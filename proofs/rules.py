"""The symbolic side of kernel/rules.py: the same Datalog text, compiled into
propositional Z3 formulas over one symbolic request's layer-level facts.

Stage 2 of the program (the decision for a signature) is non-recursive and
stratified, so grounding it over the finite domains (the layers, the caller
kinds, the ways a resource policy names a caller) gives, for each derived
atom, the disjunction of its rules' bodies. Nothing is restated: the rules
are read from ``kernel.rules.PROGRAM``. The test suite uses this to prove
properties of the decision procedure itself for every signature at once
(tests/test_kernel_properties.py): an explicit deny always wins, the limits
never grant, adding an Allow never removes access, and so on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import z3

from ..kernel.rules import INPUTS, PROGRAM

CALLER_KINDS = ("user", "role_session", "federated_session", "root", "anonymous", "service", "external")
IN_AN_ACCOUNT = ("user", "role_session", "federated_session", "root")
GRANTS = ("principal_itself", "role", "account", "everyone")
LAYERS = ("identity", "resource", "boundary", "session", "vpc_endpoint", "scp/0", "scp/1", "rcp/0", "rcp/1")

_RULE = re.compile(r"^(\w+)\(([^)]*)\)\s*<=\s*(.+)$")
_LITERAL = re.compile(r"(~?)(\w+)\(([^)]*)\)")


@dataclass(frozen=True)
class Rule:
    head: str
    head_args: tuple[str, ...]
    body: tuple[tuple[bool, str, tuple[str, ...]], ...]  # (negated, predicate, args)


def parse(program: str) -> list[Rule]:
    """The rules of a program in kernel/rules.py's notation."""
    rules = []
    for line in program.splitlines():
        line = line.split("#", 1)[0].strip()
        m = _RULE.match(line)
        if not m:
            continue
        head, args, body = m.groups()
        literals = tuple((neg == "~", pred, _args(a)) for neg, pred, a in _LITERAL.findall(body))
        rules.append(Rule(head, _args(args), literals))
    return rules


def _args(text: str) -> tuple[str, ...]:
    return tuple(a.strip() for a in text.split(",") if a.strip())


def _is_variable(arg: str) -> bool:
    return arg[:1].isupper()


def _constant(arg: str) -> str:
    return arg.strip("'\"")


@dataclass
class Facts:
    """One symbolic request's input facts (every one a Z3 Bool)."""

    prefix: str
    atoms: dict[tuple, z3.BoolRef] = field(default_factory=dict)

    def __post_init__(self):
        def var(*key):
            self.atoms[key] = z3.Bool(f"{self.prefix}:{key[0]}({', '.join(key[1:])})")

        var("same_account")
        var("cross_account")
        var("must_allow_itself")
        var("no_authorization")
        for kind in CALLER_KINDS:
            var("refused_to", kind)
        for kind in CALLER_KINDS:
            var("caller", kind)
        for layer in LAYERS:
            var("applies", layer)
            var("allows", layer)
            var("denies", layer)
        for how in GRANTS:
            var("resource_grant", how)

    def get(self, pred: str, args: tuple[str, ...]) -> z3.BoolRef:
        if pred == "request":
            return z3.BoolVal(True)
        if pred in ("scp_level", "rcp_level"):
            # The engine lists the organization levels that apply.
            layer = args[0]
            return self.atoms[("applies", layer)] if layer.startswith(pred[:3] + "/") else z3.BoolVal(False)
        return self.atoms.get((pred, *args), z3.BoolVal(False))

    def well_formed(self) -> z3.BoolRef:
        """What Engine.decide can hand the rules: one caller kind; same or
        cross account exactly for callers in an account; a layer allows or
        denies only where it applies; a resource grant is a resource Allow."""
        kinds = [self.atoms[("caller", k)] for k in CALLER_KINDS]
        in_account = z3.Or(*[self.atoms[("caller", k)] for k in IN_AN_ACCOUNT])
        same, cross = self.atoms[("same_account",)], self.atoms[("cross_account",)]
        out = [z3.PbEq([(k, 1) for k in kinds], 1),
               z3.Implies(in_account, same != cross), z3.Implies(z3.Not(in_account), z3.Not(z3.Or(same, cross)))]
        for layer in LAYERS:
            applies = self.atoms[("applies", layer)]
            out += [z3.Implies(self.atoms[("allows", layer)], applies),
                    z3.Implies(self.atoms[("denies", layer)], applies)]
        for how in GRANTS:
            out.append(z3.Implies(self.atoms[("resource_grant", how)], self.atoms[("allows", "resource")]))
        return z3.And(*out)

    def with_(self, prefix: str, **changes) -> tuple["Facts", z3.BoolRef]:
        """A copy with fresh variables, equal to these except ``changes``
        (key "allows:identity" → bool), and the formula tying them."""
        other = Facts(prefix)
        ties = []
        for key, atom in self.atoms.items():
            name = ":".join(key)
            if name in changes:
                ties += [atom == z3.BoolVal(not changes[name]), other.atoms[key] == z3.BoolVal(changes[name])]
            else:
                ties.append(other.atoms[key] == atom)
        return other, z3.And(*ties)


class Compiled:
    """The program's derived atoms as formulas over a Facts."""

    def __init__(self, program: str = PROGRAM):
        rules = [r for r in parse(program) if r.head_args and r.head_args[0] == "Q"]
        self.by_head: dict[str, list[Rule]] = {}
        for r in rules:
            self.by_head.setdefault(r.head, []).append(r)
        constants = {_constant(a) for r in rules for a in r.head_args + tuple(x for _, _, args in r.body for x in args)
                     if not _is_variable(a)}
        self.domain = sorted(constants | set(LAYERS) | set(GRANTS) | set(CALLER_KINDS))

    def atom(self, facts: Facts, pred: str, *args: str, _memo=None) -> z3.BoolRef:
        memo = _memo if _memo is not None else {}
        key = (pred, args)
        if key in memo:
            return memo[key]
        if pred in INPUTS or pred not in self.by_head:
            result = facts.get(pred, args)
        else:
            bodies = []
            for rule in self.by_head[pred]:
                binding = {"Q": "q"}
                ok = True
                for h, a in zip(rule.head_args[1:], args):
                    if _is_variable(h):
                        if binding.setdefault(h, a) != a:
                            ok = False
                    elif _constant(h) != a:
                        ok = False
                if ok:
                    bodies += self._ground(facts, rule, binding, memo)
            result = z3.Or(*bodies) if bodies else z3.BoolVal(False)
        memo[key] = result
        return result

    def _ground(self, facts: Facts, rule: Rule, binding: dict, memo) -> list[z3.BoolRef]:
        free = sorted({a for _, _, args in rule.body for a in args if _is_variable(a) and a not in binding})
        out = []
        for values in _product(self.domain, len(free)):
            b = {**binding, **dict(zip(free, values))}
            literals = []
            for negated, pred, args in rule.body:
                ground = tuple(b[a] if _is_variable(a) else _constant(a) for a in args[1:])
                f = self.atom(facts, pred, *ground, _memo=memo)
                literals.append(z3.Not(f) if negated else f)
            out.append(z3.And(*literals))
        return out

    def decision(self, facts: Facts, value: str) -> z3.BoolRef:
        return self.atom(facts, "decision", value)


def _product(domain, n):
    if n == 0:
        yield ()
        return
    for head in domain:
        for tail in _product(domain, n - 1):
            yield (head, *tail)
