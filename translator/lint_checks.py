"""The checks a policy linter is expected to make beyond the grammar:
Access Analyzer's security warnings, general warnings and suggestions that
can be decided from the document alone (docs/access-analyzer-checks.md lists
every Access Analyzer code with what is done and why), and a few of
iamlogic's own (ALLOW_WITH_NOT_ACTION, ALLOW_WITH_NOT_RESOURCE,
OVERLY_PERMISSIVE_WILDCARD).

None of these is an ERROR: IAM stores every document they flag (AWS's own
managed policies pass iam:PassRole on "*" and use Allow with NotAction), so
they never block by default, and they carry no IAM error. The messages of
Access Analyzer's codes are its own ``findingDetails`` wording.
"""

from __future__ import annotations

import re

from ..kernel.matching import action_regex, resource_regex
from .findings import CappedFindings, Finding, FindingType, Location
from .model import ActionPattern, Effect, Policy, PolicyType, ResourcePattern, Statement

SECURITY_WARNING, WARNING, SUGGESTION = FindingType.SECURITY_WARNING, FindingType.WARNING, FindingType.SUGGESTION

# The policy types whose Allow grants an IAM principal permissions: the
# PassRole / CreateServiceLinkedRole checks are about what a principal may do.
_GRANTING = {PolicyType.IDENTITY}

# Access Analyzer's findingDetails, verbatim (IAM User Guide, "IAM policy
# validation check reference"), keyed by issue code.
_PASS_ROLE = {
    "PASS_ROLE_WITH_STAR_IN_RESOURCE":
        "Using the iam:PassRole action with wildcards (*) in the resource can be overly permissive because it allows "
        "iam:PassRole permissions on multiple resources. We recommend that you specify resource ARNs or add the "
        "iam:PassedToService condition key to your statement.",
    "PASS_ROLE_WITH_STAR_IN_ACTION_AND_RESOURCE":
        "Using wildcards (*) in the action and the resource can be overly permissive because it allows iam:PassRole "
        "permissions on all resources. We recommend that you specify resource ARNs or add the iam:PassedToService "
        "condition key to your statement.",
    "PASS_ROLE_WITH_STAR_IN_RESOURCE_AND_NOT_ACTION":
        "Using a resource with wildcards (*) and NotAction can be overly permissive because it allows iam:PassRole "
        "permissions on all resources. We recommend that you specify resource ARNs or add the iam:PassedToService "
        "condition key to your statement.",
    "PASS_ROLE_WITH_NOT_RESOURCE":
        "Using the iam:PassRole action with NotResource can be overly permissive because it can allow iam:PassRole "
        "permissions on multiple resources. We recommend that you specify resource ARNs instead.",
    "PASS_ROLE_WITH_STAR_IN_ACTION_AND_NOT_RESOURCE":
        "Using an action with a wildcard (*) and NotResource can be overly permissive because it can allow "
        "iam:PassRole permissions on multiple resources. We recommend that you specify resource ARNs instead.",
    "PASS_ROLE_WITH_NOT_ACTION_AND_NOT_RESOURCE":
        "Using NotAction with NotResource can be overly permissive because it can allow iam:PassRole permissions on "
        "multiple resources.. We recommend that you specify resource ARNs instead.",
}
_CREATE_SLR = {
    "CREATE_SLR_WITH_STAR_IN_RESOURCE":
        "Using the iam:CreateServiceLinkedRole action with wildcards (*) in the resource can allow creation of "
        "unintended service-linked roles. We recommend that you specify resource ARNs instead.",
    "CREATE_SLR_WITH_STAR_IN_ACTION_AND_RESOURCE":
        "Using wildcards (*) in the action and the resource can allow creation of unintended service-linked roles "
        "because it allows iam:CreateServiceLinkedRole permissions on all resources. We recommend that you specify "
        "resource ARNs instead.",
    "CREATE_SLR_WITH_STAR_IN_RESOURCE_AND_NOT_ACTION":
        "Using a resource with wildcards (*) and NotAction can allow creation of unintended service-linked roles "
        "because it allows iam:CreateServiceLinkedRole permissions on all resources. We recommend that you specify "
        "resource ARNs instead.",
    "CREATE_SLR_WITH_NOT_RESOURCE":
        "Using the iam:CreateServiceLinkedRole action with NotResource can allow creation of unintended "
        "service-linked roles for multiple resources. We recommend that you specify resource ARNs instead.",
    "CREATE_SLR_WITH_STAR_IN_ACTION_AND_NOT_RESOURCE":
        "Using an action with a wildcard(*) and NotResource can allow creation of unintended service-linked roles "
        "because it can allow iam:CreateServiceLinkedRole permissions on multiple resources. We recommend that you "
        "specify resource ARNs instead.",
    "CREATE_SLR_WITH_NOT_ACTION_AND_NOT_RESOURCE":
        "Using NotAction with NotResource can allow creation of unintended service-linked roles because it allows "
        "iam:CreateServiceLinkedRole permissions on multiple resources. We recommend that you specify resource ARNs "
        "instead.",
}
ALLOW_WITH_NOT_PRINCIPAL = "Using Allow with NotPrincipal can be overly permissive. We recommend that you use " \
                           "Principal instead."
EMPTY_SID_VALUE = "Add a value to the empty string in the Sid element."
EMPTY_OBJECT_PRINCIPAL = "This statement includes no principals and does not affect the policy. Specify principals."
EMPTY_OBJECT_CONDITION = "This condition block is empty and it does not affect the policy. Specify conditions."
NULL_WITH_QUALIFIER = "Avoid using the Null condition operator with the ForAllValues or ForAnyValue qualifiers " \
                      "because they always return a true or false respectively."
WILDCARD_IN_SERVICE_NAME = "Avoid using wildcards (*, ?) in the service name because it might grant unintended " \
                           "access to other AWS services with similar names."
REDUNDANT_STATEMENT = "The statements are redundant because they provide identical permissions. Update the policy " \
                      "to remove the redundant statement."

# Services where a whole-service wildcard on every resource hands over the
# keys of the account: identities, credentials, keys, secrets, the
# organization. iamlogic's own check (Access Analyzer has no such code).
SENSITIVE_SERVICES = ("iam", "sts", "kms", "secretsmanager", "organizations", "ssm", "lambda", "ec2", "s3")

_EMPTY_CONTAINER = re.compile(r"\{\s*\}|\[\s*\]")


def lint_findings(policy: Policy) -> list[Finding]:
    """The linter's findings for one document, in statement order; spans resolved."""
    out = CappedFindings(policy.name)

    def report(kind: FindingType, code: str, message: str, path, on_key: bool = False) -> None:
        out.append(Finding(kind, code, message, (Location(path, None, on_key),), None, policy.name))

    granting = policy.policy_type in _GRANTING
    # Only documents with an empty {} or [] somewhere can have an empty Principal or Condition.
    has_empty = bool(_EMPTY_CONTAINER.search(policy.source.text))
    for st in policy.statements:
        if st.sid == "":
            report(SUGGESTION, "EMPTY_SID_VALUE", EMPTY_SID_VALUE, st.path + ("Sid",))
        if has_empty:
            _empty_elements(policy, st, report)
        for pattern in (st.action or ()) + (st.not_action or ()):
            if pattern.names_action and pattern.service is not None and any(c in pattern.service for c in "*?"):
                report(SUGGESTION, "WILDCARD_IN_SERVICE_NAME", WILDCARD_IN_SERVICE_NAME, pattern.path)
        for clause in st.condition:
            if clause.operator.base == "Null" and clause.operator.qualifier is not None:
                report(SUGGESTION, "NULL_WITH_QUALIFIER", NULL_WITH_QUALIFIER, clause.path, on_key=True)
        if st.effect is not Effect.ALLOW:
            continue
        if st.not_principal is not None:
            report(SECURITY_WARNING, "ALLOW_WITH_NOT_PRINCIPAL", ALLOW_WITH_NOT_PRINCIPAL, st.path + ("NotPrincipal",),
                   on_key=True)
        if granting:
            _sensitive_action(st, "iam:PassRole", _PASS_ROLE, SECURITY_WARNING, report,
                              unless_key="iam:passedtoservice")
            _sensitive_action(st, "iam:CreateServiceLinkedRole", _CREATE_SLR, WARNING, report)
            if st.not_action is not None:
                report(WARNING, "ALLOW_WITH_NOT_ACTION", "Allow with NotAction allows every action it does not list, "
                       "including those AWS adds later. We recommend that you list the actions in Action instead.",
                       st.path + ("NotAction",), on_key=True)
            if st.not_resource is not None:
                report(WARNING, "ALLOW_WITH_NOT_RESOURCE", "Allow with NotResource allows every resource it does "
                       "not list, including those created later. We recommend that you list the resources in "
                       "Resource instead.", st.path + ("NotResource",), on_key=True)
            _overly_permissive(st, report)
        _redundant_actions(st, report)
        _redundant_resources(st, report)
    _redundant_statements(policy, report)
    return [f.with_spans(policy.source) for f in out.findings()]


def _empty_elements(policy: Policy, st: Statement, report) -> None:
    """An empty Principal object (or one whose lists are all empty), and an empty Condition block."""
    source = policy.source
    for name, entries in (("Principal", st.principal), ("NotPrincipal", st.not_principal)):
        span = source.span(st.path + (name,)) if entries == () else None
        if span is not None:
            empty_object = _blank(source.text[span.start:span.end]) == "{}"
            report(SUGGESTION, "EMPTY_OBJECT_PRINCIPAL" if empty_object else "EMPTY_ARRAY_PRINCIPAL",
                   EMPTY_OBJECT_PRINCIPAL, st.path + (name,))
    span = source.span(st.path + ("Condition",)) if not st.condition else None
    if span is not None and _blank(source.text[span.start:span.end]) == "{}":
        report(SUGGESTION, "EMPTY_OBJECT_CONDITION", EMPTY_OBJECT_CONDITION, st.path + ("Condition",))


def _blank(text: str) -> str:
    return "".join(text.split())


def _grants(st: Statement, action: str) -> tuple[bool, bool] | None:
    """Whether the statement's action element covers ``action``: None if not;
    else (through a wildcard, through NotAction)."""
    if st.action is not None:
        hits = [p for p in st.action if p.names_action and (p.service is None or action_regex(p.text).fullmatch(action))]
        if not hits:
            return None
        return (not any(p.text.lower() == action.lower() for p in hits), False)
    if st.not_action is not None:
        if any(p.names_action and (p.service is None or action_regex(p.text).fullmatch(action)) for p in st.not_action):
            return None
        return (False, True)
    return None


def _all_roles(p: ResourcePattern) -> bool:
    """``*``, or an ARN whose resource part names every role (``*``, ``role/*``)."""
    if p.is_any:
        return True
    if p.arn_parts is None or p.resource is None or len(p.arn_parts) < 4 or p.arn_parts[1] not in ("iam", "*"):
        return False
    part = p.text.split(":", 5)[-1]
    return part in ("*", "role/*", "*role/*")


def _sensitive_action(st: Statement, action: str, codes: dict[str, str], kind: FindingType, report,
                      unless_key: str | None = None) -> None:
    """The PassRole (or CreateServiceLinkedRole) family: which of the six
    codes, located at the resource entry (or NotResource) that lets it through."""
    how = _grants(st, action)
    if how is None:
        return
    star_action, not_action = how
    prefix = next(iter(codes)).removesuffix("_WITH_STAR_IN_RESOURCE")
    if st.not_resource is not None:
        if any(resource_matches_role(p) for p in st.not_resource):
            return  # the NotResource excludes the roles themselves
        code = (f"{prefix}_WITH_NOT_ACTION_AND_NOT_RESOURCE" if not_action else
                f"{prefix}_WITH_STAR_IN_ACTION_AND_NOT_RESOURCE" if star_action else f"{prefix}_WITH_NOT_RESOURCE")
        report(kind, code, codes[code], st.path + ("NotResource",), on_key=True)
        return
    wide = [p for p in st.resource or () if _all_roles(p)]
    if not wide:
        return
    if unless_key and any(c.key.lower() == unless_key for c in st.condition):
        return  # iam:PassedToService narrows the grant to the services named
    code = (f"{prefix}_WITH_STAR_IN_RESOURCE_AND_NOT_ACTION" if not_action else
            f"{prefix}_WITH_STAR_IN_ACTION_AND_RESOURCE" if star_action else f"{prefix}_WITH_STAR_IN_RESOURCE")
    report(kind, code, codes[code], wide[0].path)


def resource_matches_role(p: ResourcePattern) -> bool:
    """A NotResource entry that covers every role (so the statement cannot reach one)."""
    return _all_roles(p)


def _overly_permissive(st: Statement, report) -> None:
    """service:* (or *) on every resource, with no condition, for a sensitive service."""
    if st.condition or st.action is None or not any(p.is_any for p in st.resource or ()):
        return
    for p in st.action:
        if p.names_action and p.service in SENSITIVE_SERVICES and p.name == "*":
            report(WARNING, "OVERLY_PERMISSIVE_WILDCARD", f"{p.text} on every resource grants all of {p.service}, "
                   f"including its permissions-management actions. We recommend that you list the actions needed.",
                   p.path)


def _covers_action(q: ActionPattern, p: ActionPattern) -> bool:
    """Every action ``p`` matches, ``q`` matches too (decided exactly for these
    cases: ``q`` is ``*`` or ``service:*``, or ``p`` names one action)."""
    if not (q.names_action and p.names_action):
        return False
    if q.service is None:
        return True
    if p.service is None:
        return False
    if q.name == "*" and q.service == p.service and "*" not in q.service and "?" not in q.service:
        return True
    if "*" in p.text or "?" in p.text:
        return q.text.lower() == p.text.lower()
    return bool(action_regex(q.text).fullmatch(p.text))


def _redundant_actions(st: Statement, report) -> None:
    patterns = st.action or ()
    if len(patterns) < 2:
        return
    redundant = [p for i, p in enumerate(patterns)
                 if any(_covers_action(q, p) and (j < i or not _covers_action(p, q))
                        for j, q in enumerate(patterns) if j != i)]
    if redundant:
        report(SUGGESTION, "REDUNDANT_ACTION", f"The {len(redundant)} action(s) are redundant because they provide "
               f"similar permissions. Update the policy to remove the redundant action such as: "
               f"{redundant[0].text}.", redundant[0].path)


def _literal_resource(p: ResourcePattern) -> bool:
    return p.arn_parts is not None and p.resource is not None and all(isinstance(t, str) for t in p.resource)


def _covers_resource(q: ResourcePattern, p: ResourcePattern) -> bool:
    """Every ARN ``p`` names, ``q`` names too: ``q`` is ``*``, the same text,
    or ``p`` has no wildcard or variable and ``q``'s glob matches it."""
    if q.is_any:
        return True
    if p.is_any or q.arn_parts is None or p.arn_parts is None:
        return False
    if q.text == p.text:
        return True
    if not (_literal_resource(p) and _literal_resource(q)) or any(c in p.text for c in "*?"):
        return False
    runs = tuple((t, True) for t in q.resource)
    return bool(resource_regex(q.arn_parts, runs).fullmatch(p.text))


def _redundant_resources(st: Statement, report) -> None:
    patterns = st.resource or ()
    if len(patterns) < 2:
        return
    redundant = [p for i, p in enumerate(patterns)
                 if any(_covers_resource(q, p) and (j < i or not _covers_resource(p, q))
                        for j, q in enumerate(patterns) if j != i)]
    if redundant:
        report(SUGGESTION, "REDUNDANT_RESOURCE", f"The {len(redundant)} resource ARN(s) are redundant because they "
               f"reference the same resource. Review the use of wildcards (*)", redundant[0].path)


def _statement_key(st: Statement):
    """What a statement grants or denies, its Sid aside: equal keys, identical permissions."""
    def texts(entries, fold=False):
        return None if entries is None else frozenset(e.text.lower() if fold else e.text for e in entries)

    def principals(entries):
        return None if entries is None else frozenset((e.kind, e.value) for e in entries)

    conditions = frozenset((c.operator.text, c.key.lower(), frozenset(v.text for v in c.values)) for c in st.condition)
    return (st.effect, principals(st.principal), principals(st.not_principal), texts(st.action, True),
            texts(st.not_action, True), texts(st.resource), texts(st.not_resource), conditions)


def _redundant_statements(policy: Policy, report) -> None:
    seen: dict = {}
    for st in policy.statements:
        if st.effect is None or (st.action is None and st.not_action is None):
            continue
        key = _statement_key(st)
        if key in seen:
            report(SUGGESTION, "REDUNDANT_STATEMENT", REDUNDANT_STATEMENT, st.path)
        else:
            seen[key] = st
