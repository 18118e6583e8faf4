"""The scenario contract: the policies that apply and a request.

    {"policies": {"identity": [POLICY...], "resource": POLICY|null,
                  "boundary": [POLICY]|null, "scps": [[POLICY...], ...]|null,
                  "rcps": [[POLICY...], ...]|null, "session": POLICY|null,
                  "vpc_endpoint": [POLICY]|null},
     "request": {"principal": ..., "action": ..., "resource": ...,
                 "resource_account": ..., "context": {...}}}

A POLICY is a JSON object or a path (a string, relative to the scenario
file, that must stay inside its folder unless a policy root is given); from
Python also bytes, PolicyText (JSON text) or a Policy. An SCP/RCP level is a list of policies, or {"name": "ou-2",
"policies": [...]} to name it. Every error names the field it is about.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path

from .errors import InputError, PolicyError, ScenarioError
from .inputs import check_path_text, parse_json, quote, read_bytes
from .kernel.decision import Decision
from .kernel.engine import Engine, PolicyLayer
from .kernel.request import Request, read_request
from .translator import Finding, FindingType, Policy, PolicyType, read_policy
from .translator.findings import finding_codes

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


def unevaluable(findings: list[Finding]) -> list[Finding]:
    """The findings that leave a policy without one meaning (ERRORs outside
    EVALUABLE_ERRORS); a FINDINGS_LEFT_OUT is one when any finding it counts is."""
    return [f for f in findings
            if any(kind is FindingType.ERROR and code not in EVALUABLE_ERRORS for kind, code in finding_codes(f))]


class PolicyText(str):
    """A policy document given as JSON text: never read as a path (the
    SimulateCustomPolicy request's strings, the proofs' arguments).
    ``source`` names where the text came from (a file) in error messages."""

    source: str | None

    def __new__(cls, text: str, source: str | None = None):
        obj = super().__new__(cls, text)
        obj.source = source
        return obj


def _confined(path: Path, root: Path | None, field: str, shown: str) -> None:
    """A scenario's relative or absolute path must lead (links resolved)
    inside ``root``: a scenario is input, and may come from anyone."""
    if root is None:
        return
    try:
        real, top = os.path.realpath(path), os.path.realpath(root)
    except (OSError, ValueError):
        raise ScenarioError(field, f"cannot resolve the path {quote(shown)}") from None
    if os.path.commonpath([real, top]) != top:
        raise ScenarioError(field, f"the path {quote(shown)} leads outside {os.path.normpath(root)} (the "
                                   "scenario's folder); a scenario reads files under its own folder only "
                                   "unless a policy root is given (--policy-root)")


def load_policy(raw: object, policy_type: PolicyType, field: str, base_dir: Path | None,
                root: Path | None | bool = True) -> tuple[str, Policy]:
    """(policy id, model) for one POLICY of a scenario: a Policy; a document
    (an object, bytes, PolicyText); or a path — a string is a path relative
    to ``base_dir`` (default: the working folder) that must stay inside
    ``root`` (True: ``base_dir`` itself; None: anywhere), an os.PathLike is a
    path the program gave and is not confined. Files are read bounded
    (iamlogic/inputs.py)."""
    name = shown = field
    if isinstance(raw, Policy):
        return raw.name or name, raw
    if isinstance(raw, PolicyText):
        shown = raw.source or field
        raw = str(raw)
    elif isinstance(raw, (bytes, bytearray)):
        raw = bytes(raw)
    elif isinstance(raw, (str, os.PathLike)):
        explicit = isinstance(raw, os.PathLike)
        try:
            text = check_path_text(raw, field)
        except InputError as e:
            raise ScenarioError(field, str(e).removeprefix(f"{field}: ")) from None
        path = Path(text)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        if not explicit:
            _confined(path, (base_dir or Path.cwd()) if root is True else (root or None), field, text)
        try:
            raw = read_bytes(path, quote(text))
        except InputError as e:
            raise ScenarioError(field, f"cannot read policy file {e}") from None
        name = shown = os.path.normpath(path)
        raw = _held_policy(raw, shown, field)
    elif isinstance(raw, Mapping):
        raw = dict(raw)
    else:
        raise ScenarioError(field, f"a policy is an object or a file path, not {type(raw).__name__}")
    try:
        policy, findings = read_policy(raw, policy_type, name)
    except RecursionError:
        raise ScenarioError(field, "the policy nests too deeply to be read") from None
    blocking = unevaluable(findings)
    if policy is None or blocking:
        raise PolicyError(blocking or findings, shown)
    return name, policy


def _held_policy(data: bytes, shown: str, field: str):
    """The policy a file holds (sources.py): the file itself, or the one
    policy an AWS CLI output, template or plan holds."""
    from .sources import policies_in

    try:
        found, why = policies_in(data, shown)
    except InputError as e:
        raise ScenarioError(field, str(e)) from None
    if len(found) != 1:
        raise ScenarioError(field, f"{shown} holds {len(found)} policies; a scenario names one file per policy"
                            if found else f"{shown}: {why}")
    policy = found[0]
    if policy.variants:  # a scenario is one deployment: which one is the question's to say
        raise ScenarioError(field, f"{shown}: {policy.name} differs between deployments "
                                   f"({'; '.join(v.valuation for v in policy.variants)}): a scenario reads "
                                   "one deployment's policy")
    if policy.problem is not None:
        from .sources import where

        raise ScenarioError(field, where(policy))
    document = policy.document
    return document.encode("utf-8") if isinstance(document, str) else document


def _policy_list(raw: object, field: str) -> list:
    if isinstance(raw, list):
        return raw
    if isinstance(raw, (Mapping, str, bytes, os.PathLike, Policy)):
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


def compile_policies(policies: Mapping, base_dir: Path | None = None, root: Path | None | bool = True,
                     engine: type[Engine] = Engine) -> Engine:
    """An Engine for a scenario's ``policies`` object (paths: load_policy)."""
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
            layer.policies.append(load_policy(raw, ptype, f"policies.{key}", base_dir, root))
        else:
            for i, item in enumerate(_policy_list(raw, f"policies.{key}")):
                layer.policies.append(load_policy(item, ptype, f"policies.{key}[{i}]", base_dir, root))
        layers.append(layer)
    for kind, ptype in (("scps", PolicyType.SCP), ("rcps", PolicyType.RCP)):
        if policies.get(kind) is None:
            continue
        for i, (name, items) in enumerate(_levels(policies[kind], f"policies.{kind}", kind[:-1])):
            layer = PolicyLayer(f"{kind[:-1]}/{i}", f"the {kind[:-1].upper()} level {name}")
            for j, item in enumerate(items):
                layer.policies.append(load_policy(item, ptype, f"policies.{kind}[{i}][{j}]", base_dir, root))
            layers.append(layer)
    return engine(layers)


def read_scenario(scenario: Mapping | str | bytes | os.PathLike) -> tuple[Mapping, Path | None]:
    """The scenario object and the folder its relative policy paths start
    from: a path (os.PathLike) is a scenario file; a str or bytes is the
    scenario's JSON text; a mapping is the scenario itself."""
    if isinstance(scenario, os.PathLike):
        path = Path(scenario)
        return parse_json(read_bytes(path), str(path)), path.parent
    if isinstance(scenario, (str, bytes, bytearray)):
        return parse_json(scenario, "<scenario>"), None
    if not isinstance(scenario, Mapping):
        raise ScenarioError("scenario", f"expected an object, found {type(scenario).__name__}")
    return scenario, None


def simulate(scenario: Mapping | str | os.PathLike, policy_root: str | os.PathLike | None = None) -> Decision:
    """Decide one scenario's request against its policies (a scenario object,
    its JSON text, or a pathlib.Path to a scenario file). Policy paths in the
    scenario stay inside its folder (the working folder for a scenario given
    as an object or text) unless ``policy_root`` names a wider one."""
    raw, base_dir = read_scenario(scenario)
    return simulate_scenario(raw, base_dir, policy_root_of(policy_root))


def policy_root_of(policy_root: str | os.PathLike | None) -> Path | bool:
    """load_policy's ``root``: the one given, or True (the scenario's folder)."""
    return True if policy_root is None else Path(check_path_text(policy_root, "policy_root"))


def simulate_scenario(raw: object, base_dir: Path | None, root: Path | bool = True) -> Decision:
    if not isinstance(raw, Mapping):
        raise ScenarioError("scenario", f"expected an object, found {type(raw).__name__}")
    unknown = [k for k in raw if k not in ("policies", "request", "name", "description")]
    if unknown:
        raise ScenarioError(unknown[0], "unknown field (expected policies, request)")
    if "policies" not in raw:
        raise ScenarioError("policies", "missing")
    if "request" not in raw:
        raise ScenarioError("request", "missing")
    request = read_request(check_request(raw["request"]))
    return compile_policies(raw["policies"], base_dir, root).decide(request)


def simulate_one(raw: object, base_dir: Path | None = None, root: Path | bool = True) -> list[Decision]:
    """The decisions for one input: a scenario (one decision) or a
    SimulateCustomPolicy request (one per action × resource)."""
    return list(decisions_of(raw, base_dir, root))


def decisions_of(raw: object, base_dir: Path | None = None, root: Path | bool = True) -> Iterator[Decision]:
    """simulate_one's decisions, each made when it is asked for, so that up to
    MAX_REQUESTS of them are written out one at a time, never all held. Every
    request is read first: a bad one is an error before any is decided."""
    from .simulator import is_simulator_request, scenarios

    if is_simulator_request(raw):
        policies, requests = scenarios(raw)
        engine = compile_policies(policies, base_dir, root)
        read = [read_request(check_request(r)) for r in requests]
        return (engine.decide(r) for r in read)
    if isinstance(raw, Mapping):
        return iter([simulate_scenario(raw, base_dir, root)])
    raise ScenarioError("scenario", f"expected an object, found {type(raw).__name__}")


def compile(policies: Mapping, policy_root: str | os.PathLike | None = None) -> Engine:  # noqa: A001
    """``engine = iamlogic.compile(policies)``; ``engine.decide(request)`` for many requests.
    Policy paths are relative to the working folder and stay inside it
    unless ``policy_root`` names a wider one."""
    return compile_policies(policies, None, policy_root_of(policy_root), CheckedEngine)


class CheckedEngine(Engine):
    """The API's Engine: a request of the wrong types is a ScenarioError
    naming the field (check_request), not an exception from the matcher."""

    def decide(self, request):
        return super().decide(check_request(request))

    def trace(self, request):
        return super().trace(check_request(request))


def check_request(raw: object, where: str = "request") -> object:
    """The types the kernel's request reader takes for granted, checked with
    the field named: the principal a string or null, context keys strings,
    the values strings, booleans, integers (as the JSON reader gives them) or
    lists of them."""
    if not isinstance(raw, Mapping):
        return raw  # read_request names it
    if "principal" in raw and raw["principal"] is not None and not isinstance(raw["principal"], str):
        raise ScenarioError(f"{where}.principal", f"expected an ARN, a service name or null, not "
                                                  f"{quote(raw['principal'])}")
    for name in ("principal", "action", "resource", "resource_account"):
        value = raw.get(name)
        if isinstance(value, str) and len(value) > 2048:
            raise ScenarioError(f"{where}.{name}", f"{quote(value)} is longer than any AWS name (2048)")
    context = raw.get("context")
    if isinstance(context, Mapping):
        for key, value in context.items():
            if not isinstance(key, str):
                raise ScenarioError(f"{where}.context", f"a condition key is a string, not {quote(key)}")
            for v in (value if type(value) is list else (value,)):
                if type(v) is int and abs(v) > 10 ** 64:
                    raise ScenarioError(f"{where}.context.{key}", "a number too large to compare")
    return raw


__all__ = ["PolicyText", "Request", "check_request", "compile", "compile_policies", "load_policy", "read_scenario",
           "simulate"]
