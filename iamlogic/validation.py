"""parse_policy and validate: the front of the pipeline, as the API offers it."""

from __future__ import annotations

from collections.abc import Iterable

from .translator import Finding, FindingType, Policy, PolicyType, read_policy
from .translator.catalogue_checks import catalogue_findings
from .translator.lint_checks import lint_findings
from .translator.findings import AwsError, AwsStage, CappedFindings, Location
from .translator.reader import IAM_TYPES
from .errors import PolicyError, UsageError
from .inputs import quote

PolicyInput = str | bytes | dict | list


def validate(
    document: PolicyInput,
    policy_type: PolicyType | str = PolicyType.IDENTITY,
    name: str = "<policy>",
    catalogue: bool = True,
    lint: bool = True,
) -> list[Finding]:
    """Every finding for one document: the grammar's, in document order, then
    (``catalogue=True``) the service catalogue's — actions that do not exist,
    unknown condition keys, operators that do not fit a key's type — then the
    linter's (``lint=True``; translator/lint_checks.py: iam:PassRole on "*",
    redundant actions, Allow with NotPrincipal, ...). At most
    MAX_FINDINGS of them, then one FINDINGS_LEFT_OUT counting the rest
    (translator/findings.py). Never raises on bad input."""
    policy, findings = _read(document, _policy_type(policy_type), name)
    if policy is not None:
        # One cap over all: at most MAX_FINDINGS per document, the rest counted.
        capped = CappedFindings(name)
        capped.extend(findings)
        if catalogue:
            capped.extend(catalogue_findings(policy))
        if lint:
            capped.extend(lint_findings(policy))
        findings = [f.with_spans(policy.source) for f in capped.findings()]  # the left-out one's too
    return findings


def parse_policy(
    document: PolicyInput | Policy,
    policy_type: PolicyType | str = PolicyType.IDENTITY,
    name: str = "<policy>",
    blocking: Iterable[FindingType | str] = (FindingType.ERROR,),
) -> Policy:
    """The typed model of a policy; raises ``PolicyError`` (with all findings)
    when the document has a blocking finding."""
    if isinstance(document, Policy):
        return document
    policy, findings = _read(document, _policy_type(policy_type), name)
    blocking = {FindingType(b) for b in blocking}
    if policy is None or any(f.finding_type in blocking for f in findings):
        raise PolicyError(findings, name)
    return policy


def _read(document, policy_type: PolicyType, name: str):
    """read_policy; a dict or list nested too deeply for it is one finding
    (text nested so is one already), never a RecursionError."""
    try:
        return read_policy(document, policy_type, name)
    except RecursionError:
        aws = AwsError("MalformedPolicyDocument", "Syntax errors in policy.", AwsStage.JSON) \
            if policy_type in IAM_TYPES else None
        return None, [Finding(FindingType.ERROR, "JSON_SYNTAX_ERROR", "The document nests too deeply to be a policy.",
                              (Location(()),), aws, name)]


def _policy_type(value: PolicyType | str) -> PolicyType:
    try:
        return PolicyType(value)
    except ValueError:
        kinds = ", ".join(t.value for t in PolicyType)
        raise UsageError(f"unknown policy type {quote(value)} (one of {kinds})") from None
