"""Runs every scenario case of tests/cases/<topic>/*.json (format: its README).

The loader only builds scenarios and compares answers; it knows nothing of
how the engine decides."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

import iamlogic

CASES = Path(__file__).parent / "cases"


def _resolve(value, library: dict, where: str):
    if isinstance(value, str):
        if value not in library:
            raise KeyError(f"{where}: no policy {value!r} in the file's library")
        return copy.deepcopy(library[value])
    if isinstance(value, list):
        return [_resolve(v, library, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict) and "policies" in value:  # a named organization level
        return {**value, "policies": _resolve(value["policies"], library, where)}
    return value


def operator_table_cases(path: Path, doc: dict) -> list:
    """The cases of an operator table (format: its "about" and "variant_requests")."""
    params = []
    for spec in doc["operators"]:
        negated = spec["negated"]
        m, n = spec["matching"], spec["not_matching"]
        q, x = (n, m) if negated else (m, n)
        for variant, expect in doc["variants"].items():
            operator, key, value = spec["operator"], spec["key"], spec["policy_value"]
            context: dict = {}
            if variant == "match":
                context[key] = m
            elif variant == "no_match":
                context[key] = n
            elif variant == "if_exists_missing":
                operator += "IfExists"
            elif variant == "if_exists_no_match":
                operator += "IfExists"
                context[key] = n
            elif variant == "empty_list":
                context[key] = []
            elif variant.startswith("any_value"):
                operator = "ForAnyValue:" + operator
                context.update({"any_value_hit": {key: [x, q]}, "any_value_miss": {key: [x, x]}}.get(variant, {}))
            elif variant.startswith("all_values"):
                operator = "ForAllValues:" + operator
                context.update({"all_values_hit": {key: [q, q]}, "all_values_miss": {key: [q, x]}}.get(variant, {}))
            elif variant == "unqualified_two_values":
                context[key] = [q, q]
            elif variant == "variable":
                value = "${aws:PrincipalTag/v}"
                context.update({key: m, "aws:PrincipalTag/v": m})
            elif variant == "malformed_policy_value":
                if "malformed_policy_value" not in spec:
                    continue
                value = spec["malformed_policy_value"]
                context[key] = q
            elif variant == "malformed_request_value":
                if "malformed_request_value" not in spec:
                    continue
                context[key] = spec["malformed_request_value"]
            polarity = "negated" if negated else "positive"
            expected = expect.get(polarity if spec["substitutes"] else f"{polarity}_no_substitution", expect[polarity])
            policy = {"Version": "2012-10-17", "Statement": {"Sid": "Cond", "Effect": "Allow", "Action": "*",
                                                             "Resource": "*", "Condition": {operator: {key: value}}}}
            scenario = {"policies": {"identity": [policy]},
                        "request": {"principal": "arn:aws:iam::111111111111:user/alice", "action": "s3:ListAllMyBuckets",
                                    "resource": "*", "context": context}}
            params.append(pytest.param(scenario, {"decision": expected}, {},
                                       id=f"{path.parent.name}/{path.stem}: {spec['operator']} {variant}"))
    return params


def load_cases() -> list:
    params = []
    for path in sorted(CASES.glob("*/*.json")):
        doc = json.loads(path.read_text())
        if doc.get("kind") == "operator_table":
            params.extend(operator_table_cases(path, doc))
            continue
        library = doc.get("library", {})
        defaults = doc.get("defaults", {}).get("request", {})
        for i, case in enumerate(doc["cases"]):
            assert case.get("rule"), f"{path.name} case {i} names no rule"
            policies = {k: (None if v is None else _resolve(v, library, f"{path.name}:{case['name']}:{k}"))
                        for k, v in case["policies"].items()}
            request = {**defaults, **case.get("request", {})}
            request["context"] = {**defaults.get("context", {}), **case.get("request", {}).get("context", {})}
            case_id = f"{path.parent.name}/{path.stem}: {case['name']}"
            params.append(pytest.param({"policies": policies, "request": request}, case["expect"], library,
                                       id=case_id))
    return params


ALL_CASES = load_cases()


@pytest.mark.parametrize("scenario, expect, library", ALL_CASES)
def test_case(scenario, expect, library):
    decision = iamlogic.simulate(scenario)
    explanation = decision.explain()
    assert decision.decision == expect["decision"], explanation
    if "blocked_by" in expect:
        assert decision.blocked_by == expect["blocked_by"], explanation
    if decision.decision == "allow":
        assert decision.blocked_by is None
    if "matched" in expect:
        names = {json.dumps(p, sort_keys=True): n for n, p in library.items()}
        got = set()
        for ref in decision.matched_statements:
            layer_policies = _policies_of(scenario["policies"], ref.policy_id)
            name = names.get(json.dumps(layer_policies, sort_keys=True), ref.policy_id)
            got.add(f"{name}#{ref.sid if ref.sid else ref.index}")
        assert got == set(expect["matched"]), explanation


def _policies_of(policies: dict, policy_id: str):
    """The policy a ``policies.identity[0]``-style id points at."""
    path = policy_id.removeprefix("policies.")
    kind, _, rest = path.partition("[")
    node = policies[kind]
    while rest:
        index, _, rest = rest.partition("]")
        rest = rest.removeprefix("[")
        node = node[int(index)]
        if isinstance(node, dict) and "policies" in node:
            node = node["policies"]
    return node


def test_corpus_size():
    # The kernel issue asks for at least 150 named cases.
    assert len(ALL_CASES) >= 150, len(ALL_CASES)


def test_condition_corpus_size():
    # The conditions issue asks for at least 250 condition cases.
    assert sum(1 for p in ALL_CASES if p.id.startswith("conditions/")) >= 250
