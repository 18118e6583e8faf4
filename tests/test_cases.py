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


def load_cases() -> list:
    params = []
    for path in sorted(CASES.glob("*/*.json")):
        doc = json.loads(path.read_text())
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
