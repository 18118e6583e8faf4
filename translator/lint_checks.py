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

import ipaddress
import re

from ..kernel.matching import action_regex, resource_regex
from .findings import CappedFindings, Finding, FindingType, Location
from .model import ActionPattern, Effect, Policy, PolicyType, PrincipalKind, ResourcePattern, Statement

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

WILDCARD_WITHOUT_LIKE = "Your condition value includes a * or ? character. If you meant to use a wildcard (*, ?), " \
                        "update the condition operator to include Like."
DEPRECATED_ARN_KEY = "We recommend that you update aws:ARN to use the newer condition key aws:PrincipalArn."
PRIVATE_IP = {
    ("IpAddress", False): ("PRIVATE_IP_ADDRESS", WARNING,
                           "aws:SourceIp works only for public IP address ranges. The values for condition key "
                           "aws:SourceIp include only private IP addresses and will not have the desired effect. "
                           "Update the value to include only public IP addresses."),
    ("NotIpAddress", False): ("PRIVATE_NOT_IP_ADDRESS", WARNING,
                              "The values for condition key aws:SourceIp include only private IP addresses and has no "
                              "effect. aws:SourceIp works only for public IP address ranges. Update the value to "
                              "include only public IP addresses."),
    ("IpAddress", True): ("PRIVATE_IP_ADDRESS_SUBSET", SUGGESTION,
                          "The values for condition key aws:SourceIp include a mix of private and public IP "
                          "addresses. The private addresses will not have the desired effect. aws:SourceIp works "
                          "only for public IP address ranges. To define permissions for private IP ranges, use "
                          "aws:VpcSourceIp."),
    ("NotIpAddress", True): ("PRIVATE_NOT_IP_ADDRESS_SUBSET", SUGGESTION,
                             "The values for condition key aws:SourceIp include a mix of private and public IP "
                             "addresses. The private addresses have no effect. aws:SourceIp works only for public IP "
                             "address ranges. To define permissions for private IP ranges, use aws:VpcSourceIp."),
}
# Equality operators that read a * or ? as the character itself (ArnEquals
# does not: it matches like ArnLike, wildcards and all — IAM User Guide,
# "Amazon Resource Name (ARN) condition operators").
_EQUALITY = {"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"}
# Any one value of these decides; with several, the widest alone does.
_ONE_BOUND = {"NumericLessThan": "greatest", "NumericLessThanEquals": "greatest",
              "NumericGreaterThan": "least", "NumericGreaterThanEquals": "least"}
# What makes a service principal's grant specific to a source (Access Analyzer:
# "Restrict access to service principal").
_SOURCE_KEYS = {"aws:sourcearn", "aws:sourceaccount", "aws:sourceorgid", "aws:sourceorgpaths"}
# Private address space (RFC 1918, RFC 4193): never a request's aws:SourceIp.
_PRIVATE_NETWORKS = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                                             "fc00::/7"))
GITHUB_PROVIDER = "token.actions.githubusercontent.com"
MISSING_GITHUB_SUB = "Granting a federated GitHub principal permissions without a condition key can allow more " \
                     "sources to assume the role than you intended. Add the token.actions.githubusercontent.com:sub " \
                     "condition key and specify the branch and repository name in the value."
RESTRICT_SERVICE_PRINCIPAL = "Granting access to a service principal without specifying a source is overly " \
                             "permissive. Use aws:SourceArn or aws:SourceAccount condition key and scope access to " \
                             "a specific source to grant fine-grained access."

# Access Analyzer calls these two ERRORs; IAM stores such documents (a
# service in capitals names nothing: ARNs match case-sensitively), so they
# are WARNINGs here.
ARN_SERVICE_CASE = "Update the service name in the resource ARN to use all lowercase letters."
CONDITION_KEY_FORMAT = "The condition key format is not valid. Use the format service:keyname."

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
        for pattern in (st.resource or ()) + (st.not_resource or ()):
            service = pattern.arn_parts[1] if pattern.arn_parts and len(pattern.arn_parts) > 1 else ""
            if service != service.lower():
                report(WARNING, "INVALID_ARN_SERVICE_CASE", ARN_SERVICE_CASE, pattern.path)
        for clause in st.condition:
            if ":" not in clause.key:
                report(WARNING, "INVALID_CONDITION_KEY_FORMAT", CONDITION_KEY_FORMAT, clause.path, on_key=True)
            if clause.operator.base == "Null" and clause.operator.qualifier is not None:
                report(SUGGESTION, "NULL_WITH_QUALIFIER", NULL_WITH_QUALIFIER, clause.path, on_key=True)
            _condition_values(clause, report)
        if st.effect is Effect.ALLOW and policy.policy_type in (PolicyType.RESOURCE, PolicyType.TRUST):
            _principals_without_source(policy, st, report)
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


def _literal_parts(value) -> list[str]:
    """The text of a condition value that is policy text, not a variable or an escape."""
    return [value.text] if value.template is None else [t for t in value.template if isinstance(t, str)]


def _condition_values(clause, report) -> None:
    """Checks on one condition clause's values: a wildcard an equality
    operator reads literally, aws:ARN, IP ranges, redundant numeric bounds."""
    base, key = clause.operator.base, clause.key.lower()
    if key == "aws:arn":
        report(WARNING, "DEPRECATED_GLOBAL_CONDITION_KEY", DEPRECATED_ARN_KEY, clause.path, on_key=True)
    if base in _EQUALITY:
        for value in clause.values:
            if any("*" in part or "?" in part for part in _literal_parts(value)):
                report(WARNING, "WILDCARD_WITHOUT_LIKE_OPERATOR", WILDCARD_WITHOUT_LIKE, value.path)
                break
    if base in ("IpAddress", "NotIpAddress"):
        _ip_values(clause, key, report)
    if base in _ONE_BOUND and clause.operator.qualifier is None and len(clause.values) > 1 \
            and all(v.template is None for v in clause.values):
        report(SUGGESTION, "REDUNDANT_CONDITION_VALUE_NUM", f"Multiple values in {base} are redundant. Replace with "
               f"the {_ONE_BOUND[base]} single value for {clause.key}.", clause.path, on_key=True)


def _ip_values(clause, key: str, report) -> None:
    networks = []
    for value in clause.values:
        if value.template is not None:
            return
        try:
            strict = ipaddress.ip_network(value.text.strip(), strict=False)
        except ValueError:
            return  # not an address: the grammar's finding
        networks.append(strict)
        if "/" in value.text and ipaddress.ip_address(value.text.strip().split("/")[0]) != strict.network_address:
            report(SUGGESTION, "IMPROVE_IP_RANGE", "The non-zero bits in the IP address after the masked bits are "
                   f"ignored. Replace address with {strict}.", value.path)
    if key == "aws:sourceip" and networks:
        private = [any(n.version == p.version and n.subnet_of(p) for p in _PRIVATE_NETWORKS) for n in networks]
        if any(private):
            code, kind, message = PRIVATE_IP[clause.operator.base, not all(private)]
            report(kind, code, message, clause.path, on_key=True)


def _principals_without_source(policy: Policy, st: Statement, report) -> None:
    """A GitHub Actions trust without a ``sub`` condition; a resource
    policy's grant to a service principal without a source condition."""
    keys = {c.key.lower() for c in st.condition}
    for entry in st.principal or ():
        if policy.policy_type is PolicyType.TRUST and GITHUB_PROVIDER in entry.value \
                and f"{GITHUB_PROVIDER}:sub" not in keys:
            report(SECURITY_WARNING, "MISSING_GITHUB_REPO_CONDITION_KEY", MISSING_GITHUB_SUB, entry.path)
        if policy.policy_type is PolicyType.RESOURCE and entry.kind is PrincipalKind.SERVICE \
                and not keys & _SOURCE_KEYS:
            report(SECURITY_WARNING, "RESTRICT_ACCESS_TO_SERVICE_PRINCIPAL", RESTRICT_SERVICE_PRINCIPAL, entry.path)


def _blank(text: str) -> str:
    return "".join(text.split())


def _may_match(p: ActionPattern, service: str) -> bool:
    """A cheap test before the glob: a pattern of another service (named
    without a wildcard) matches none of this one's actions."""
    return p.names_action and (p.service is None or p.service == service or _wild(p.service))


def _grants(st: Statement, action: str) -> tuple[bool, bool] | None:
    """Whether the statement's action element covers ``action``: None if not;
    else (through a wildcard, through NotAction)."""
    service = action.partition(":")[0]
    if st.action is not None:
        hits = [p for p in st.action
                if _may_match(p, service) and (p.service is None or action_regex(p.text).fullmatch(action))]
        if not hits:
            return None
        return (not any(p.text.lower() == action.lower() for p in hits), False)
    if st.not_action is not None:
        if any(_may_match(p, service) and (p.service is None or action_regex(p.text).fullmatch(action))
               for p in st.not_action):
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
    return part in ("*", "role*", "role/*", "*role/*")


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
        if any(_all_roles(p) for p in st.not_resource):
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


def _overly_permissive(st: Statement, report) -> None:
    """service:* on every resource, with no condition, for a sensitive service (or ``*``, all of them)."""
    if st.condition or st.action is None or not any(p.is_any for p in st.resource or ()):
        return
    for p in st.action:
        if p.service is None:
            report(WARNING, "OVERLY_PERMISSIVE_WILDCARD", "* on every resource grants every action of every "
                   "service. We recommend that you list the actions needed.", p.path)
        elif p.names_action and p.service in SENSITIVE_SERVICES and p.name == "*":
            report(WARNING, "OVERLY_PERMISSIVE_WILDCARD", f"{p.text} on every resource grants all of {p.service}, "
                   f"including its permissions-management actions. We recommend that you list the actions needed.",
                   p.path)


def _wild(text: str) -> bool:
    return "*" in text or "?" in text


def _redundant_actions(st: Statement, report) -> None:
    """An entry another entry of the same Action covers: the same action
    (any case), one a wildcard matches, or a pattern under ``*`` or
    ``service:*``. Literal entries are compared by name, so a statement of
    thousands of actions costs one pass per wildcard entry."""
    patterns = [p for p in st.action or () if p.names_action]
    if len(patterns) < 2:
        return
    wildcards = [p for p in patterns if p.service is None or _wild(p.text)]
    redundant, seen = [], set()
    for p in patterns:
        key = p.text.lower()
        if key in seen:
            redundant.append(p)
            continue
        seen.add(key)
        if any(q is not p and q.text.lower() != key and _covers_action(q, p) for q in wildcards):
            redundant.append(p)
    if redundant:
        report(SUGGESTION, "REDUNDANT_ACTION", f"The {len(redundant)} action(s) are redundant because they provide "
               f"similar permissions. Update the policy to remove the redundant action such as: "
               f"{redundant[0].text}.", redundant[0].path)


def _covers_action(q: ActionPattern, p: ActionPattern) -> bool:
    """Every action ``p`` matches, ``q`` (a wildcard) matches too — decided
    exactly for these cases: ``q`` is ``*`` or ``service:*``, or ``p`` names
    one action."""
    if q.service is None:
        return p.service is not None  # "*" covers everything but another "*"
    if p.service is None:
        return False
    if q.name == "*" and q.service == p.service and not _wild(q.service):
        return True
    if _wild(p.text) or not _may_match(q, p.service):
        return False
    return bool(action_regex(q.text).fullmatch(p.text))


def _literal_resource(p: ResourcePattern) -> bool:
    return p.arn_parts is not None and p.resource is not None and all(isinstance(t, str) for t in p.resource)


def _covers_resource(q: ResourcePattern, p: ResourcePattern) -> bool:
    """Every ARN ``p`` names, ``q`` names too: ``q`` is ``*``, the same text,
    or ``p`` has no wildcard or variable and ``q``'s glob matches it."""
    if q.is_any:
        return True
    if p.is_any or q.arn_parts is None or p.arn_parts is None:
        return False
    if not (_literal_resource(p) and _literal_resource(q)) or _wild(p.text):
        return False
    runs = tuple((t, True) for t in q.resource)
    return bool(resource_regex(q.arn_parts, runs).fullmatch(p.text))


def _redundant_resources(st: Statement, report) -> None:
    patterns = st.resource or ()
    if len(patterns) < 2:
        return
    wildcards = [p for p in patterns if p.is_any or _wild(p.text)]
    redundant, seen = [], set()
    for p in patterns:
        if p.text in seen:
            redundant.append(p)
            continue
        seen.add(p.text)
        if any(q is not p and q.text != p.text and _covers_resource(q, p) for q in wildcards):
            redundant.append(p)
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
