"""Questions asked of account data, each answered by the kernel: the
policies that apply to one principal's request are gathered here (its
identity policies, boundary, its account's SCP levels, the resource
account's RCP levels, the resource policy) and the Datalog rules decide."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..kernel.decision import Decision
from ..scenario import compile_policies
from ..translator import PolicyType
from .documents import read_document
from .inventory import AccountData, Principal, _account_of

# A caller outside the account data is named only by the resource policy;
# its own account's policies are unknown and read as allowing it everything,
# so that the resource policy's grant is what the answer shows.
_OUTSIDE_IDENTITY = read_document({"Version": "2012-10-17", "Statement": [
    {"Sid": "OwnAccountAllowsIt", "Effect": "Allow", "Action": "*", "Resource": "*"}]},
    PolicyType.IDENTITY, "the outside caller's own policies (assumed to allow)")


@dataclass
class Answer:
    """One caller's decision for the question."""

    who: str  # how the answer names it
    caller: str | None  # the request's principal (None: anonymous)
    kind: str  # user | role | anonymous | outside
    decision: Decision
    principal: str | None = None  # the user's or role's ARN (a role standing for any session of it)

    @property
    def allowed(self) -> bool:
        return self.decision.decision == "allow"

    def to_dict(self) -> dict:
        return {"who": self.who, "caller": self.caller, "kind": self.kind, "decision": self.decision.decision,
                "explanation": self.decision.explain(),
                "matched_statements": [ref.to_dict() for ref in self.decision.matched_statements]}


def policies_for(data: AccountData, identity: list, boundary, caller_account: str | None, resource: str,
                 resource_account: str | None) -> dict:
    """The scenario ``policies`` object for one caller's request."""
    policies: dict = {"identity": identity}
    if boundary is not None:
        policies["boundary"] = [boundary]
    if data.organization is not None:
        scps = data.organization.levels(caller_account, "scps")
        if scps is not None:
            policies["scps"] = scps
        rcps = data.organization.levels(resource_account, "rcps")
        if rcps is not None:
            policies["rcps"] = rcps
    held = held_policy(data, resource)
    if held is not None:
        policies["resource"] = held.policy
    return policies


def held_policy(data: AccountData, resource: str):
    """The resource policy that governs ``resource``: its own, or for an S3
    object its bucket's."""
    held = data.resources.get(resource)
    if held is None and resource.startswith("arn:aws:s3:::") and "/" in resource:
        held = data.resources.get(resource.split("/", 1)[0])
    return held


def _resource_account(data: AccountData, resource: str) -> str | None:
    held = held_policy(data, resource)
    return (held.account if held is not None else None) or _account_of(resource)


def _context(data: AccountData, principal: Principal) -> dict:
    """The keys AWS sets from the principal beyond its ARN: its tags, and
    its organization's id."""
    context = {f"aws:PrincipalTag/{k}": v for k, v in principal.tags.items()}
    org = data.organization
    if org is not None and org.id and principal.account in org.paths:
        context["aws:PrincipalOrgID"] = org.id
    return context


def _outside_callers(data: AccountData, resource: str) -> list[tuple[str, str]]:
    """(how to name it, caller ARN) for each principal the resource policy
    names that the account data does not hold."""
    held = held_policy(data, resource)
    if held is None:
        return []
    out = {}
    for st in held.policy.statements:
        for entry in st.principal or ():
            value = entry.value
            if entry.kind.value.lower() != "aws" or value == "*":
                continue
            account = value if re.fullmatch(r"\d{12}", value) else _account_of(value)
            if value in data.principals:
                continue
            if re.fullmatch(r"\d{12}", value) or value.endswith(":root"):
                if any(p.account == account for p in data.principals.values()):
                    continue  # the account's own principals are asked one by one
                out[value] = (f"any principal of account {account} its own policies allow",
                              f"arn:aws:iam::{account}:user/any")
            elif ":role/" in value:
                name = value.rsplit("/", 1)[1]
                out[value] = (f"any session of role {value}", f"arn:aws:sts::{account}:assumed-role/{name}/session")
            elif ":user/" in value:
                out[value] = (value, value)
    return list(out.values())


def who_can(data: AccountData, action: str, resource: str, context: dict | None = None) -> list[Answer]:
    """Every caller's decision for ``action`` on ``resource``: each user and
    (any session of) each role of the account data, the anonymous caller, and
    the callers from elsewhere that the resource policy names. ``context``
    holds the request's keys (aws:RequestedRegion, aws:SecureTransport...);
    the principal's tags and organization are added; other keys are absent."""
    context = dict(context or {})
    resource_account = _resource_account(data, resource)
    answers = []
    for principal in sorted(data.principals.values(), key=lambda p: (p.account, p.kind, p.name)):
        policies = policies_for(data, principal.identity, principal.boundary, principal.account, resource,
                                resource_account)
        who = principal.arn if principal.kind == "user" else f"any session of role {principal.arn}"
        answer = _ask(policies, who, principal.caller, principal.kind, action, resource, resource_account,
                      {**_context(data, principal), **context})
        answer.principal = principal.arn
        answers.append(answer)
    for who, caller in _outside_callers(data, resource):
        policies = policies_for(data, [_OUTSIDE_IDENTITY], None, _account_of(caller), resource, resource_account)
        answers.append(_ask(policies, who, caller, "outside", action, resource, resource_account, context))
    if held_policy(data, resource) is not None:
        policies = policies_for(data, [], None, None, resource, resource_account)
        answers.append(_ask(policies, "an anonymous caller", None, "anonymous", action, resource, resource_account,
                            context))
    return answers


def _ask(policies: dict, who: str, caller: str | None, kind: str, action: str, resource: str,
         resource_account: str | None, context: dict) -> Answer:
    request = {"principal": caller, "action": action, "resource": resource, "context": context}
    if resource_account is not None:
        request["resource_account"] = resource_account
    return Answer(who, caller, kind, compile_policies(policies).decide(request))
