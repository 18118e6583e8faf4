"""Matching one statement element against a request (SEMANTICS §3): actions,
resources, principals. Python predicates only; whether a match grants or
denies is decided by the Datalog rules (rules.py).

Resource patterns and the Arn* condition operators are two matchers, not one
(§3): a Resource pattern is a glob over the whole ARN in which a wildcard stays
inside its colon-separated segment, except a ``*`` that ends a segment (or
stands in the resource part), which may run past colons — so ``arn:aws:s3:*``
matches everything in S3.
"""

from __future__ import annotations

from functools import lru_cache

from . import globs
from ..translator.model import ActionPattern, PrincipalEntry, PrincipalKind, ResourcePattern
from .context import RequestContext
from .principals import Caller, CallerKind


# ---------------------------------------------------------------- actions

@lru_cache(maxsize=65536)
def action_regex(pattern: str):
    """``s3:Get*`` as a case-insensitive glob over ``service:name`` (§3),
    matched in linear time (globs.py)."""
    return globs.compile_glob(globs.tokens(pattern), ignore_case=True)


def action_matches(patterns: tuple[ActionPattern, ...], action: str) -> bool:
    for p in patterns:
        if not p.names_action:
            continue  # an entry IAM stores that names no action matches none (SEMANTICS §7)
        if p.service is None or action_regex(p.text).fullmatch(action):
            return True
    return False


# ---------------------------------------------------------------- resources

def _segment_tokens(segment: str) -> list:
    """A segment before the resource part: * and ? stay inside the segment,
    except a * that is the segment's last character."""
    out = []
    last = len(segment) - 1
    for i, c in enumerate(segment):
        if c == "*":
            out.append(("star", globs.ANY if i == last else globs.IN_SEGMENT))
        elif c == "?":
            out.append(("one", globs.IN_SEGMENT))
        else:
            out.append(("lit", c))
    return out


def resource_glob(parts: tuple[str, ...], runs: tuple[tuple[str, bool], ...] | None) -> tuple:
    """The tokens of a Resource pattern: the segments before the resource
    part, then the resource part (* any characters, colons too; ? one
    character), whose literal runs (variable values, escapes) match themselves."""
    out: list = [("lit", "arn")]
    for segment in parts:
        out.append(("lit", ":"))
        out.extend(_segment_tokens(segment))
    if runs is not None:
        out.append(("lit", ":"))
        for text, is_pattern in runs:
            out.extend(globs.tokens(text) if is_pattern else globs.literal(text))
    return tuple(out)


def resource_body(parts: tuple[str, ...], runs: tuple[tuple[str, bool], ...] | None) -> str | None:
    """A linear regex body for a Resource pattern, or None (then use resource_regex)."""
    return globs.regex_body(resource_glob(parts, runs))


@lru_cache(maxsize=65536)
def resource_regex(parts: tuple[str, ...], runs: tuple[tuple[str, bool], ...] | None):
    return globs.compile_glob(resource_glob(parts, runs))


def resource_pattern_matches(pattern: ResourcePattern, resource: str, context: RequestContext) -> bool:
    if pattern.is_any:
        return True
    if pattern.arn_parts is None:
        return False
    runs = None
    if pattern.resource is not None:
        runs = context.resolve(pattern.resource)
        if runs is None:
            return False  # an absent policy variable: this entry matches nothing (§5)
    if runs is not None and sum(len(text) for text, _ in runs) > globs.LONG:
        glob = resource_glob(pattern.arn_parts, runs)
        if globs.literal_chars(glob) > len(resource):
            return False  # more characters than the resource has: no match, nothing compiled
        return bool(globs.compile_glob_once(glob).fullmatch(resource))
    return bool(resource_regex(pattern.arn_parts, runs).fullmatch(resource))


def resource_matches(patterns: tuple[ResourcePattern, ...], resource: str, context: RequestContext) -> bool:
    return any(resource_pattern_matches(p, resource, context) for p in patterns)


# ---------------------------------------------------------------- principals

class Grant:
    """How a resource policy's Principal names the caller, which decides what
    else limits the grant (SEMANTICS §1.4 table)."""

    ITSELF = "principal_itself"  # user ARN, session ARN, federated session ARN, service
    # "*" (and an Allow's NotPrincipal): limited by the boundary and session
    # policy, unless an aws:PrincipalArn condition names the caller (§1.4;
    # STS API Reference, AssumeRole "Policy": a resource policy adds past the
    # session policy only when its Principal references the session).
    EVERYONE = "everyone"
    ROLE = "role"  # the role ARN of the calling session
    ACCOUNT = "account"  # the caller's account ("123456789012" or arn:…:root)


def account_named(value: str) -> str | None:
    """The account a Principal value names as a whole (``"123456789012"`` or
    ``arn:aws:iam::123456789012:root``); None for any other value."""
    if len(value) == 12 and value.isdigit():
        return value
    if value.startswith("arn:") and value.endswith(":root"):
        parts = value.split(":")
        if len(parts) == 6 and parts[2] == "iam":
            return parts[4]
    return None


def names_by_principal_arn(condition) -> bool:
    """Whether a statement granting everyone narrows it with a condition on
    aws:PrincipalArn: then it names the caller, and boundaries and session
    policies do not limit it (SEMANTICS §1.4)."""
    return any(clause.key.lower() == "aws:principalarn" for clause in condition)


def principal_grant(entries: tuple[PrincipalEntry, ...], caller: Caller) -> str | None:
    """The strongest way ``Principal`` names the caller, or None."""
    best = None
    for entry in entries:
        kind = entry_grant(entry, caller)
        if kind == Grant.ITSELF:
            return kind
        if kind in (Grant.ROLE, Grant.EVERYONE) or (kind == Grant.ACCOUNT and best is None):
            best = kind
    return best


def entry_grant(entry: PrincipalEntry, caller: Caller) -> str | None:
    k = entry.kind
    value = entry.value
    if _is_everyone(entry):
        return Grant.EVERYONE  # "*" names everyone, anonymous and services too (pinned)
    if k is PrincipalKind.SERVICE:
        return Grant.ITSELF if caller.kind is CallerKind.SERVICE and value.lower() == caller.service else None
    if k is PrincipalKind.FEDERATED or k is PrincipalKind.CANONICAL_USER:
        if caller.kind is not CallerKind.EXTERNAL:
            return None
        # {"Federated": "*"} names every identity provider's callers (pinned).
        return Grant.ITSELF if value == caller.arn or (k is PrincipalKind.FEDERATED and value == "*") else None
    # AWS principals
    if caller.account is None:
        return None
    account = account_named(value)
    if account is not None:
        if account != caller.account:
            return None
        return Grant.ITSELF if caller.kind is CallerKind.ROOT else Grant.ACCOUNT
    if caller.kind is CallerKind.ROLE_SESSION:
        if value == caller.session_arn and caller.session_arn is not None:
            return Grant.ITSELF
        if names_role(value, caller):
            return Grant.ROLE
        return None
    if value == caller.arn:
        return Grant.ITSELF
    return None


def names_role(value: str, caller: Caller) -> bool:
    """Whether a Principal value is the ARN of the calling session's role.

    AWS turns a role ARN in a Principal into the role's unique id, so it names
    that role whatever path it writes (SEMANTICS §7): ``role/ops/Deployer`` and a
    service-linked role's ``role/aws-service-role/ssm.amazonaws.com/AWSServiceRoleForSSM``
    name the sessions ``assumed-role/Deployer/…`` and ``assumed-role/AWSServiceRoleForSSM/…``,
    whose ARNs carry no path. A role's name is unique in its account, so the
    partition, the account and the name decide."""
    if caller.kind is not CallerKind.ROLE_SESSION or not value.startswith("arn:"):
        return False
    parts = value.split(":", 5)
    if len(parts) != 6 or parts[2] != "iam" or parts[3] or not parts[5].startswith("role/"):
        return False
    return (parts[1] == caller.partition and parts[4] == caller.account
            and parts[5].rsplit("/", 1)[-1] == caller.name)


def not_principal_lists(entries: tuple[PrincipalEntry, ...], caller: Caller) -> tuple[bool, bool]:
    """(some identity of the caller is listed, every identity AWS checks is
    listed). AWS may check the account, then the role, then the session
    (§3): an exemption from a Deny needs them all."""
    if caller.kind is CallerKind.ANONYMOUS:
        # "*" names every principal, anonymous included (SEMANTICS §7): an
        # Allow with NotPrincipal "*" grants no one, a Deny with it denies no one.
        star = any(_is_everyone(entry) for entry in entries)
        return star, star
    listed = [any(_names(entry, identity, caller) for entry in entries) for identity in caller.identities]
    return any(listed), bool(listed) and all(listed)


def _is_everyone(entry: PrincipalEntry) -> bool:
    return entry.kind is PrincipalKind.ANY or (entry.kind is PrincipalKind.AWS and entry.value == "*")


def _names(entry: PrincipalEntry, identity: str, caller: Caller) -> bool:
    if _is_everyone(entry):
        return True
    if entry.kind is PrincipalKind.AWS:
        account = account_named(entry.value)
        if account is not None:
            return identity == f"account:{account}"
        if identity == caller.role_arn and caller.kind is CallerKind.ROLE_SESSION:
            return names_role(entry.value, caller)
        return entry.value == identity
    return entry.value.lower() == identity.lower()
