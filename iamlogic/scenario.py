"""The scenario contract: the policies that apply and a request.

    {"policies": {"identity": [POLICY...], "resource": POLICY|null,
                  "boundary": [POLICY]|null, "scps": [[POLICY...], ...]|null,
                  "rcps": [[POLICY...], ...]|null, "session": POLICY|null,
                  "vpc_endpoint": [POLICY]|null},
     "request": {"principal": ..., "action": ..., "resource": ...,
                 "resource_account": ..., "context": {...}}}

A POLICY is a JSON object, JSON text, or a path (relative to the scenario
file). An SCP/RCP level is a list of policies, or {"name": "ou-2",
"policies": [...]} to name it. Every error names the field it is about.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from .errors import InputError, PolicyError, ScenarioError
from .kernel.decision import Decision
from .kernel.engine import Engine, PolicyLayer
from .kernel.request import Request, read_request
from .translator import FindingType, Policy, PolicyType, read_policy

POLICY_KINDS = ("identity", "resource", "boundary", "scps", "rcps", "session", "vpc_endpoint")

# The layers other than the organization levels: scenario key (also the layer's
# name), how explanations name it, its policy type, and whether it is one
# policy rather than a list.
LAYER_KINDS = (
    ("identity", "the identity policies", PolicyType.IDENTITY, False),
    ("resource", "the resource policy", PolicyType.RESOURCE, True),
    ("boundary", "the permissions boundary", PolicyType.BOUNDARY, False),
    ("session", "the session policy", PolicyType.SESSION, True),
    ("vpc_endpoint", "the VPC endpoint policy", PolicyType.VPC_ENDPOINT, False),
)

# Findings that make a policy invalid for IAM but leave it evaluable exactly:
# the statement they touch still means one thing (an unreadable condition is
# false, with a warning on every decision it touches).
EVALUABLE_ERRORS = frozenset({
    "INVALID_CONDITION_OPERATOR", "INVALID_CONDITION_DATA_TYPE", "NULL_WITH_IF_EXISTS", "UNSUPPORTED_SID",
    "UNIQUE_SIDS_REQUIRED", "MISSING_VERSION", "OBSOLETE_VERSION", "POLICY_SIZE_EXCEEDS_QUOTA",
    "INVALID_CHARACTER", "UNSUPPORTED_ID",
})


def load_policy(raw: object, policy_type: PolicyType, field: str, base_dir: Path | None) -> tuple[str, Policy]:
    """(policy id, model) for one POLICY of a scenario."""
    name = field
    if isinstance(raw, Policy):
        return raw.name or name, raw
    if isinstance(raw, str) and not raw.lstrip().startswith("{"):
        path = Path(raw)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        try:
            raw = path.read_bytes()
        except OSError as e:
            raise ScenarioError(field, f"cannot read policy file {raw!r}: {e.strerror or e}") from None
        name = os.path.normpath(path)
    elif not isinstance(raw, (str, Mapping)):
        raise ScenarioError(field, f"a policy is an object, JSON text or a file path, not {type(raw).__name__}")
    policy, findings = read_policy(raw if not isinstance(raw, Mapping) else dict(raw), policy_type, name)
    blocking = [f for f in findings if f.finding_type is FindingType.ERROR and f.issue_code not in EVALUABLE_ERRORS]
    if policy is None or blocking:
        raise PolicyError(blocking or findings, name)
    return name, policy


def _policy_list(raw: object, field: str) -> list:
    if isinstance(raw, list):
        return raw
    if isinstance(raw, (Mapping, str)):
        return [raw]
    raise ScenarioError(field, f"expected a list of policies, found {type(raw).__name__}")


def _levels(raw: object, field: str, kind: str) -> list[tuple[str, list]]:
    if not isinstance(raw, list):
        raise ScenarioError(field, f"expected a list of levels (root first), each a list of {kind.upper()}s")
    out = []
    for i, level in enumerate(raw):
        lfield = f"{field}[{i}]"
        if isinstance(level, Mapping) and "policies" in level:
            name = level.get("name")
            if not isinstance(name, str) or not name:
                raise ScenarioError(f"{lfield}.name", "a level's name is a non-empty string")
            policies = level["policies"]
        else:
            name = "root" if i == 0 else "account" if i == len(raw) - 1 else f"ou-{i}"
            policies = level
        if not isinstance(policies, list):
            raise ScenarioError(lfield, f"a level is a list of {kind.upper()}s ([] allows nothing)")
        out.append((name, policies))
    return out


def compile_policies(policies: Mapping, base_dir: Path | None = None) -> Engine:
    """An Engine for a scenario's ``policies`` object."""
    if not isinstance(policies, Mapping):
        raise ScenarioError("policies", f"expected an object of policy kinds, found {type(policies).__name__}")
    for key in policies:
        if key not in POLICY_KINDS:
            raise ScenarioError(f"policies.{key}", f"unknown policy kind (one of {', '.join(POLICY_KINDS)})")
    layers: list[PolicyLayer] = []
    for key, label, ptype, single in LAYER_KINDS:
        raw = policies.get(key)
        if raw is None:
            continue
        layer = PolicyLayer(key, label)
        if single:
            layer.policies.append(load_policy(raw, ptype, f"policies.{key}", base_dir))
        else:
            for i, item in enumerate(_policy_list(raw, f"policies.{key}")):
                layer.policies.append(load_policy(item, ptype, f"policies.{key}[{i}]", base_dir))
        layers.append(layer)
    for kind, ptype in (("scps", PolicyType.SCP), ("rcps", PolicyType.RCP)):
        if policies.get(kind) is None:
            continue
        for i, (name, items) in enumerate(_levels(policies[kind], f"policies.{kind}", kind[:-1])):
            layer = PolicyLayer(f"{kind[:-1]}/{i}", f"the {kind[:-1].upper()} level {name}")
            for j, item in enumerate(items):
                layer.policies.append(load_policy(item, ptype, f"policies.{kind}[{i}][{j}]", base_dir))
            layers.append(layer)
    return Engine(layers)


def read_scenario(scenario: Mapping | str | Path) -> tuple[Mapping, Path | None]:
    """The scenario object and the folder its relative policy paths start from."""
    if isinstance(scenario, (str, Path)) and not str(scenario).lstrip().startswith("{"):
        path = Path(scenario)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise InputError(f"{path}: cannot read ({getattr(e, 'strerror', None) or e})") from None
        try:
            return json.loads(text), path.parent
        except json.JSONDecodeError as e:
            raise InputError(f"{path}:{e.lineno}:{e.colno}: not JSON: {e.msg}") from None
        except RecursionError:
            raise InputError(f"{path}: nests too deeply to be a scenario") from None
    if isinstance(scenario, str):
        try:
            return json.loads(scenario), None
        except json.JSONDecodeError as e:
            raise InputError(f"<scenario>:{e.lineno}:{e.colno}: not JSON: {e.msg}") from None
        except RecursionError:
            raise InputError("<scenario>: nests too deeply to be a scenario") from None
    if not isinstance(scenario, Mapping):
        raise ScenarioError("scenario", f"expected an object, found {type(scenario).__name__}")
    return scenario, None


def simulate(scenario: Mapping | str | Path) -> Decision:
    """Decide one scenario's request against its policies (a scenario object,
    its JSON text, or the path of a scenario file)."""
    raw, base_dir = read_scenario(scenario)
    return simulate_scenario(raw, base_dir)


def simulate_scenario(raw: object, base_dir: Path | None) -> Decision:
    if not isinstance(raw, Mapping):
        raise ScenarioError("scenario", f"expected an object, found {type(raw).__name__}")
    unknown = [k for k in raw if k not in ("policies", "request", "name", "description")]
    if unknown:
        raise ScenarioError(unknown[0], "unknown field (expected policies, request)")
    if "policies" not in raw:
        raise ScenarioError("policies", "missing")
    if "request" not in raw:
        raise ScenarioError("request", "missing")
    request = read_request(raw["request"])
    return compile_policies(raw["policies"], base_dir).decide(request)


def simulate_one(raw: object, base_dir: Path | None = None) -> list[Decision]:
    """The decisions for one input: a scenario (one decision) or a
    SimulateCustomPolicy request (one per action × resource)."""
    from .simulator import is_simulator_request, scenarios

    if is_simulator_request(raw):
        policies, requests = scenarios(raw)
        engine = compile_policies(policies, base_dir)
        return [engine.decide(r) for r in requests]
    if isinstance(raw, Mapping):
        return [simulate_scenario(raw, base_dir)]
    raise ScenarioError("scenario", f"expected an object, found {type(raw).__name__}")


def compile(policies: Mapping) -> Engine:  # noqa: A001 - the API's word
    """``engine = iamlogic.compile(policies)``; ``engine.decide(request)`` for many requests."""
    return compile_policies(policies)


__all__ = ["Request", "compile", "compile_policies", "load_policy", "read_scenario", "simulate"]
