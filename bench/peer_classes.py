"""The adjudicated classes of disagreement between iamlogic and the peer
(iam-simulate), for bench/peer_diff.py and tests/test_peer_diff.py.

Each class recognises a *minimised* repro (bench/peer_diff.py's item:
``{"scenario": {...}, "caller": {...}}``) together with the two answers
``(iamlogic, peer)``, and says which side AWS agrees with, why (a quote from
the AWS documentation and its page), and the tests/cases case that pins
iamlogic's answer. ``right == "peer"`` marks an iamlogic bug; when iamlogic
also allows where the peer denies, the campaign fails (a wrong allow).

A class's predicate must be narrow: it names the shape that decides (the
caller kind, the element, the operator), not only the pair of answers, so a
new disagreement of the same answers but another cause stays unadjudicated.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

DECISIONS = ("allow", "explicit_deny", "implicit_deny")
DENIES = ("explicit_deny", "implicit_deny")


@dataclass(frozen=True)
class PeerClass:
    name: str
    predicate: Callable[[dict, tuple[str, str]], bool]
    right: str            # "iamlogic" or "peer": the side AWS agrees with
    reason: str           # the quote and the page it is from
    case: str             # the tests/cases case that pins iamlogic's answer
    confidence: str = "high"
    # a minimal scenario (iamlogic's format) and AWS's decision on it, per the
    # adjudication: replayed by tests/test_peer_diff.py whatever the sample
    repro: dict | None = None
    aws: str | None = None

    @property
    def iamlogic_bug(self) -> bool:
        return self.right == "peer"


# ------------------------------------------------------------ helpers


def kind(item) -> str:
    return item["caller"]["kind"]


def policies(item) -> dict:
    return item["scenario"]["policies"]


def request(item) -> dict:
    return item["scenario"]["request"]


def action(item) -> str:
    return request(item)["action"].lower()


def cross_account(item) -> bool:
    c = item["caller"].get("account")
    r = request(item).get("resource_account")
    return bool(c and r and c != r)


def statements(item, *layers: str) -> Iterator[dict]:
    """Every statement of the given layers (all when none given)."""
    p = policies(item)
    for key, val in p.items():
        if layers and key not in layers:
            continue
        if key in ("scps", "rcps"):
            docs = [d for level in val for d in level]
        elif isinstance(val, list):
            docs = val
        else:
            docs = [val]
        for d in docs:
            st = d.get("Statement")
            yield from (st if isinstance(st, list) else [st])


def conditions(item, *layers: str) -> Iterator[tuple[str, str, object]]:
    for st in statements(item, *layers):
        for op, block in (st.get("Condition") or {}).items():
            for key, vals in block.items():
                yield op, key, vals


def has_context(item, key: str) -> bool:
    return key.lower() in {k.lower() for k in request(item).get("context", {})}


def values(vals) -> list:
    return vals if isinstance(vals, list) else [vals]


def text(item) -> str:
    return json.dumps(policies(item))


def iamlogic_refuses(answers, code: str) -> bool:
    return answers[0].startswith("error:" + code) and answers[1] in DECISIONS


def names_principal(st: dict, arn: str) -> bool:
    p = st.get("Principal")
    if not isinstance(p, dict):
        return False
    return arn in values(p.get("AWS", []))


# ------------------------------------------------------------- repros

_A, _B = "111122223333", "444455556666"
_V = "2012-10-17"


def _scenario(policies, principal, action, resource, context, account=_A):
    return {"policies": policies, "request": {"principal": principal, "action": action, "resource": resource,
                                              "resource_account": account, "context": context,
                                              "derive_context": False}}


def _user_ctx(name="bob", account=_A):
    return {"aws:PrincipalArn": f"arn:aws:iam::{account}:user/{name}", "aws:PrincipalAccount": account,
            "aws:PrincipalType": "User", "aws:username": name, "aws:userid": "AIDABOBEXAMPLE",
            "aws:PrincipalIsAWSService": "false"}


def _fed_ctx(name="alice", account=_A):
    return {"aws:PrincipalArn": f"arn:aws:sts::{account}:federated-user/{name}", "aws:PrincipalAccount": account,
            "aws:PrincipalType": "FederatedUser", "aws:userid": f"{account}:{name}",
            "aws:PrincipalIsAWSService": "false"}


def _allow_all(**extra):
    return {"Version": _V, "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", **extra}]}


# (class name) -> (minimal scenario, AWS's decision on it)
REPROS = {
    "root-user-assumes-role": (_scenario(
        {"resource": {"Version": _V, "Statement": [{"Effect": "Allow",
                                                    "Principal": {"AWS": f"arn:aws:iam::{_B}:root"},
                                                    "Action": "sts:AssumeRole"}]}},
        f"arn:aws:iam::{_B}:root", "sts:AssumeRole", f"arn:aws:iam::{_A}:role/Deployer",
        {"aws:PrincipalArn": f"arn:aws:iam::{_B}:root", "aws:PrincipalAccount": _B, "aws:PrincipalType": "Account",
         "aws:userid": _B, "aws:PrincipalIsAWSService": "false"}), "implicit_deny"),
    "federated-session-calls-sts-or-iam": (_scenario(
        {"session": _allow_all(),
         "resource": {"Version": _V, "Statement": [
             {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:sts::{_A}:federated-user/alice"},
              "Action": "sts:AssumeRole"}]}},
        f"arn:aws:sts::{_A}:federated-user/alice", "sts:AssumeRole", f"arn:aws:iam::{_A}:role/Deployer",
        _fed_ctx()), "implicit_deny"),
    "ifexists-on-forany-set-operator-with-absent-key": (_scenario(
        {"identity": [_allow_all(Condition={"ForAnyValue:StringEqualsIfExists": {"aws:TagKeys": "team"}})]},
        f"arn:aws:iam::{_A}:user/bob", "s3:ListBucket", "arn:aws:s3:::logs", _user_ctx()), "implicit_deny"),
    "principal-star-limited-by-session-policy": (_scenario(
        {"session": {"Version": _V, "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]},
         "resource": {"Version": _V, "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*",
                                                    "Resource": "*"}]}},
        f"arn:aws:sts::{_A}:federated-user/alice", "s3:GetObject", "arn:aws:s3:::logs/a", _fed_ctx()),
        "implicit_deny"),
    "bool-with-policy-variable": (_scenario(
        {"identity": [{"Version": _V, "Statement": [
            {"Effect": "Deny", "Action": "*", "Resource": "*",
             "Condition": {"Bool": {"aws:SecureTransport": "${aws:SecureTransport}"}}},
            {"Effect": "Allow", "Action": "*", "Resource": "*"}]}]},
        f"arn:aws:iam::{_A}:user/bob", "ec2:StartInstances", f"arn:aws:ec2:eu-west-1:{_A}:instance/i-0abc",
        {**_user_ctx(), "aws:SecureTransport": "false"}), "explicit_deny"),
    "iamlogic-refuses-stored-action-string": (_scenario(
        {"identity": [_allow_all(), {"Version": _V, "Statement": [
            {"Effect": "Deny", "Action": ["s3:GetObject,PutObject", "iam: asdf safdsf af "], "Resource": "*"}]}]},
        f"arn:aws:iam::{_A}:user/bob", "s3:GetObject", "arn:aws:s3:::logs/a", _user_ctx()), "allow"),
    "iamlogic-refuses-star-partition": (_scenario(
        {"identity": [{"Version": _V, "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                     "Resource": "arn:*:s3:::logs/*"}]}]},
        f"arn:aws:iam::{_A}:user/bob", "s3:GetObject", "arn:aws:s3:::logs/a", _user_ctx()), "allow"),
}


# -------------------------------------------------------------- classes


def _no_guardrails(item) -> bool:
    # SCPs and RCPs still bind the root user of a member account: a repro that
    # needs one to disagree is not this class
    return not ({"identity", "scps", "rcps", "boundary", "session"} & set(policies(item)))


def _root_own_account(item, a):
    return (kind(item) == "root" and not cross_account(item) and a == ("allow", "implicit_deny")
            and _no_guardrails(item) and not action(item).startswith("sts:assumerole"))


def _root_cross_account(item, a):
    return (kind(item) == "root" and cross_account(item) and a == ("allow", "implicit_deny")
            and "resource" in policies(item) and _no_guardrails(item)
            and not action(item).startswith("sts:assumerole"))


def _root_assume_role(item, a):
    return kind(item) == "root" and action(item).startswith("sts:assumerole") and a[0] == "allow"


def _root_cannot_assume_role(item, a):
    return kind(item) == "root" and action(item).startswith("sts:assumerole") and a == ("implicit_deny", "allow")


def _slr_scp(item, a):
    return (kind(item) == "slr" and "scps" in policies(item) and a[1] in DENIES and a[0] != a[1]
            and "rcps" not in policies(item))


def _slr_rcp(item, a):
    return (kind(item) == "slr" and "rcps" in policies(item) and a[1] == "explicit_deny" and a[0] != a[1]
            and "scps" not in policies(item))


def _federated_no_session_policy(item, a):
    return kind(item) == "federated" and "session" not in policies(item) and a == ("implicit_deny", "allow")


def _session_arn_named(item, a):
    if kind(item) not in ("role_session", "federated") or "session" not in policies(item):
        return False
    if a != ("allow", "implicit_deny"):
        return False
    principal = request(item)["principal"]
    return any(st.get("Effect") == "Allow" and names_principal(st, principal) for st in statements(item, "resource"))


def _ifexists_set_operator_absent(item, a):
    found = False
    for op, key, _ in conditions(item):
        if op.split(":")[0] == "ForAnyValue" and op.endswith("IfExists"):
            if has_context(item, key):
                return False
            found = True
    return found and a[0] != a[1] and a[0] in DECISIONS and a[1] in DECISIONS


def _negated_absent_variable(item, a):
    ctx = {k.lower() for k in request(item).get("context", {})}
    for op, key, vals in conditions(item):
        base = op.split(":")[-1].removesuffix("IfExists")
        if "Not" not in base:
            continue
        for v in values(vals):
            if isinstance(v, str) and "${" in v:
                var = v.split("${", 1)[1].split("}", 1)[0]
                if "," in var or var in ("*", "?", "$"):
                    continue
                if var.strip().lower() not in ctx:
                    return a[0] != a[1] and a[1] in DECISIONS
    return False


def _short_arn_wildcard_rcp(item, a):
    for st in statements(item, "rcps"):
        for r in values(st.get("Resource", [])):
            if r != "*" and r.startswith("arn:") and len(r.split(":")) < 6 and r.endswith("*"):
                return a[0] == "explicit_deny" and a[1] != "explicit_deny"
    return False


def _federated_sts_iam_api(item, a):
    act = action(item)
    return (kind(item) == "federated" and a[0] == "allow" and a[1] != "allow"
            and ((act.startswith("sts:") and act != "sts:getcalleridentity")
                 or (act.startswith("iam:") and act != "iam:passrole")))


def _caller_identities(item) -> set:
    c = item["caller"]
    out = {c.get("account"), f"arn:aws:iam::{c.get('account')}:root"}
    out.add(c.get("role_arn"))
    out.add(request(item)["principal"])
    return {x for x in out if x}


def _notprincipal_deny_partial(item, a):
    if a[0] != "explicit_deny" or a[1] == "explicit_deny":
        return False
    c = item["caller"]
    needed = [{c.get("account"), f"arn:aws:iam::{c.get('account')}:root"}]
    if c.get("role_arn"):
        needed.append({c["role_arn"]})
    if c["kind"] in ("role_session", "user", "federated"):
        needed.append({request(item)["principal"]})
    for st in statements(item, "resource"):
        np = st.get("NotPrincipal")
        if st.get("Effect") == "Deny" and isinstance(np, dict):
            listed = set(values(np.get("AWS", [])))
            if listed & _caller_identities(item) and not all(listed & n for n in needed):
                return True
    return False


def _notipaddress_family(item, a):
    ip = request(item).get("context", {}).get("aws:SourceIp", "")
    for op, key, vals in conditions(item):
        if op.startswith("NotIpAddress") and key.lower() == "aws:sourceip":
            fams = {":" in v for v in values(vals)}
            if (":" in ip) not in fams:
                return a[0] != a[1] and a[0] in DECISIONS
    return False


def _date_epoch(item, a):
    ctx = {k.lower(): v for k, v in request(item).get("context", {}).items()}
    for op, key, vals in conditions(item):
        if op.split(":")[-1].startswith("Date"):
            cur = ctx.get(key.lower())
            if (isinstance(cur, str) and cur.isdigit()) or any(str(v).isdigit() for v in values(vals)):
                return a[0] != a[1] and a[0] in DECISIONS
    return False


def _star_principal_session_policy(item, a):
    if kind(item) not in ("role_session", "federated") or "session" not in policies(item):
        return False
    if _notresource_absent_variable(item, a):
        return False  # the session policy's own reading decides (class notresource-with-absent-policy-variable)
    if any(st.get("Effect") == "Allow" and st.get("Action") in ("*", ["*"]) and st.get("Resource") in ("*", ["*"])
           and not st.get("Condition") for st in statements(item, "session")):
        return False  # the session policy allows everything: it cannot be what limits
    return a == ("allow", "implicit_deny") and any(
        st.get("Effect") == "Allow" and (st.get("Principal") in ("*", {"AWS": "*"}) or "NotPrincipal" in st)
        for st in statements(item, "resource"))


def _star_principal_boundary(item, a):
    if kind(item) not in ("user", "role", "role_session") or "boundary" not in policies(item):
        return False
    return a == ("implicit_deny", "allow") and any(
        st.get("Effect") == "Allow" and (st.get("Principal") in ("*", {"AWS": "*"}) or "NotPrincipal" in st)
        for st in statements(item, "resource"))


def _notresource_absent_variable(item, a):
    ctx = {k.lower() for k in request(item).get("context", {})}
    for st in statements(item):
        for r in values(st.get("NotResource", [])):
            if "${" in r:
                var = r.split("${", 1)[1].split("}", 1)[0]
                if "," not in var and var not in ("*", "?", "$") and var.lower() not in ctx:
                    return a[0] != a[1] and a[0] in DECISIONS
    return False


def _federated_named_by_user_arn(item, a):
    if kind(item) != "federated" or a[0] == a[1]:
        return False
    user = "arn:aws:iam::{}:user/{}".format(item["caller"].get("account"), item["caller"].get("name"))
    return any(names_principal(st, user) or user in values((st.get("NotPrincipal") or {}).get("AWS", []))
               for st in statements(item, "resource"))


def _null_empty_list(item, a):
    ctx = {k.lower(): v for k, v in request(item).get("context", {}).items()}
    return a[0] != a[1] and any(op == "Null" and ctx.get(key.lower()) == [] for op, key, _ in conditions(item))


def _resource_patterns(item):
    for st in statements(item):
        for el in ("Resource", "NotResource"):
            for r in values(st.get(el, [])):
                if isinstance(r, str) and r.startswith("arn:") and r.count(":") >= 5:
                    yield r


def _wildcard_in_resource_type(item, a):
    for r in _resource_patterns(item):
        res = r.split(":", 5)[5]
        head = res.split("/", 1)[0] if "/" in res else ""
        if head and any(c in head for c in "*?") and head not in ("*",):
            return a[0] != a[1] and a[0] in DECISIONS
    return False


def _segment_case(item, a):
    for r in _resource_patterns(item):
        p = r.split(":", 5)
        if p[2] != p[2].lower() or p[3] != p[3].lower():
            return a[0] != a[1] and a[0] in DECISIONS
    return False


def _bool_variable(item, a):
    # Only where substituting changes something: the variable's key is in
    # the request (else both sides drop the value, and the cause is elsewhere).
    ctx = {k.lower() for k in request(item).get("context", {})}

    def substituted(v) -> bool:
        return isinstance(v, str) and "${" in v and \
            v.split("${", 1)[1].split("}", 1)[0].split(",")[0].strip().lower() in ctx
    if '"2008-10-17"' in json.dumps(policies(item)):
        return False  # variables are literal there (class policy-variable-literal-without-version-2012)
    return a[0] != a[1] and any(
        op.removesuffix("IfExists") == "Bool" and any(substituted(v) for v in values(vals))
        for op, _, vals in conditions(item))


MULTIVALUED = ("aws:tagkeys", "aws:principalorgpaths", "aws:calledvia", "aws:resourceorgpaths")


def _plain_operator_multivalued(item, a):
    ctx = {k.lower(): v for k, v in request(item).get("context", {}).items()}
    for op, key, _ in conditions(item):
        if ":" not in op and op != "Null" and key.lower() in MULTIVALUED and isinstance(ctx.get(key.lower()), list):
            return a[0] != a[1] and a[0] in DECISIONS
    return False


def _docs(item):
    p = policies(item)
    for key, val in p.items():
        if key in ("scps", "rcps"):
            yield from (d for level in val for d in level)
        elif isinstance(val, list):
            yield from val
        else:
            yield val


def _old_version_variable(item, a):
    return a[0] != a[1] and a[0] in DECISIONS and any(
        d.get("Version") != "2012-10-17" and "${" in json.dumps(d) for d in _docs(item))


def _escape_in_plain_string_condition(item, a):
    if a[0] == a[1] or a[0] not in DECISIONS:
        return False
    for op, _, vals in conditions(item):
        base = op.split(":")[-1].removesuffix("IfExists")
        if base.startswith("String") and "Like" not in base:
            if any(isinstance(v, str) and any(e in v for e in ("${*}", "${?}", "${$}")) for v in values(vals)):
                return True
    return False


def _assume_role_without_trust_policy(item, a):
    return (action(item).startswith("sts:assumerole") and "resource" not in policies(item)
            and a[0] in DENIES and a[1] == "allow")


def _notprincipal_grant_and_boundary(item, a):
    if a != ("allow", "implicit_deny") or "boundary" not in policies(item):
        return False
    return any(st.get("Effect") == "Allow" and "NotPrincipal" in st for st in statements(item, "resource"))


def _refuses_action(item, a):
    return iamlogic_refuses(a, "INVALID_ACTION")


def _refuses_partition(item, a):
    return iamlogic_refuses(a, "INVALID_PARTITION") and "arn:*:" in text(item)


CLASSES: list[PeerClass] = [
    # ---- iamlogic bugs: wrong allows (the campaign fails while these occur)
    PeerClass(
        "root-user-assumes-role", _root_assume_role, "peer",
        "STS API Reference, AssumeRole: \"You must use credentials for an IAM user or an IAM role to call "
        "AssumeRole. You cannot call AssumeRole with the credentials of an AWS account root user\" "
        "(https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html; IAM User Guide, "
        "id_roles_use_switch-role-api.html). A trust policy naming the account's root does not let the root "
        "user itself assume the role.",
        "tests/cases/sts/no_authorization.json: The root user cannot assume a role, even one whose trust policy names its account", "high"),
    PeerClass(
        "federated-session-calls-sts-or-iam", _federated_sts_iam_api, "peer",
        "STS API Reference, API_GetFederationToken.html (Permissions): the temporary credentials can be used "
        "in any AWS service except that \"You cannot call any IAM operations using the AWS CLI or the AWS API. "
        "This limitation does not apply to console sessions.\" and \"You cannot call any AWS STS operations "
        "except GetCallerIdentity.\" (also IAM User Guide, id_credentials_temp_control-access_getfederationtoken"
        ".html). A trust policy naming the federated session does not make sts:AssumeRole callable.",
        "tests/cases/sts/no_authorization.json: A GetFederationToken session cannot assume a role, even one whose trust policy names it", "high"),
    PeerClass(
        "ifexists-on-forany-set-operator-with-absent-key", _ifexists_set_operator_absent, "peer",
        "IAM User Guide, reference_policies_condition-single-vs-multi-valued-context-keys.html: ForAnyValue "
        "\"returns false\" when the key is missing from the request context; the IfExists suffix does not "
        "turn that into true. Observed on AWS (re:Post, \"ForAnyValue:StringEqualsIfExists behaving "
        "unexpectedly\", https://repost.aws/questions/QU9HFmDzP0QGuU-fd7rS6B7w: a role allowed sqs:* under "
        "ForAnyValue:StringEqualsIfExists on aws:TagKeys is denied ListQueues, which carries no aws:TagKeys; "
        "accepted answer: with no matching context key the condition returns false). iamlogic reads the "
        "condition as true: in an Allow it grants (an anonymous caller through a bucket policy included).",
        "tests/cases/conditions/literal_variables.json: ForAnyValue with IfExists on a missing key is false", "medium"),
    PeerClass(
        "principal-star-limited-by-session-policy", _star_principal_session_policy, "peer",
        "STS API Reference, API_GetFederationToken.html and API_AssumeRole.html (Policy): \"The resulting "
        "credentials can be used to access a resource that has a resource-based policy. If that policy "
        "specifically references the federated user session [the session] in the Principal element of the "
        "policy, the session has the permissions allowed by the policy. These permissions are granted in "
        "addition to the permissions that are granted by the session policies.\" Principal \"*\" (or an "
        "Allow NotPrincipal: everyone not listed) does not specifically reference the session, so the "
        "session policy limits it. iamlogic read \"*\" as naming the caller itself (not limited) and granted "
        "what AWS denies; it now limits \"*\" by the session policy and the boundary (kernel/rules.py).",
        "tests/cases/same_account/resource_policy_table.json: '*' named: limited by a session policy",
        "medium"),
    PeerClass(
        "principal-star-limited-by-boundary", _star_principal_boundary, "iamlogic",
        "Open reading, decided to lean to deny (docs/readings.md): the User Guide says a same-account "
        "resource policy naming the user's or session's own ARN is not limited by the permissions boundary, "
        "and (SEMANTICS §1.4) neither is \"*\" narrowed by an aws:PrincipalArn condition; for a bare \"*\" it "
        "is silent. iamlogic limits \"*\" by the boundary as by the session policy (where the STS API "
        "Reference is explicit); the peer does not. If AWS sides with the peer, iamlogic denies what AWS "
        "allows — never the reverse.",
        "tests/cases/same_account/resource_policy_table.json: '*' named: limited by a role's boundary (reading, docs/readings.md)", "low"),
    PeerClass(
        "bool-with-policy-variable", _bool_variable, "peer",
        "IAM User Guide, reference_policies_elements_condition_operators.html#Conditions_Boolean: Boolean "
        "condition operators list \"Policy variables – Supported\" (the page's per-family table), so "
        "Bool {\"aws:SecureTransport\": \"${aws:MultiFactorAuthPresent}\"} compares the two values; the "
        "policy variables page names only String and ARN operators (issue 12 §5: the docs contradict each "
        "other; the operator's own page is the more specific). iamlogic read the value as unreadable and the "
        "condition false, which dropped a Deny; it now substitutes variables in Bool values.",
        "tests/cases/conditions/basics.json: Bool substitutes policy variables (pinned)", "medium"),
    # ---- iamlogic bugs: refusals of documents IAM stores (no wrong allow)
    PeerClass(
        "iamlogic-refuses-stored-action-string", _refuses_action, "peer",
        "SEMANTICS §7 (recorded CreatePolicy answer): IAM stores an action string with spaces, a comma or "
        "nothing after the colon (\"iam: asdf safdsf af \" was accepted); it names no action and matches none; "
        "NotAction on it covers everything. Issue 12 §2: whatever IAM stores, the kernel decides.",
        "tests/cases/boundary/boundary.json: a boundary whose only Allow names no action allows nothing", "high"),
    PeerClass(
        "iamlogic-refuses-star-partition", _refuses_partition, "peer",
        "SEMANTICS §7: an arn:*: partition is stored by IAM (45 AWS managed policies, AWS's own Quick Setup "
        "roles); IAM User Guide reference_policies_elements_resource.html: wildcards may be used in any "
        "segment of the ARN.",
        "tests/cases/peer/peer_readings.json: An arn:*: partition matches the aws partition", "high"),
    # ---- the peer wrong
    PeerClass(
        "root-user-full-access-own-account", _root_own_account, "iamlogic",
        "IAM User Guide, id_root-user.html: the root user \"has complete access to all AWS services and "
        "resources in the account\"; SEMANTICS §1 (default implicit deny except for the root user in its own "
        "account, still subject to explicit denies and SCPs/RCPs). The peer has no identity policy to read "
        "and denies.",
        "tests/cases/peer/peer_readings.json: The root user has full access in its own account with no policy", "high"),
    PeerClass(
        "root-user-cannot-assume-role", _root_cannot_assume_role, "iamlogic",
        "STS API Reference, API_AssumeRole.html: AssumeRole must be called with the credentials of an IAM user "
        "or role, not the root user's; the peer lets a trust policy with Principal \"*\" admit the root user.",
        "tests/cases/sts/no_authorization.json: The root user cannot assume a role, even one whose trust policy names its account", "high"),
    PeerClass(
        "root-user-cross-account-via-resource-policy", _root_cross_account, "iamlogic",
        "IAM User Guide, reference_policies_elements_principal.html (AWS account principals): a resource "
        "policy naming an account delegates to it, and the account's own side decides; the root user's own "
        "side allows everything (id_root-user.html, \"complete access\"). Both sides allow (SEMANTICS §2).",
        "tests/cases/peer/peer_readings.json: Another account's root user is let in by a bucket policy naming everyone", "medium"),
    PeerClass(
        "service-linked-role-not-limited-by-scps", _slr_scp, "iamlogic",
        "AWS Organizations User Guide, orgs_manage_policies_scps.html: \"SCPs don't affect service-linked "
        "roles. Service-linked roles enable other AWS services to integrate with AWS Organizations and can't "
        "be restricted by SCPs.\" The peer applies SCPs to a role under /aws-service-role/.",
        "tests/cases/peer/peer_readings.json: An SCP does not limit a service-linked role", "high"),
    PeerClass(
        "service-linked-role-not-limited-by-rcps", _slr_rcp, "iamlogic",
        "AWS Organizations User Guide, orgs_manage_policies_rcps.html (what RCPs do not affect): permissions "
        "of service-linked roles are not restricted by RCPs; SEMANTICS §1.2-1.3 and the kernel's reading "
        "(kernel/principals.py: SCPs and RCPs do not apply to service-linked roles).",
        "tests/cases/peer/peer_readings.json: An RCP does not limit a service-linked role", "medium"),
    PeerClass(
        "federated-session-without-session-policy", _federated_no_session_policy, "iamlogic",
        "STS API Reference, GetFederationToken: \"Though the session policy parameters are optional, if you do "
        "not pass a policy, then the resulting federated user session has no permissions.\" SEMANTICS §1.7. "
        "The peer lets the IAM user's identity policies through.",
        "tests/cases/session/session_policies.json: federated session without a session policy", "high"),
    PeerClass(
        "resource-policy-naming-the-session-arn-not-limited-by-session-policy", _session_arn_named, "iamlogic",
        "STS API Reference, API_GetFederationToken.html / API_AssumeRole.html (Policy): \"If that policy "
        "specifically references the federated user session in the Principal element of the policy, the "
        "session has the permissions allowed by the policy. These permissions are granted in addition to the "
        "permissions that are granted by the session policies.\" SEMANTICS §1.4 table. The peer stops at the session policy's "
        "implicit deny.",
        "tests/cases/peer/peer_readings.json: A resource policy naming the federated session is not limited by its session policy", "high"),
    PeerClass(
        "negated-operator-with-absent-policy-variable", _negated_absent_variable, "iamlogic",
        "IAM User Guide, reference_policies_variables.html#policy-vars-no-value: \"inverted condition "
        "operators like StringNotEquals ... do match against a null value\" (SEMANTICS §7). The peer leaves "
        "the unresolved variable and fails the comparison.",
        "tests/cases/peer/peer_readings.json: A negated operator with an absent policy variable is true", "high"),
    PeerClass(
        "notprincipal-deny-checks-account-role-and-session", _notprincipal_deny_partial, "iamlogic",
        "IAM User Guide, reference_policies_elements_notprincipal.html: with Deny, \"AWS might check the "
        "account first, then the user\"; for an assumed-role session it checks the account, the role and the "
        "session, so an exemption must list all of them (the page's example lists the account, the role ARN and "
        "the assumed-role session ARN). SEMANTICS §3. The peer exempts the caller when any one of them is "
        "listed.",
        "tests/cases/peer/peer_readings.json: Deny + NotPrincipal listing only the account still denies its user", "medium"),
    PeerClass(
        "notipaddress-other-address-family", _notipaddress_family, "iamlogic",
        "IAM User Guide, reference_policies_elements_condition_operators.html#Conditions_IPAddress: "
        "NotIpAddress \"Negated match for the specified IP address or range\": an IPv6 address is in no IPv4 "
        "range (and the reverse), so NotIpAddress is true. The peer reads it as false.",
        "tests/cases/peer/peer_readings.json: NotIpAddress holds for an IPv6 caller against an IPv4 range", "high"),
    PeerClass(
        "date-operator-with-epoch-seconds", _date_epoch, "iamlogic",
        "IAM User Guide, reference_policies_elements_condition_operators.html#Conditions_Date: \"You must "
        "specify date/time values with one of the W3C implementations of the ISO 8601 date formats or in epoch "
        "(UNIX) time\" (seconds; aws:EpochTime is in seconds, reference_policies_condition-keys.html). The peer "
        "compares an epoch value against an ISO date as if it were not the same instant.",
        "tests/cases/peer/peer_readings.json: Date operators compare epoch seconds with an ISO date", "high"),
    PeerClass(
        "notresource-with-absent-policy-variable", _notresource_absent_variable, "iamlogic",
        "IAM User Guide, reference_policies_variables.html#policy-vars-no-value and SEMANTICS §5/§7: a "
        "Resource/NotResource entry whose variable has no value matches nothing, so a NotResource of only such "
        "entries covers every resource. The peer treats the entry as not matching the statement at all. In a "
        "Deny iamlogic is the stricter side; in an Allow (the User Guide also says an unresolved variable "
        "\"might cause the entire statement to be invalid\") the decision carries a warning naming the reading "
        "(docs/readings.md row 22b).",
        "tests/cases/peer/peer_readings.json: A Deny's NotResource with an absent variable covers every resource", "medium"),
    PeerClass(
        "federated-session-named-by-its-user-arn", _federated_named_by_user_arn, "iamlogic",
        "OPEN READING (issue 12 §5, \"a federated session whose name equals an IAM user's\"): the name in "
        "arn:aws:sts::A:federated-user/NAME is the Name passed to GetFederationToken, chosen by the caller "
        "(STS API Reference, API_GetFederationToken.html, Name), not the IAM user who called it; a resource "
        "policy naming arn:aws:iam::A:user/NAME matches the session only if that user created it "
        "(IAM User Guide, reference_policies_evaluation-logic.html, resource-based policies table), which the scenario cannot "
        "say. iamlogic reads the session as no user's; the peer guesses the user from the name. A WRONG ALLOW "
        "for a Deny naming the user if the session was that user's: the scenario needs a field for it.",
        "tests/cases/principals/readings.json: A federated session named like an IAM user is not named by that user's ARN", "low"),
    PeerClass(
        "null-on-empty-multivalued-key", _null_empty_list, "iamlogic",
        "IAM User Guide, reference_policies_condition-keys.html#condition-keys-tagkeys and "
        "reference_policies_elements_condition_operators.html#Conditions_Null: a request without tags carries "
        "no aws:TagKeys at all, so Null:true holds; iamlogic reads an empty list as that absent key, the peer "
        "as a present one. A request context with an empty list is not one AWS sends.",
        "tests/cases/peer/peer_readings.json: Null true holds for an empty multi-valued key", "medium"),
    PeerClass(
        "wildcard-inside-resource-type", _wildcard_in_resource_type, "iamlogic",
        "IAM User Guide, reference_policies_elements_resource.html (Using wildcards in resource ARNs): "
        "wildcards may be used \"within the individual segments of an ARN\"; \"The asterisk (*) character can "
        "expand to replace everything within a segment, including characters like a forward slash (/) that may "
        "otherwise appear to be a delimiter\" and \"/ ... is treated the same as any other valid character\". "
        "So arn:aws:ec2:r:a:instanc*/i-1 matches instance/i-1. The peer refuses any wildcard before the "
        "first '/' (its own \"product\" rule, not the page's).",
        "tests/cases/peer/peer_readings.json: A * inside a resource type matches (the resource part is one glob)", "medium"),
    PeerClass(
        "arn-service-or-region-segment-case", _segment_case, "iamlogic",
        "OPEN READING (issue 12 §5): SEMANTICS §3 reads Resource ARNs as case-sensitive (the Resource page: "
        "\"the IAM user name is case sensitive\"; reference-arns.html gives every service namespace and "
        "Region code in lower case) and iamlogic matches arn:aws:S3:::b/* to nothing; the peer compares "
        "partition, service, region and account case-insensitively. A WRONG ALLOW if AWS folds the case, for "
        "a Deny written in upper case: the decision should carry a warning (issue 12 §5).",
        "tests/cases/peer/peer_readings.json: A Deny whose service is written in upper case does not match (with a warning)", "low"),
    PeerClass(
        "plain-operator-on-multivalued-key", _plain_operator_multivalued, "iamlogic",
        "OPEN READING (issue 12 §5, README deliberate readings): IAM User Guide, "
        "reference_policies_condition-single-vs-multi-valued-context-keys.html says multivalued keys need "
        "ForAnyValue/ForAllValues and gives no semantics without one; iamlogic compares a one-value list as "
        "that value (several never match), the peer never matches a list under a plain operator. A WRONG "
        "ALLOW if AWS reads it the peer's way, for an Allow with a plain operator on a one-value key.",
        "tests/cases/peer/peer_readings.json: A one-value multi-valued key under a plain operator compares as that value", "low"),
    PeerClass(
        "policy-variable-literal-without-version-2012", _old_version_variable, "iamlogic",
        "IAM User Guide, reference_policies_variables.html: \"you must include the Version element and set it "
        "to a version that supports policy variables\" (2012-10-17); under 2008-10-17 or without Version "
        "\"the variables are treated as literal strings\" (SEMANTICS §5, §7). The peer substitutes them "
        "whatever the Version.",
        "tests/cases/peer/peer_readings.json: Under Version 2008-10-17 a variable is literal text", "high"),
    PeerClass(
        "escape-in-plain-string-condition", _escape_in_plain_string_condition, "iamlogic",
        "SEMANTICS §5, §7 and IAM User Guide, reference_policies_variables.html (special characters): ${*}, "
        "${?} and ${$} stand for the literal characters wherever variables are substituted, in conditions as in "
        "Resource. So StringNotEqualsIgnoreCase {aws:PrincipalTag/team: \"${*}\"} is false for the tag value "
        "\"*\". The peer substitutes escapes only for the Like operators and compares the text \"${*}\".",
        "tests/cases/peer/peer_readings.json: ${*} in a plain string operator is a literal star", "high"),
    PeerClass(
        "assume-role-needs-the-trust-policy", _assume_role_without_trust_policy, "iamlogic",
        "IAM User Guide, id_roles_terms-and-concepts.html / reference_policies_evaluation-logic (SEMANTICS §1.4 "
        "exceptions): a role trust policy must itself allow sts:AssumeRole; every role has one, and a scenario "
        "without one (the minimiser removed it) leaves no statement that allows. The peer, with no resource "
        "policy, trusts the caller's identity policy alone.",
        "tests/cases/peer/peer_readings.json: AssumeRole needs a trust statement for sts:AssumeRole", "high"),
    PeerClass(
        "notprincipal-allow-not-limited-by-boundary", _notprincipal_grant_and_boundary, "iamlogic",
        "OPEN READING: an Allow with NotPrincipal grants everyone not listed (reference_policies_elements_"
        "notprincipal.html), which iamlogic reads like Principal \"*\": same-account, a permissions boundary "
        "does not limit it (access_policies_boundaries.html says so for \"*\" with an aws:PrincipalArn "
        "condition; it is silent on NotPrincipal). The peer lets the boundary limit it. A WRONG ALLOW if AWS "
        "reads it the peer's way.",
        "tests/cases/same_account/resource_policy_table.json: '*' named: limited by a role's boundary (reading, docs/readings.md)", "low"),
    PeerClass(
        "rcp-short-arn-with-trailing-wildcard", _short_arn_wildcard_rcp, "iamlogic",
        "IAM User Guide, reference_policies_elements_resource.html and SEMANTICS §3: a '*' that ends a "
        "segment may expand past the colons (arn:aws:s3:* matches everything in S3). The peer refuses to "
        "match a resource ARN of fewer than six parts in an RCP.",
        "tests/cases/peer/peer_readings.json: An RCP's arn:aws:s3:* denies every S3 resource", "medium"),
]


CLASSES = [replace(c, repro=REPROS[c.name][0], aws=REPROS[c.name][1]) if c.name in REPROS else c
           for c in CLASSES]
assert set(REPROS) <= {c.name for c in CLASSES}


def classify(item: dict, answers: tuple[str, str]) -> PeerClass | None:
    """The first adjudicated class that recognises the (minimised) repro."""
    for c in CLASSES:
        try:
            if c.predicate(item, answers):
                return c
        except (KeyError, TypeError, AttributeError, IndexError):
            continue
    return None


def judge(cls: PeerClass | None, answers: tuple[str, str]) -> str | None:
    """Why a class of disagreement fails the campaign, or None: it is outside
    every adjudicated class, or iamlogic allows where AWS (the peer, by the
    adjudication) denies."""
    if cls is None:
        return "not adjudicated"
    if cls.right == "peer" and answers[0] == "allow" and answers[1] != "allow":
        return "iamlogic allows where AWS denies"
    return None


def by_name(name: str) -> PeerClass:
    for c in CLASSES:
        if c.name == name:
            return c
    raise KeyError(name)
