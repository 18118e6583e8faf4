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
and a web-identity caller nothing names; then each name the policies'
Principal/NotPrincipal elements and their conditions on the caller's
identity keys spell out (engine.representative_callers; caller_names).
"""

from __future__ import annotations

import re

from ..errors import ScenarioError
from ..kernel.conditions import keys_read
from ..kernel.principals import read_caller
from ..translator.model import Policy
from .engine import WITNESS_ACCOUNT, representative_callers

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


def open_principal(policies: list[Policy], accounts: list[str | None] = ()) -> list[str | None]:
    """The callers an open principal stands for (module docstring)."""
    named = _named_accounts(policies)
    fresh = next(a for a in _FRESH_ACCOUNTS if a not in named)
    relevant = list(dict.fromkeys([WITNESS_ACCOUNT, *(a for a in accounts if a), *sorted(named), fresh]))
    # The callers the policies name first, then a user and a role session
    # (witnesses read best as the callers a question is usually about).
    callers: list[str | None] = representative_callers(*policies) + caller_names(policies)
    callers += account_callers(WITNESS_ACCOUNT)[1:3]
    callers += [c for a in relevant for c in account_callers(a)]
    callers += [None, "unmentioned.amazonaws.com", f"arn:aws:iam::{fresh}:oidc-provider/another.example.com"]
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


def caller_names(policies: list[Policy]) -> list[str]:
    """The principals that conditions on the caller's identity spell out:
    an aws:PrincipalArn value (a wildcard read as nothing, an account left
    open as the witness account), a user of an aws:username value, a
    service of an aws:PrincipalServiceName value."""
    out = []
    for p in policies:
        for st in p.statements:
            for clause in st.condition:
                keys = keys_read(clause)
                for v in clause.values:
                    text = v.text
                    if "${" in text:
                        continue  # a policy variable: its value is the request's
                    if "aws:principalarn" in keys:
                        candidate = _instance(text)
                    elif "aws:username" in keys:
                        candidate = f"arn:aws:iam::{WITNESS_ACCOUNT}:user/{_plain(text) or 'witness'}"
                    elif "aws:principalservicename" in keys:
                        candidate = _plain(text)
                    else:
                        continue
                    try:
                        read_caller(candidate)
                    except ScenarioError:
                        continue  # names no caller the kernel reads
                    out.append(candidate)
    return out


def _plain(pattern: str) -> str:
    return pattern.replace("*", "").replace("?", "a")


def _instance(pattern: str) -> str:
    """One ARN a pattern names (its account, when a wildcard, the witness
    account)."""
    parts = pattern.split(":", 5)
    if len(parts) == 6 and not _ACCOUNT.fullmatch(parts[4]):
        parts[4] = WITNESS_ACCOUNT
    return _plain(":".join(parts))
