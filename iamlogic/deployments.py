"""What a deployment of a CloudFormation template chooses, and the policy
for each deployment (docs/readings.md I7): the parameters and pseudo
parameters a template's conditions and map keys read are given each value
that tells deployments apart (a parameter's AllowedValues, else each value
it is compared with or looked up by, and any other), and a policy is
resolved once per valuation of those choices. cfn.Resolver builds on it."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from itertools import product
from math import prod

from .grammar.source import JsonPath
from .sources import NamedPolicy
from .translator.model import PolicyType

# The stand-ins cfn-policy-validator gives the pseudo parameters (cfn.py).
PARTITION, REGION, ACCOUNT = "aws", "us-east-1", "123456789012"
# Lowercase, unlike cfn-policy-validator's "StackName": a stack name is often part of an S3
# bucket name, and a bucket name is lowercase — "StackName-site" names no bucket, and a policy
# on it was PASS in every check (a deployment with that stack name could not exist).
STACK_NAME = "stackname"

# At most this many deployments of one policy are read; more is UNKNOWN,
# naming the conditions (never a PASS on the one the stand-ins pick).
MAX_VARIANTS = 64
# Pseudo parameters a deployment chooses: a condition or a map key that
# depends on one is read for each value that tells its entries apart.
CHOSEN_PSEUDO = ("AWS::Region", "AWS::AccountId", "AWS::Partition", "AWS::StackName")
# Stand-ins for "any other value" of a pseudo parameter: the first not compared with.
_OTHER_PSEUDO = {"AWS::Region": (REGION, "eu-west-1", "ap-southeast-2", "sa-east-1", "me-south-1"),
                 "AWS::AccountId": (ACCOUNT, "210987654321", "111111111111", "222222222222"),
                 "AWS::Partition": (PARTITION, "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e",
                                    "aws-iso-f", "aws-eusc"),
                 "AWS::StackName": (STACK_NAME, "otherstack", "anotherstack")}


class NotDeployed(Exception):
    """A deployment CloudFormation refuses (Fn::FindInMap finds no entry for
    the chosen key): no policy to check for it."""


@dataclass(frozen=True)
class Choice:
    """One value a deployment gives a parameter or pseudo parameter:
    ``value`` itself, or (``other_than`` set) any value not in that set,
    ``value`` standing in for it."""

    value: str
    other_than: frozenset | None = None

    def shown(self, name: str) -> str:
        if self.other_than is None:
            return f"{name}={self.value}"
        return f"{name} not in {{{', '.join(sorted(self.other_than))}}}" if self.other_than else f"{name}=any"

    def meets(self, other: "Choice") -> bool:
        """Can one deployment give both (a head and a base template's choices)?"""
        if self.other_than is None and other.other_than is None:
            return self.value == other.value
        if self.other_than is None:
            return self.value not in other.other_than
        if other.other_than is None:
            return other.value not in self.other_than
        return True


def compatible(a: dict, b: dict) -> bool:
    """Two deployments (input name → Choice) one stack's parameters can give both."""
    return all(a[name].meets(b[name]) for name in a.keys() & b.keys())


def ref_name(node) -> str | None:
    if isinstance(node, dict) and len(node) == 1 and isinstance(node.get("Ref"), str):
        return node["Ref"]
    return None


def literal(node) -> bool:
    return isinstance(node, (str, int, float)) and not isinstance(node, bool)


class Deployments:
    """The deployments a template's policy is read for (a mix-in of
    cfn.Resolver, whose ``policy`` resolves one deployment's)."""

    def _scan(self, node) -> None:
        """The values each parameter is compared with (Fn::Equals) or looked
        up by (a Fn::FindInMap key): the values that tell its deployments apart."""
        stack = [node]
        while stack:
            node = stack.pop()
            if isinstance(node, list):
                stack.extend(node)
                continue
            if not isinstance(node, dict):
                continue
            stack.extend(node.values())
            if len(node) != 1:
                continue
            (name, arg), = node.items()
            if name == "Fn::Equals" and isinstance(arg, list) and len(arg) == 2:
                for a, b in (arg, arg[::-1]):
                    if ref_name(a) and literal(b):
                        self.literals.setdefault(ref_name(a), set()).add(str(b))
            elif name == "Fn::FindInMap" and isinstance(arg, list) and len(arg) >= 3:
                table = self.mappings.get(arg[0]) if isinstance(arg[0], str) else None
                levels = [list(self.mappings),
                          list(table) if isinstance(table, dict) else [],
                          [k for v in (table.values() if isinstance(table, dict) else ()) if isinstance(v, dict)
                           for k in v]]
                for i in range(3):
                    if ref_name(arg[i]):
                        self.literals.setdefault(ref_name(arg[i]), set()).update(map(str, levels[i]))

    def _start(self, assignment: dict) -> None:
        """Resolve for one deployment: ``assignment`` (input → Choice)."""
        self.assignment = assignment
        self.touched: list[str] = []  # each time a condition or map key read a chosen input
        self.used: dict[str, bool] = {}  # the conditions Fn::If followed, and how
        self.map_keys: dict[str, Choice] = {}
        self.deciding = 0

    def chosen(self, target: str) -> bool:
        """A value the deployment chooses (not given by --parameter)."""
        if target in CHOSEN_PSEUDO:
            return True
        return target in self.parameters and target not in self.given and target not in self.resources

    def choices(self, name: str) -> list[Choice]:
        """The values of ``name`` that tell deployments apart: its
        AllowedValues, else each value it is compared with and any other."""
        spec = self.parameters.get(name) if name not in CHOSEN_PSEUDO else None
        spec = spec if isinstance(spec, dict) else {}
        allowed = spec.get("AllowedValues")
        if isinstance(allowed, list) and allowed:
            # the Default first: the first deployment read is the one the stand-ins always picked
            first = [str(spec["Default"])] if literal(spec.get("Default")) else []
            return [Choice(v) for v in dict.fromkeys(first + [str(a) for a in allowed])]
        literals = sorted(self.literals.get(name, ()))
        if name in _OTHER_PSEUDO:
            stand_ins = _OTHER_PSEUDO[name]
        else:
            default = [str(spec["Default"])] if literal(spec.get("Default")) else []
            stand_ins = default + [f"{name}-other{i or ''}" for i in range(len(literals) + 1)]
        other = next((v for v in stand_ins if v not in literals), None)
        out = [Choice(v) for v in literals]
        return out + ([Choice(other, frozenset(literals))] if other is not None else [])

    def pseudo(self, name: str, default: str) -> str:
        choice = self.assignment.get(name)
        return choice.value if choice is not None else default

    def variants(self, file: str, shown: str, key: str, policy_type: PolicyType, value, at: JsonPath) -> NamedPolicy:
        """The policy for every deployment: one per valuation of the
        conditions its Fn::If follow and per entry its Fn::FindInMap may
        find (parameters by their AllowedValues, else by the values compared
        with; pseudo parameters likewise). One document for them all: the
        policy as before; else the first, with each in ``variants``."""
        inputs: list[str] = []
        conditions: set[str] = set()
        while True:
            classes = [self.choices(name) for name in inputs]
            count = prod(len(c) for c in classes)
            if count > MAX_VARIANTS:
                why = (f"UNKNOWN: {count} deployments to read (more than {MAX_VARIANTS}): the conditions "
                       f"{', '.join(sorted(conditions)) or '(none)'} over {', '.join(inputs)}")
                return NamedPolicy(file, shown, key, policy_type, None, {(): at}, problem=why, problem_at=at,
                                   kind="cloudformation", problem_code="TOO_MANY_DEPLOYMENTS", home=at)
            runs, grew = [], False
            for combo in product(*classes):
                assignment = dict(zip(inputs, combo))
                self._start(assignment)
                policy = self.policy(file, shown, key, policy_type, value, at)
                conditions.update(self.used)
                extra = [n for n in dict.fromkeys(self.touched) if n not in inputs]
                if extra:
                    inputs.extend(extra)
                    grew = True
                    break
                runs.append((policy, assignment, dict(self.used), dict(self.map_keys)))
            self._start({})
            if not grew:
                found = self._merge(runs, file, shown, key, policy_type, at)
                for p in [found, *found.variants]:
                    p.home = at
                return found

    def _merge(self, runs, file, shown, key, policy_type, at) -> NamedPolicy:
        deployed = [r for r in runs if r[0] is not None]
        if not deployed:
            return NamedPolicy(file, shown, key, policy_type, None, {(): at}, kind="cloudformation", problem_at=at,
                               problem="no deployment holds this policy: Fn::FindInMap finds no entry for any "
                                       "value its keys may take")

        def items(run) -> list[str]:
            _, assignment, used, map_keys = run
            return [f"{c}={str(v).lower()}" for c, v in used.items()] + [c.shown(n) for n, c in map_keys.items()]

        def label(run) -> str:
            return ", ".join(items(run))

        def common(group) -> str:
            """What all of a group's deployments share (one policy for several valuations)."""
            return ", ".join(x for x in items(group[0]) if all(x in items(r) for r in group))

        for run in deployed:
            if run[0].problem is not None:  # a problem in one deployment is the policy's
                if len(runs) > 1 and label(run):
                    run[0].problem += f" (when {label(run)})"
                return run[0]
        groups: dict[str, list] = {}
        for run in deployed:
            groups.setdefault(json.dumps(run[0].document, sort_keys=True, default=str), []).append(run)
        if len(groups) == 1:
            return deployed[0][0]
        labels = [common(g) for g in groups.values()]
        out = []
        for group, shown_as in zip(groups.values(), labels):
            if not shown_as or labels.count(shown_as) > 1:  # told apart by a value the policy holds
                shown_as = " or ".join(dict.fromkeys(", ".join(c.shown(n) for n, c in r[1].items()) for r in group))
            out.append(replace(group[0][0], name=f"{shown} [{shown_as}]", valuation=shown_as,
                               deployments=tuple(r[1] for r in group)))
        return replace(out[0], name=shown, valuation="", deployments=(), variants=out)
