"""Who may make the request when a question leaves the principal open: one
caller of every kind the kernel tells apart (kernel/principals.py's caller
kinds, and the service-linked roles its rules exempt from SCPs and RCPs), in
every account that can matter, and every principal the policies name.

The kernel's decision depends on the caller only through its kind, whether
it is a service-linked role, its account (same account as the resource or
not, named by a Principal or not), the names Principal and NotPrincipal
compare, and the keys derived from it (aws:PrincipalArn, aws:username, …).
So per relevant account — the one the witnesses use, the resource's, every
account the policies name, and one nothing names — the callers are its root
user, an IAM user, a session of a role, a session of a service-linked role
and a GetFederationToken session; then the anonymous caller, an AWS service
and a web-identity caller nothing names; then the principals the policies'
Principal/NotPrincipal elements name (engine.representative_callers) and
the services aws:PrincipalServiceName names; then, when conditions test
aws:PrincipalArn, aws:username or aws:PrincipalAccount, one caller for each
way those conditions and the relevant accounts tell callers apart
(identity_callers: exact, found on the glob automata)."""

from __future__ import annotations

import re

from ..errors import ScenarioError
from ..kernel.conditions import keys_read
from ..kernel.principals import read_caller
from ..translator.model import Policy
from . import automata as A
from .deadline import Deadline
from .engine import WITNESS_ACCOUNT, representative_callers
from .matching import Unsupported

# Accounts tried, in order, for the one no policy names.
_FRESH_ACCOUNTS = ("999999999999", "999999999998", "999999999997", "999999999996")
_ACCOUNT = re.compile(r"(?<!\d)\d{12}(?!\d)")
# The caller's identity keys whose values name a principal (lower-cased).
_IDENTITY_KEYS = ("aws:principalarn", "aws:principalaccount", "aws:username", "aws:principalservicename")


def account_callers(account: str) -> list[str]:
    """One caller of each kind that lives in an account."""
    return [f"arn:aws:iam::{account}:root",
            f"arn:aws:iam::{account}:user/witness",
            f"arn:aws:sts::{account}:assumed-role/witness/session",
            # A service-linked role (IAM User Guide: under /aws-service-role/,
            # named AWSServiceRoleFor…): SCPs and RCPs do not apply to it.
            f"arn:aws:iam::{account}:role/aws-service-role/witness.amazonaws.com/AWSServiceRoleForWitness",
            f"arn:aws:sts::{account}:federated-user/witness"]


def open_principal(policies: list[Policy], accounts: list[str | None] = (),
                   deadline: Deadline | None = None) -> list[str | None]:
    """The callers an open principal stands for (module docstring); the
    search for callers the identity conditions tell apart keeps to the
    question's ``deadline`` (deadline.Timeout past it)."""
    named = _named_accounts(policies)
    fresh = next(a for a in _FRESH_ACCOUNTS if a not in named)
    relevant = list(dict.fromkeys([WITNESS_ACCOUNT, *(a for a in accounts if a), *sorted(named), fresh]))
    # The callers the policies name first, then a user and a role session
    # (witnesses read best as the callers a question is usually about).
    callers: list[str | None] = representative_callers(*policies) + service_names(policies)
    callers += account_callers(WITNESS_ACCOUNT)[1:3]
    callers += [c for a in relevant for c in account_callers(a)]
    callers += [None, "unmentioned.amazonaws.com", f"arn:aws:iam::{fresh}:oidc-provider/another.example.com"]
    callers += identity_callers(policies, relevant, deadline)
    return list(dict.fromkeys(callers))


def _named_accounts(policies: list[Policy]) -> set[str]:
    """The 12-digit accounts the policies' Principal/NotPrincipal elements
    and identity-key conditions name."""
    found: set[str] = set()
    for p in policies:
        for st in p.statements:
            for e in (st.principal or ()) + (st.not_principal or ()):
                found.update(_ACCOUNT.findall(e.value))
            for clause in st.condition:
                if any(k in _IDENTITY_KEYS for k in keys_read(clause)):
                    found.update(a for v in clause.values for a in _ACCOUNT.findall(v.text))
    return found


# IAM user, role and federated user names (CreateUser, CreateRole,
# GetFederationToken: [\w+=,.@-]+) and path characters (IAM User Guide, IAM
# identifiers: "/" and printable ASCII but space).
_NAME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+=,.@-")
_PATH = frozenset(chr(c) for c in range(0x21, 0x7F))
_PARTITIONS = ("aws", "aws-cn", "aws-us-gov")
_STRING_OPERATORS = ("StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
                     "StringLike", "StringNotLike")
_ARN_OPERATORS = ("ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike")


def _lit(text: str) -> list:
    return [("lit", c) for c in text]


def _head(partition: str, service: str, account=None) -> list:
    return _lit(f"arn:{partition}:{service}::") + (account or [("one", A.DIGIT)] * 12) + [("lit", ":")]


def _named(partition: str, service: str, kind: str, name: list, account=None) -> list:
    """The globs of an identity named ``name`` under ``kind/``, with and
    without a path."""
    head = _head(partition, service, account) + _lit(kind)
    return [tuple(head + name), tuple(head + [("star", _PATH), ("lit", "/")] + name)]


_ANY_NAME = [("one", _NAME), ("star", _NAME)]
# What aws:PrincipalArn can be: a root user, an IAM user, a role (a role
# session's PrincipalArn is its role's ARN), a federated user.
KINDS = {
    "root": [tuple(_head(p, "iam") + _lit("root")) for p in _PARTITIONS],
    "user": [g for p in _PARTITIONS for g in _named(p, "iam", "user/", _ANY_NAME)],
    "role": [g for p in _PARTITIONS for g in _named(p, "iam", "role/", _ANY_NAME)],
    "federated": [tuple(_head(p, "sts") + _lit("federated-user/") + _ANY_NAME) for p in _PARTITIONS],
}
_SERVICE_LINKED = A.Term(tuple(tuple(_head(p, "iam") + _lit("role/aws-service-role/") + [("star", A.ANY)])
                               for p in _PARTITIONS))


def _value_glob(text: str, like: bool, cls=A.ANY) -> list:
    if not like:
        return _lit(text)
    return [("star", cls) if c == "*" else ("one", cls) if c == "?" else ("lit", c) for c in text]


def _arn_glob(text: str) -> tuple:
    """An Arn operator's value: the six parts compared one by one, each a
    glob (SEMANTICS §4), the last one holding colons."""
    parts = text.split(":", 5)
    items: list = []
    for i, part in enumerate(parts):
        if i:
            items.append(("lit", ":"))
        items += _value_glob(part, True, A.ANY if i == 5 else A.NOT_COLON)
    return tuple(items)


def _clause_term(clause) -> A.Term | None:
    """The principal ARNs a clause on an identity key tells apart (the
    negated operators tell apart the same ones), or None when it names none."""
    base, key = clause.operator.base, clause.key.lower()
    texts = [v.text for v in clause.values if "${" not in v.text]
    if base is None or not texts:
        return None
    fold = base.endswith("IgnoreCase")
    like = "Like" in base
    if key == "aws:principalarn":
        if base in _STRING_OPERATORS:
            return A.Term(tuple(tuple(_value_glob(t.casefold() if fold else t, like)) for t in texts), fold=fold)
        if base in _ARN_OPERATORS:
            return A.Term(tuple(_arn_glob(t) for t in texts))
        return None
    if key == "aws:username" and base in _STRING_OPERATORS:
        return A.Term(tuple(g for p in _PARTITIONS for t in texts
                            for g in _named(p, "iam", "user/", _value_glob(t.casefold() if fold else t, like, _NAME))),
                      fold=fold)
    if key == "aws:principalaccount" and base in _STRING_OPERATORS:
        return A.Term(tuple(tuple(_lit("arn:") + [("star", A.NOT_COLON), ("lit", ":"), ("star", A.NOT_COLON)]
                                  + _lit("::") + _value_glob(t, like, A.NOT_COLON) + [("lit", ":"), ("star", A.ANY)])
                            for t in texts))
    return None


def identity_callers(policies: list[Policy], accounts: list[str], deadline: Deadline | None = None) -> list[str]:
    """One caller for each way the policies' conditions on the caller's
    identity (aws:PrincipalArn, aws:username, aws:PrincipalAccount) and the
    relevant accounts tell callers in an account apart: the shortest ARN of
    each membership the glob automata find (exact, as for untyped actions)."""
    terms = [_clause_term(clause) for p in policies for st in p.statements for clause in st.condition]
    terms = list(dict.fromkeys(t for t in terms if t is not None))
    if not terms:
        return []
    kinds = [A.Term(tuple(globs)) for globs in KINDS.values()]
    in_account = [A.Term(tuple(tuple(_head(p, service, _lit(a)) + [("star", A.ANY)])
                               for p in _PARTITIONS for service in ("iam", "sts"))) for a in accounts]
    everything = A.Term(tuple(g for globs in KINDS.values() for g in globs))
    vectors = A.membership_vectors([everything, *kinds, _SERVICE_LINKED, *in_account, *terms], deadline=deadline)
    if vectors is False:
        raise Unsupported("too many distinct callers to tell apart for an open principal "
                          "(conditions on aws:PrincipalArn, aws:username, aws:PrincipalAccount)")
    out = []
    for text in sorted(vectors.values(), key=lambda t: (len(t), t)):
        try:
            read_caller(text)
        except ScenarioError:
            continue  # e.g. a role path the kernel reads otherwise; covered by the kinds' callers
        out.append(text)
    return out


def service_names(policies: list[Policy]) -> list[str]:
    """The AWS services an aws:PrincipalServiceName condition names (a
    wildcard read as nothing)."""
    out = []
    for p in policies:
        for st in p.statements:
            for clause in st.condition:
                if clause.key.lower() != "aws:principalservicename":
                    continue
                for v in clause.values:
                    candidate = v.text.replace("*", "").replace("?", "a")
                    try:
                        if read_caller(candidate).service:
                            out.append(candidate)
                    except ScenarioError:
                        continue  # names no service principal
    return out
