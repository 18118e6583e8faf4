"""Questions asked of account data, each answered by the kernel: the
policies that apply to one principal's request are gathered here (its
identity policies, boundary, its account's SCP levels, the resource
account's RCP levels, the resource policy) and the Datalog rules decide."""

from __future__ import annotations

import functools

from dataclasses import dataclass

from ..kernel.decision import Decision
from ..kernel.matching import account_named
from ..kernel.rcp_scope import rcps_govern
from ..kernel.request import resource_account_of
from ..scenario import compile_policies
from ..translator import PolicyType
from .documents import read_document
from .inventory import AccountData, Principal

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
    # With conditional=True, for a caller the given context does not allow:
    # a context the proofs found under which the kernel allows it, or why
    # that stayed undecided.
    conditional: dict | None = None
    undecided: str | None = None
    # Some policy that takes part could not be read, and what was read does
    # not decide it: the answer is UNDECIDED (``undecided`` says why), never
    # the kernel's answer without that policy.
    failed_closed: bool = False

    @property
    def allowed(self) -> bool:
        return self.decision.decision == "allow" and not self.failed_closed

    def to_dict(self) -> dict:
        out = {"who": self.who, "caller": self.caller, "kind": self.kind, "principal": self.principal,
               "decision": "undecided" if self.failed_closed else self.decision.decision,
               "explanation": self.decision.explain(),
               "matched_statements": [ref.to_dict() for ref in self.decision.matched_statements]}
        if self.failed_closed:
            out["decision_without_unreadable_policies"] = self.decision.decision
        if self.conditional is not None:
            out["allowed_with_context"] = self.conditional
        if self.undecided is not None:
            out["undecided"] = self.undecided
        return out


def policies_for(data: AccountData, identity: list, boundary, caller_account: str | None, resource: str,
                 resource_account: str | None, action: str) -> dict:
    """The scenario ``policies`` object for one caller's request for
    ``action`` (the RCP levels only where RCPs govern it: kernel/rcp_scope)."""
    policies: dict = {"identity": identity}
    if boundary is not None:
        policies["boundary"] = [boundary]
    if data.organization is not None:
        scps = data.organization.levels(caller_account, "scps")
        if scps is not None:
            policies["scps"] = scps
        rcps = data.organization.levels(resource_account, "rcps") if rcps_govern(action) else None
        if rcps is not None:
            policies["rcps"] = rcps
    held = held_policy(data, resource)
    if held is not None:
        policies["resource"] = held.policy
    return policies


def broken_parts(data: AccountData, principal: Principal | None, caller_account: str | None, resource: str,
                 resource_account: str | None, action: str) -> list[tuple[str, str]]:
    """(layer, why) for each layer of one caller's request that holds a
    policy that could not be read: the principal's identity policies, an
    SCP level of its account, an RCP level of the resource's account, the
    resource's own policy (or trust policy)."""
    out = [("identity", why) for why in (principal.incomplete if principal is not None else ())]
    org = data.organization
    if org is not None:
        out += org.broken_levels(caller_account, "scps")
        if rcps_govern(action):
            out += org.broken_levels(resource_account, "rcps")
        # An account the exports hold that the tree leaves out: its SCPs
        # (RCPs) are unknown, not none.
        accounts = data.accounts_held()
        asked = [(caller_account if principal is not None else None, "scp")]
        if rcps_govern(action):
            asked.append((resource_account, "rcp"))
        for account, kind in asked:
            if account in accounts and account not in org.paths and account != org.management_account:
                out.append((f"{kind}/0", f"account {account} is in the exports but not in organization.json "
                                         f"(its {kind.upper()}s are unknown)"))
    bucket = resource.split("/", 1)[0] if resource.startswith("arn:aws:s3:::") else None
    for key in (resource, bucket, "*"):
        if key is not None and key in data.unreadable:
            out.append(("resource", data.unreadable[key]))
    return out


def unknown_keys(data: AccountData, principal: Principal, policies: dict, context: dict) -> list[tuple[str, str]]:
    """("context", why) when a policy of the request tests aws:userid and
    the export gives the principal no unique id (UserId/RoleId, the key's
    value: AIDA…, or AROA…:session): the key is unknown, not absent, and
    the policy could decide either way."""
    if principal.unique_id is not None or "aws:userid" in context or "aws:userid" not in data.keys_named():
        return []
    for layer in policies.values():
        for policy in layer if isinstance(layer, list) else [layer]:
            if policy is not None and any(_tests_userid(st) for st in policy.statements):
                return [("context", f"{principal.arn} has no unique id in the account data (UserId/RoleId), "
                                    "and a policy of the request tests aws:userid")]
    return []


def _tests_userid(st) -> bool:
    texts = [r.text for r in (*(st.resource or ()), *(st.not_resource or ()))]
    texts += [v.text for c in st.condition for v in c.values if v.text]
    return any(c.key.lower() == "aws:userid" for c in st.condition) or any(
        "${aws:userid}" in t.lower() for t in texts if t)


# The layers that only limit (never grant): one whose policies are not all
# read cannot turn a deny that another layer decides into an allow.
_LIMITS = ("scp/", "rcp/", "boundary", "session", "vpc_endpoint")


def fail_closed(answer: "Answer", broken: list[tuple[str, str]]) -> "Answer":
    """The answer, UNDECIDED where what was not read could change it: an
    explicit deny stands (a policy more can only add denies and allows), so
    does an implicit deny that a layer other than the broken limits decides;
    anything else is not decided — nor anything when a key of the request
    is not known (layer "context")."""
    if not broken:
        return answer
    decision = answer.decision
    layers = {layer for layer, _ in broken}
    stands = decision.decision == "explicit_deny" or (
        decision.decision == "implicit_deny" and all(layer.startswith(_LIMITS) for layer in layers)
        and any(b not in layers for b in decision.blocked_layers))
    if "context" in layers:
        # A key of the request not known: a Deny may have applied only for
        # want of it, as an Allow may have failed for it; no decision stands.
        stands = False
    if not stands:
        answer.failed_closed = True
        answer.undecided = "not decided: " + "; ".join(dict.fromkeys(why for _, why in broken))
    return answer


def held_policy(data: AccountData, resource: str):
    """The resource policy that governs ``resource``: its own, or for an S3
    object its bucket's."""
    held = data.resources.get(resource)
    if held is None and resource.startswith("arn:aws:s3:::") and "/" in resource:
        held = data.resources.get(resource.split("/", 1)[0])
    return held


def _resource_account(data: AccountData, resource: str) -> str | None:
    held = held_policy(data, resource)
    return (held.account if held is not None else None) or resource_account_of(resource)


def _context(data: AccountData, principal: Principal) -> dict:
    """The keys AWS sets from the principal beyond its ARN — its tags, its
    organization's id, a role's ARN with its path as aws:PrincipalArn (a
    session ARN drops the path) — and those every request carries (IAM User
    Guide, AWS global condition context keys: "always included"): the time
    of the question, HTTPS, a call made by the principal itself, not by a
    service on its behalf (docs/readings.md A12). ``--context`` overrides
    any of them."""
    context = {f"aws:PrincipalTag/{k}": v for k, v in principal.tags.items()}
    context.update(_org_context(data, principal.account))
    if principal.kind == "role":
        context["aws:PrincipalArn"] = principal.arn
    if principal.unique_id is not None:  # a role's session: ROLEID:SESSION (its caller's session name)
        context["aws:userid"] = principal.unique_id if principal.kind == "user" else \
            f"{principal.unique_id}:{principal.caller.rsplit('/', 1)[1]}"
    return {**dict(request_time()), "aws:SecureTransport": "true", "aws:ViaAWSService": "false", **context}


@functools.lru_cache(maxsize=1)
def request_time() -> dict:
    """aws:CurrentTime and aws:EpochTime of the question: read once per
    process, so one run's requests agree (a Deny at a date does not flip
    half-way) and the hot path does not read the clock per decision."""
    import datetime

    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    return {"aws:CurrentTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "aws:EpochTime": str(int(now.timestamp()))}


def _org_context(data: AccountData, account: str | None) -> dict:
    """aws:PrincipalOrgID: the organization's id for a caller of one of its
    accounts; absent (an empty list, which the proofs then do not vary) for
    any other caller, when the organization is known."""
    org = data.organization
    if org is None or not org.id:
        return {}
    return {"aws:PrincipalOrgID": org.id if account in org.paths else []}


def named_sessions(data: AccountData, resource: str) -> list[tuple[str, Principal]]:
    """(session ARN, its role) for each role session the resource's policy
    names whose role the data holds."""
    held = held_policy(data, resource)
    out = {}
    for st in held.policy.statements if held is not None else ():
        for entry in st.principal or ():
            value = entry.value
            if entry.kind.value.lower() != "aws":
                continue
            role = data.principals.get(session_role(value, data) or "")
            if role is not None:
                out[value] = role
    return sorted(out.items())


def session_role(value: str, data: AccountData | None = None) -> str | None:
    """The role ARN of a role session's ARN (arn:aws:sts::A:assumed-role/R/NAME), else None.
    STS session ARNs carry the role's name, never its path (IAM User Guide,
    "IAM identifiers", Role session ARNs): with ``data``, the role of that
    name in the account, whatever its path."""
    parts = value.split(":", 5)
    if len(parts) != 6 or parts[2] != "sts" or not parts[5].startswith("assumed-role/"):
        return None
    names = parts[5].split("/")
    if len(names) != 3 or not all(names):
        return None
    found = data.role_named(parts[4], names[1]) if data is not None else None
    return found or f"arn:{parts[1]}:iam::{parts[4]}:role/{names[1]}"


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
            if value in data.principals:
                continue
            whole = account_named(value)
            account = whole or resource_account_of(value)
            if whole is not None:
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


def who_can(data: AccountData, action: str, resource: str, context: dict | None = None,
            conditional: bool = False, timeout_ms: int = 30_000, only: set[str] | None = None,
            progress=None, others: bool | None = None) -> list[Answer]:
    """Every caller's decision for ``action`` on ``resource``: each user and
    (any session of) each role of the account data, the anonymous caller, and
    the callers from elsewhere that the resource policy names. ``context``
    holds the request's keys (aws:RequestedRegion, aws:SecureTransport...);
    the principal's tags and organization are added; other keys are absent.

    ``conditional``: for each caller that context does not allow, the proofs
    ask whether any values of the other keys would (Answer.conditional, a
    context the kernel then allows; Answer.undecided when the solver could
    not tell) — instead of counting it allowed or denied. ``only``: ask these
    users and roles (ARNs) alone, and (unless ``others``) no caller from
    elsewhere.
    ``progress(done, total)`` is called as principals are done."""
    context = dict(context or {})
    ask = lambda *args, **kw: _ask(*args, conditional=conditional, timeout_ms=timeout_ms, **kw)  # noqa: E731
    resource_account = _resource_account(data, resource)
    answers = []
    asked = data.principals.values() if only is None else [data.principals[arn] for arn in only]
    ordered = sorted(asked, key=lambda p: (p.account, p.kind, p.name))
    for done, principal in enumerate(ordered, 1):
        if progress is not None and (done % 500 == 0 or done == len(ordered)):
            progress(done, len(ordered))
        policies = policies_for(data, principal.identity, principal.boundary, principal.account, resource,
                                resource_account, action)
        who = principal.arn if principal.kind == "user" else f"any session of role {principal.arn}"
        request_context = {**_context(data, principal), **context}
        answer = ask(policies, who, principal.caller, principal.kind, action, resource, resource_account,
                     request_context,
                     broken=broken_parts(data, principal, principal.account, resource, resource_account, action)
                     + unknown_keys(data, principal, policies, request_context))
        answer.principal = principal.arn
        answers.append(answer)
    if not (only is None if others is None else others):
        return answers
    for session, role in named_sessions(data, resource):
        # A session the resource policy names, of a role the data holds: the
        # role's own policies, calling as that session (its ARN is what the
        # policy matches; any other session of the role is asked above).
        answer = decide_as(data, role, action, resource, context, caller=session, conditional=conditional,
                           timeout_ms=timeout_ms)
        answer.who = f"session {session} of role {role.arn}"
        answers.append(answer)
    for who, caller in _outside_callers(data, resource):
        policies = policies_for(data, [_OUTSIDE_IDENTITY], None, resource_account_of(caller), resource, resource_account,
                                action)
        answers.append(ask(policies, who, caller, "outside", action, resource, resource_account,
                           {**_org_context(data, resource_account_of(caller)), **context},
                           broken=broken_parts(data, None, resource_account_of(caller), resource, resource_account,
                                                    action)))
    unread = [b for b in broken_parts(data, None, None, resource, resource_account, action) if b[0] == "resource"]
    if held_policy(data, resource) is not None or unread:
        # With the resource's policy unread, who it names is unknown: the
        # callers from elsewhere are one UNDECIDED answer, not left out.
        who = "an anonymous caller" if not unread else "an anonymous caller or any caller from elsewhere"
        policies = policies_for(data, [], None, None, resource, resource_account, action)
        answers.append(ask(policies, who, None, "anonymous", action, resource, resource_account,
                           {**_org_context(data, None), **context},
                           broken=broken_parts(data, None, None, resource, resource_account, action)))
    return answers


_KEEP = object()


def decide_as(data: AccountData, principal: Principal, action: str, resource: str, context: dict | None = None,
              identity: list | None = None, boundary=_KEEP, caller: str | None = None, resource_policy=None,
              conditional: bool = False, timeout_ms: int = 30_000, engines: dict | None = None) -> Answer:
    """One principal's decision for ``action`` on ``resource``, as who_can
    decides it, with parts of its stack replaced where asked: ``identity``
    (its identity policies as a change would leave them), ``boundary``
    (None: removed), ``caller`` (a named session of a role), and
    ``resource_policy`` (the resource's policy as a change would leave it).
    ``engines``: a cache of compiled policy sets the caller keeps (many
    decisions of one stack then compile it once)."""
    resource_account = _resource_account(data, resource)
    policies = policies_for(data, principal.identity if identity is None else identity,
                            principal.boundary if boundary is _KEEP else boundary, principal.account, resource,
                            resource_account, action)
    if resource_policy is not None:
        policies["resource"] = resource_policy
    who = principal.arn if principal.kind == "user" else f"any session of role {principal.arn}"
    key = None
    if engines is not None:
        key = (tuple(map(id, policies["identity"])), id(policies.get("boundary", [None])[0]), principal.account,
               resource_account, id(policies.get("resource")), rcps_govern(action))  # with the RCP levels or not
    request_context = {**_context(data, principal), **(context or {})}
    if caller and principal.kind == "role" and principal.unique_id and "aws:userid" not in (context or {}):
        request_context["aws:userid"] = f"{principal.unique_id}:{caller.rsplit('/', 1)[1]}"  # a named session
    answer = _ask(policies, who, caller or principal.caller, principal.kind, action, resource, resource_account,
                  request_context, conditional=conditional, timeout_ms=timeout_ms,
                  broken=broken_parts(data, principal, principal.account, resource, resource_account, action)
                  + unknown_keys(data, principal, policies, request_context),
                  engines=engines, key=key)
    answer.principal = principal.arn
    return answer


def _ask(policies: dict, who: str, caller: str | None, kind: str, action: str, resource: str,
         resource_account: str | None, context: dict, conditional: bool = False,
         timeout_ms: int = 30_000, broken: list | None = None, engines: dict | None = None,
         key: tuple | None = None) -> Answer:
    request = {"principal": caller, "action": action, "resource": resource, "context": context}
    if resource_account is not None:
        request["resource_account"] = resource_account
    engine = compiled(policies, engines, key)
    answer = fail_closed(Answer(who, caller, kind, engine.decide(request)), broken or [])
    if conditional and not answer.allowed and not answer.failed_closed:
        from ..proofs.stack import Open, can_be_allowed

        result = can_be_allowed(engine, Open([caller], action, resource, resource_account, dict(context)),
                                timeout_ms)
        if result.holds:
            # Replayed: the kernel must allow the request with that context.
            found = {k: v for k, v in result.counterexample.context.items() if v != []}
            if engine.decide({**request, "context": found}).decision == "allow":
                answer.conditional = {k: v for k, v in found.items() if context.get(k) != v}  # what it adds
            else:
                answer.undecided = f"internal error: the kernel does not confirm the context {found}"
        elif result.holds is None:
            answer.undecided = result.why
    return answer


def compiled(policies: dict, engines: dict | None = None, key: tuple | None = None):
    """The Engine of a ``policies`` object, from ``engines`` when one was
    compiled before under ``key`` (decide_as's: the identity policies, the
    boundary and the resource policy by identity, the caller's and the
    resource's accounts, which fix the SCP and RCP levels). Read policies
    are not changed after they are read; the entry holds the objects, so
    their ids are not reused while it is kept."""
    if engines is None or key is None:
        return compile_policies(policies)
    found = engines.get(key)
    if found is None:
        found = engines[key] = (policies, compile_policies(policies))
    return found[1]


def actions_on(resource: str) -> list[str]:
    """The catalogue's actions whose resource types' ARN formats hold
    ``resource`` (typed, as the proofs read the catalogue)."""
    from ..kernel.catalogue import CATALOGUE
    from ..proofs import automata as A

    parts = resource.split(":", 5)
    if len(parts) != 6:
        return []
    out = []
    for details in CATALOGUE.actions(parts[2]).values():
        action = f"{parts[2]}:{details['name']}"
        formats = {fmt for _, fmt, _ in CATALOGUE.resource_types_for(action)}
        if any(A.member(A.Term(A.format_globs(fmt)), resource) for fmt in formats):
            out.append(action)
    return sorted(out)


def known_resources(data: AccountData) -> list[str]:
    """The resources the account data names: those with a resource policy,
    every user and role, every group and managed policy (what iam:AddUserToGroup,
    iam:CreatePolicyVersion… act on: the escalation rights)."""
    return sorted(set(data.resources) | set(data.principals) | set(data.groups) | data.managed)


def what_can(data: AccountData, principal_arn: str, context: dict | None = None,
             undecided: list | None = None, resources: list[str] | None = None) -> list[tuple[str, str, Decision]]:
    """(resource, action, decision) for every catalogue action on every known
    resource (of ``resources``, when given) that the principal (a user, or
    any session of a role) is allowed. Where a policy that takes part could
    not be read and what was read does not decide it, (resource, action,
    why) goes to ``undecided`` instead (when given)."""
    principal = data.principal(principal_arn)
    request_context = {**_context(data, principal), **(context or {})}
    out = []
    for resource in known_resources(data) if resources is None else resources:
        resource_account = _resource_account(data, resource)
        engines: dict[bool, object] = {}  # by whether RCPs govern the action
        for action in actions_on(resource):
            governed = rcps_govern(action)
            if governed not in engines:
                policies = policies_for(data, principal.identity, principal.boundary, principal.account, resource,
                                        resource_account, action)
                engines[governed] = (compile_policies(policies),
                                     unknown_keys(data, principal, policies, request_context))
            engine, unknown = engines[governed]
            request = {"principal": principal.caller, "action": action, "resource": resource,
                       "context": request_context}
            if resource_account is not None:
                request["resource_account"] = resource_account
            decision = engine.decide(request)
            answer = fail_closed(Answer(principal.arn, principal.caller, principal.kind, decision),
                                 broken_parts(data, principal, principal.account, resource, resource_account,
                                              action) + unknown)
            if answer.failed_closed:
                if undecided is not None:
                    undecided.append((resource, action, answer.undecided))
            elif decision.decision == "allow":
                out.append((resource, action, decision))
    return out
