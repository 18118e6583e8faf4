"""check-no-public-access: who the public is (proofs/outsider.py, README
"check-no-public-access", docs/readings.md "the public"). An outsider is any
kind of caller of any account the policy does not name, choosing every key it
can choose; only the values a policy fixes are the owner's (S3 User Guide,
"The meaning of public"; IAM Access Analyzer: an external principal is "another
AWS account, a root user, an IAM user or role, a federated user, an AWS
service, or an anonymous user"). Every FAIL's witness is replayed here
through the kernel; every PASS of the property test is probed with concrete
outsider requests built from the policy's own strings and boundaries."""

from __future__ import annotations

import ipaddress
import itertools
import os

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import iamlogic
from iamlogic.proofs import check_no_public_access
from iamlogic.scenario import load_policy
from iamlogic.translator.model import PolicyType

V = "2012-10-17"
OWNER = "111122223333"  # the resource's account in the question (proofs.engine.WITNESS_ACCOUNT)
ALLOW_ALL = {"Version": V, "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
GITHUB = f"arn:aws:iam::{OWNER}:oidc-provider/token.actions.githubusercontent.com"


def bucket(condition=None, principal="*"):
    st_ = {"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::site/*"}
    if condition:
        st_["Condition"] = condition
    return {"Version": V, "Statement": [st_]}


def github_trust(condition):
    return {"Version": V, "Statement": [{"Effect": "Allow", "Principal": {"Federated": GITHUB},
                                         "Action": "sts:AssumeRoleWithWebIdentity", "Condition": condition}]}


def replays(policy, witness, trust=False):
    """The kernel's decision on the witness: an outsider's own policies
    allow it everything, the resource's is the policy (a role's trust policy
    read as one)."""
    if trust:
        policy = load_policy(policy, PolicyType.TRUST, "policy", None, None)[1]
    engine = iamlogic.compile({"identity": [ALLOW_ALL], "resource": policy})
    return engine.decide(witness).decision == "allow"


# Each a resource policy an attack found reported "not public" although an
# outsider meets it with values it controls.
OUTSIDER_CONTROLLED = {
    # A role session of any other account has aws:PrincipalType AssumedRole.
    "principal-type-assumed-role": {"StringEquals": {"aws:PrincipalType": "AssumedRole"}},
    # Any account's role matches arn:aws:iam::*:role/*.
    "principal-arn-any-role": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*"}},
    # ::/0 is every IPv6 address: an outsider calls over IPv6.
    "source-ip-every-ipv6": {"IpAddress": {"aws:SourceIp": "::/0"}},
    # Everything but one block is still the internet.
    "source-ip-not-one-block": {"NotIpAddress": {"aws:SourceIp": "198.51.100.0/24"}},
    # An outsider has an organization of its own, whose id is o-….
    "org-id-any-organization": {"StringLike": {"aws:PrincipalOrgID": "o-*"}},
    # …and VPC endpoints of its own.
    "source-vpce-any-endpoint": {"StringLike": {"aws:SourceVpce": "vpce-*"}},
    "source-vpce-present": {"Null": {"aws:SourceVpce": "false"}},
}


@pytest.mark.parametrize("name", sorted(OUTSIDER_CONTROLLED))
def test_a_condition_an_outsider_meets_with_its_own_values_is_public(name):
    policy = bucket(OUTSIDER_CONTROLLED[name])
    check = check_no_public_access(policy, "AWS::S3::Bucket")
    assert check.result == "FAIL", check.to_dict()
    w = check.witness
    assert w["principal"] is None or w["principal"].split(":")[4] != OWNER
    assert replays(policy, w)


def test_a_github_trust_policy_checking_only_the_audience_is_public():
    # IAM User Guide, "Configuring a role for GitHub OIDC identity provider":
    # without a sub condition any repository's workflow can assume the role.
    policy = github_trust({"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}})
    check = check_no_public_access(policy, "AWS::IAM::AssumeRolePolicyDocument")
    assert check.result == "FAIL", check.to_dict()
    assert check.witness["action"] == "sts:AssumeRoleWithWebIdentity"
    assert replays(policy, check.witness, trust=True)


@pytest.mark.parametrize("sub,expected", [
    ("repo:octo-org/*", "PASS"),                      # only the owner's repositories
    ("repo:octo-org/app:ref:refs/heads/main", "PASS"),
    ("repo:*", "FAIL"),                               # any owner's
    ("repo:octo*/*", "FAIL"),                         # an owner named octo-evil too
])
def test_a_github_trust_policy_is_public_unless_its_sub_fixes_the_owner(sub, expected):
    policy = github_trust({"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                           "StringLike": {"token.actions.githubusercontent.com:sub": sub}})
    check = check_no_public_access(policy, "AWS::IAM::AssumeRolePolicyDocument")
    assert check.result == expected, check.to_dict()
    if expected == "FAIL":
        assert replays(policy, check.witness, trust=True)


@pytest.mark.parametrize("account", ["999999999999", "999999999998", "123456789012"])
@pytest.mark.parametrize("key,resource_type", [("aws:PrincipalAccount", "AWS::S3::Bucket"),
                                               ("kms:CallerAccount", "AWS::KMS::Key")])
def test_a_condition_naming_one_account_is_not_public_whatever_the_account(account, key, resource_type):
    # The account named is the one trusted: no outsider is in it, whichever
    # twelve digits it is (an internal id of the tool's own is no outsider).
    action = "kms:Decrypt" if key.startswith("kms:") else "s3:GetObject"
    policy = {"Version": V, "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": action,
                                           "Resource": "*", "Condition": {"StringEquals": {key: account}}}]}
    check = check_no_public_access(policy, resource_type)
    assert check.result == "PASS", check.to_dict()


@pytest.mark.parametrize("condition", [
    {"StringEquals": {"aws:PrincipalOrgID": "o-abc1234567"}},
    {"StringEquals": {"aws:SourceVpce": "vpce-0abc1234"}},
    {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{OWNER}:role/*"}},
    {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-abc1234567/r-ab12/*"}},
    {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/48"]}},
    {"StringLike": {"aws:userid": "AROAEXAMPLEID:*"}},
    {"StringEquals": {"aws:SourceAccount": "444455556666"}},
])
def test_a_value_the_policy_fixes_is_the_owners(condition):
    check = check_no_public_access(bucket(condition), "AWS::S3::Bucket")
    assert check.result == "PASS", check.to_dict()


# ------------------------------------------------------------ property: PASS holds for sampled outsiders

KEYS = {
    "aws:PrincipalType": (["StringEquals", "StringNotEquals"], ["User", "AssumedRole", "Account", "FederatedUser",
                                                              "Anonymous"]),
    "aws:PrincipalArn": (["ArnLike", "StringLike", "ArnNotLike"],
                         ["arn:aws:iam::*:role/*", "arn:aws:iam::1*:user/a*", f"arn:aws:iam::{OWNER}:role/x",
                          "arn:aws:sts::*:federated-user/*", "arn:aws:iam::*:root"]),
    "aws:PrincipalAccount": (["StringEquals", "StringLike", "StringNotEquals"],
                             [OWNER, "1*", "999999999999", "12345678901?"]),
    "aws:SourceIp": (["IpAddress", "NotIpAddress"],
                     ["0.0.0.0/0", "::/0", "10.0.0.0/8", "198.51.100.0/24", "2001:db8::/32", "128.0.0.0/1"]),
    "aws:PrincipalOrgID": (["StringEquals", "StringLike", "StringNotEquals"], ["o-abc1234567", "o-*", "o-abc*"]),
    "aws:SourceVpce": (["StringEquals", "StringLike", "StringNotEquals"], ["vpce-0abc1234", "vpce-*", "vpce-0a*"]),
    "aws:userid": (["StringLike", "StringNotLike"], ["AROAEXAMPLEID:*", "*:alice", "AIDA*"]),
    "aws:Referer": (["StringLike"], ["https://example.com/*"]),
}


@st.composite
def public_policies(draw):
    keys = draw(st.lists(st.sampled_from(sorted(KEYS)), min_size=1, max_size=3, unique=True))
    condition = {}
    for key in keys:
        operators, values = KEYS[key]
        op = draw(st.sampled_from(operators)) + draw(st.sampled_from(["", "", "IfExists"]))
        chosen = draw(st.lists(st.sampled_from(values), min_size=1, max_size=2, unique=True))
        condition.setdefault(op, {})[key] = chosen
    if draw(st.booleans()):
        condition.setdefault("Null", {})[draw(st.sampled_from(["aws:SourceVpce", "aws:PrincipalOrgID"]))] = \
            draw(st.sampled_from(["true", "false"]))
    return bucket(condition)


def _filled(pattern: str) -> list[str]:
    """Strings a glob matches, and just miss: its wildcards filled with
    nothing, a digit, a letter; its literal pieces alone."""
    out = {pattern.replace("*", "").replace("?", "0"), pattern.replace("*", "0").replace("?", "1"),
           pattern.replace("*", "z").replace("?", "z"), pattern.replace("*", "9" * 11).replace("?", "9")}
    out.update(p for p in pattern.replace("?", "*").split("*") if p)
    return sorted(out)


def _edges(cidr: str) -> list[str]:
    net = ipaddress.ip_network(cidr, strict=False)
    top = (1 << net.max_prefixlen) - 1
    candidates = [int(net.network_address), int(net.broadcast_address), int(net.network_address) - 1,
                  int(net.broadcast_address) + 1]
    make = ipaddress.IPv4Address if net.version == 4 else ipaddress.IPv6Address
    return [str(make(c)) for c in candidates if 0 <= c <= top]


def _outsider_requests(policy):
    """Concrete requests of outsiders only: accounts, orgs, endpoints and ids
    the policy does not fix, addresses outside the networks it names."""
    clauses = [(op, key, values if isinstance(values, list) else [values])
               for op, block in policy["Statement"][0]["Condition"].items() for key, values in block.items()]
    strings = {key: set() for key in KEYS}
    fixed = {key: set() for key in KEYS}
    networks = []
    for op, key, values in clauses:
        if op == "Null":
            continue
        for v in values:
            if key == "aws:SourceIp":
                net = ipaddress.ip_network(v, strict=False)
                if net.prefixlen >= (8 if net.version == 4 else 32):
                    networks.append(net)
                continue
            strings[key].update(_filled(v))
            if "*" not in v and "?" not in v:
                fixed[key].add(v)
    named_accounts = {OWNER} | {a for v in fixed["aws:PrincipalAccount"] for a in [v]} | {
        v.split(":")[4] for v in fixed["aws:PrincipalArn"]}
    accounts = [a for a in {*(s for s in strings["aws:PrincipalAccount"] if len(s) == 12 and s.isdigit()),
                            *(s.split(":")[4] for s in strings["aws:PrincipalArn"]
                              if s.count(":") >= 5 and len(s.split(":")[4]) == 12 and s.split(":")[4].isdigit()),
                            "999999999999", "123456789012", "100000000000"} if a not in named_accounts]
    names = sorted({"x", "alice", *(s.rsplit("/", 1)[-1] for s in strings["aws:PrincipalArn"] if "/" in s)}
                   - {""})[:4]
    ips = [None, "1.2.3.4", "2001:db8:1::1"] + [e for v in KEYS["aws:SourceIp"][1] for e in _edges(v)]
    ips = [ip for ip in dict.fromkeys(ips)
           if ip is None or not any(ipaddress.ip_address(ip) in n for n in networks)]
    orgs = [None] + [o for o in sorted(strings["aws:PrincipalOrgID"] | {"o-zzz9999999"})
                     if o not in fixed["aws:PrincipalOrgID"] and not o.startswith("o-abc1234567")]
    vpces = [None] + [v for v in sorted(strings["aws:SourceVpce"] | {"vpce-9zz"}) if v not in fixed["aws:SourceVpce"]]
    userids = [None] + [u for u in sorted(strings["aws:userid"] | {"AIDAOUTSIDER"})
                        if not u.startswith("AROAEXAMPLEID")]
    principals = [None]
    for account, name in itertools.product(accounts[:3], names):
        principals += [f"arn:aws:iam::{account}:user/{name}", f"arn:aws:iam::{account}:role/{name}",
                       f"arn:aws:sts::{account}:assumed-role/{name}/s", f"arn:aws:sts::{account}:federated-user/{name}",
                       account]
    for principal, ip, org, vpce, userid in itertools.product(dict.fromkeys(principals), ips[:8], orgs[:3],
                                                              vpces[:3], userids[:2]):
        context = {"aws:Referer": "https://example.com/a"}
        if ip is not None:
            context["aws:SourceIp"] = ip
        if vpce is not None:
            context["aws:SourceVpce"] = vpce
        if principal is not None:
            if org is not None:
                context["aws:PrincipalOrgID"] = org
            if userid is not None and ("user/" in principal or "role/" in principal):
                context["aws:userid"] = userid
        yield {"principal": principal, "action": "s3:GetObject", "resource": "arn:aws:s3:::site/a",
               "resource_account": OWNER, "context": context}


@settings(max_examples=int(os.environ.get("IAMLOGIC_PROOF_EXAMPLES", "40")) // 2, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(public_policies())
def test_no_sampled_outsider_is_allowed_where_the_answer_is_pass(policy):
    check = check_no_public_access(policy, "AWS::S3::Bucket")
    assert check.result in ("PASS", "FAIL", "UNKNOWN")
    if check.result == "FAIL":
        assert replays(policy, check.witness)
        return
    if check.result != "PASS":
        return
    engine = iamlogic.compile({"identity": [ALLOW_ALL], "resource": policy})
    for request in _outsider_requests(policy):
        assert engine.decide(request).decision != "allow", (policy, request)


@pytest.mark.parametrize("principal,action,expected", [
    # Only principals of the named account may assume it (SEMANTICS §1.4):
    # the trust policy governs the sts:AssumeRole* actions, not
    # sts:GetCallerIdentity, which needs no permission.
    ({"AWS": f"arn:aws:iam::{OWNER}:root"}, "sts:AssumeRole", "PASS"),
    ({"AWS": "*"}, "sts:AssumeRole", "FAIL"),
    # A SAML provider the account registered is the owner's identity store.
    ({"Federated": f"arn:aws:iam::{OWNER}:saml-provider/Okta"}, "sts:AssumeRoleWithSAML", "PASS"),
])
def test_a_trust_policy_is_asked_about_the_actions_it_governs(principal, action, expected):
    policy = {"Version": V, "Statement": [{"Effect": "Allow", "Principal": principal, "Action": action}]}
    check = check_no_public_access(policy, "AWS::IAM::AssumeRolePolicyDocument")
    assert check.result == expected, check.to_dict()
    if expected == "FAIL":
        assert check.witness["action"] == action
        assert replays(policy, check.witness, trust=True)


def test_a_public_provider_named_without_its_arn_is_unknown_not_pass():
    # Google's users are anyone; the kernel calls as a provider only by its ARN.
    policy = {"Version": V, "Statement": [{"Effect": "Allow", "Principal": {"Federated": "accounts.google.com"},
                                           "Action": "sts:AssumeRoleWithWebIdentity"}]}
    check = check_no_public_access(policy, "AWS::IAM::AssumeRolePolicyDocument")
    assert check.result == "UNKNOWN", check.to_dict()
    assert "accounts.google.com" in check.note


def test_federated_everyone_takes_in_a_public_providers_callers():
    # {"Federated": "*"} names every identity provider's callers (kernel
    # reading, kernel/matching.py): GitHub's workflows among them.
    policy = github_trust({"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}})
    policy["Statement"][0]["Principal"] = {"Federated": "*"}
    check = check_no_public_access(policy, "AWS::IAM::AssumeRolePolicyDocument")
    assert check.result == "FAIL", check.to_dict()
    assert check.witness["principal"].endswith("oidc-provider/token.actions.githubusercontent.com")
    assert replays(policy, check.witness, trust=True)


@pytest.mark.parametrize("partition, resource_type, action, resource, shape", [
    ("aws-cn", "AWS::S3::Bucket", "s3:GetObject", "arn:aws-cn:s3:::bk/*", ("ArnLike", "arn:aws-cn:iam::*:user/*")),
    ("aws-cn", "AWS::S3::Bucket", "s3:GetObject", "arn:aws-cn:s3:::bk/*",
     ("StringLike", "arn:aws-cn:iam::*:role/*")),
    ("aws-us-gov", "AWS::S3::Bucket", "s3:GetObject", "arn:aws-us-gov:s3:::bk/*",
     ("ArnLike", "arn:aws-us-gov:iam::*:*")),
])
def test_an_outsider_of_another_partition_is_the_public_too(partition, resource_type, action, resource, shape):
    # The IAM callers of another account were modelled in the aws partition
    # only: a China-region bucket open to any China-region user was PASS.
    operator, pattern = shape
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": action,
                                                      "Resource": resource,
                                                      "Condition": {operator: {"aws:PrincipalArn": pattern}}}]}
    check = check_no_public_access(policy, resource_type)
    # Never PASS; UNKNOWN where the found ARN is no one caller's (said why).
    assert check.result in ("FAIL", "UNKNOWN"), check.note
    if check.result == "FAIL":
        assert check.witness["principal"].startswith(f"arn:{partition}:")
    else:
        assert "internal error" not in check.note
