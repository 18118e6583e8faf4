"""The differential campaign against the peer simulator (iam-simulate, bench/peer).

    python bench/peer_diff.py --scenarios 20000 --seed 1 [--jsonl OUT] [--quiet]

Generates scenarios AWS would accept (valid documents, consistent callers),
decides each with iamlogic (the Python API, in this process) and with the
peer (bench/peer/diff_runner.mjs, one long-lived node process), and clusters
the disagreements: each is minimised by probe rewrites that keep the two
answers, and the minimal repro is assigned to an adjudicated class of
bench/peer_classes.py, or to an unadjudicated class named by its feature
signature. Prints the figures and one minimal repro per class; exits 1 when a
disagreement falls outside every adjudicated class or when a class has
iamlogic allowing where the adjudication says AWS denies.

Fairness: the peer derives no context key from the caller, so the generator
computes the keys AWS sets for the caller (aws:PrincipalArn — a role
session's is the role ARN with its path —, aws:PrincipalAccount,
aws:PrincipalType, aws:username, aws:userid, aws:PrincipalIsAWSService,
aws:PrincipalServiceName, aws:PrincipalTag/*, aws:PrincipalOrgID/OrgPaths)
and gives the same complete context to both sides, iamlogic with
``derive_context: false``. Context keys the peer drops as not applicable to
the action are dropped for both and the scenario decided again. Every RCP
level carries RCPFullAWSAccess on both sides (AWS attaches it to every node;
the peer adds it itself). A scenario the peer refuses to decide (its own
validator, its catalogue) is counted and left out; a scenario iamlogic refuses
while the peer decides it is a disagreement (the generator only writes what
IAM stores).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import iamlogic  # noqa: E402
from iamlogic.errors import IamlogicError  # noqa: E402

import peer_classes  # noqa: E402

RUNNER = HERE / "peer" / "diff_runner.mjs"

A = "111122223333"   # the caller's account, usually the resource's too
B = "444455556666"   # another account
ORG = "o-a1b2c3d4e5"
ORG_PATH = f"{ORG}/r-ab12/ou-ab12-11111111/"
V12 = "2012-10-17"

FULL_ACCESS = {"Version": V12, "Statement": [{"Sid": "FullAWSAccess", "Effect": "Allow", "Action": "*",
                                               "Resource": "*"}]}
RCP_FULL_ACCESS = {"Version": V12, "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*",
                                                   "Resource": "*"}]}

# ---------------------------------------------------------------- the peer


class Peer:
    """One node process running diff_runner.mjs; answers in input order."""

    def __init__(self):
        if not (HERE / "peer" / "node_modules" / "@cloud-copilot" / "iam-simulate").is_dir():
            raise SystemExit("the peer is not installed: make bench/peer/node_modules")
        self.proc = subprocess.Popen(["node", str(RUNNER)], cwd=str(HERE / "peer"), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, bufsize=1)

    def many(self, sims: list[dict]) -> list[dict]:
        lines = [json.dumps(s) + "\n" for s in sims]

        def write():
            for line in lines:
                self.proc.stdin.write(line)
            self.proc.stdin.flush()

        t = threading.Thread(target=write, daemon=True)
        t.start()
        out = [json.loads(self.proc.stdout.readline()) for _ in lines]
        t.join()
        return out

    def one(self, sim: dict) -> dict:
        self.proc.stdin.write(json.dumps(sim) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except Exception:  # noqa: BLE001 - best effort at exit
            self.proc.kill()


# ------------------------------------------------------ scenario -> the peer


def _named(policies, prefix):
    return [{"name": f"{prefix}{i}", "policy": p} for i, p in enumerate(policies)]


def to_peer(scn: dict) -> dict:
    """The peer's Simulation for one iamlogic scenario (same policies, same
    request, same context)."""
    p, r = scn["policies"], scn["request"]
    rcps = []
    for i, level in enumerate(p.get("rcps") or []):
        # The peer adds RCPFullAWSAccess to every level itself.
        rcps.append({"orgIdentifier": f"rcp-level-{i}",
                     "policies": _named([x for x in level if x != RCP_FULL_ACCESS], f"rcp{i}-")})
    sim = {
        "identityPolicies": _named(p.get("identity") or [], "identity"),
        "serviceControlPolicies": [{"orgIdentifier": f"scp-level-{i}", "policies": _named(level, f"scp{i}-")}
                                   for i, level in enumerate(p.get("scps") or [])],
        "resourceControlPolicies": rcps,
        "request": {
            "action": r["action"],
            "principal": r["principal"] if r["principal"] is not None else {"type": "Anonymous"},
            "resource": {"accountId": r.get("resource_account") or "", "resource": r["resource"]},
            "contextVariables": {k: (v if isinstance(v, list) else str(v)) for k, v in r.get("context", {}).items()},
        },
    }
    if p.get("boundary"):
        sim["permissionBoundaryPolicies"] = _named(p["boundary"], "boundary")
    if p.get("resource"):
        sim["resourcePolicy"] = p["resource"]
    if p.get("session"):
        sim["sessionPolicy"] = p["session"]
    if p.get("vpc_endpoint"):
        sim["vpcEndpointPolicies"] = _named(p["vpc_endpoint"], "vpce")
    return sim


_CODE = __import__("re").compile(r": ([A-Z][A-Z_]+): ")


def iamlogic_decide(scn: dict) -> str:
    """allow / explicit_deny / implicit_deny, or "error:CODE message" when
    iamlogic refuses the scenario (CODE: the first blocking finding's)."""
    try:
        return iamlogic.simulate(scn).decision
    except IamlogicError as e:
        text = str(e).splitlines()[0]
        m = _CODE.search(text)
        return f"error:{m.group(1) if m else type(e).__name__} {text[:200]}"
    except Exception as e:  # noqa: BLE001 - a crash is an answer too, and a bug
        return f"crash: {type(e).__name__}: {str(e)[:200]}"


# ------------------------------------------------------------- the callers


@dataclass
class Caller:
    kind: str            # user, role_session, role, federated, root, anonymous, service, slr
    principal: str | None
    account: str | None
    name: str | None = None
    role_arn: str | None = None
    path: str = ""
    session: str | None = None
    service: str | None = None
    tags: dict = field(default_factory=dict)
    in_org: bool = True

    def context(self) -> dict:
        """The keys AWS sets for this caller (IAM User Guide, global condition
        context keys)."""
        c: dict = {}
        if self.kind == "anonymous":
            c["aws:PrincipalType"] = "Anonymous"
            c["aws:userid"] = "anonymous"
            return c
        if self.kind == "service":
            c["aws:PrincipalServiceName"] = self.service
            c["aws:PrincipalIsAWSService"] = "true"
            return c
        c["aws:PrincipalIsAWSService"] = "false"
        c["aws:PrincipalAccount"] = self.account
        if self.kind == "user":
            c["aws:PrincipalArn"] = self.principal
            c["aws:PrincipalType"] = "User"
            c["aws:username"] = self.name
            c["aws:userid"] = "AIDA" + self.name.upper()[:8].ljust(8, "X") + "EXAMPLE"
        elif self.kind in ("role_session", "role", "slr"):
            c["aws:PrincipalArn"] = self.role_arn
            c["aws:PrincipalType"] = "AssumedRole"
            c["aws:userid"] = "AROA" + self.name.upper()[:8].ljust(8, "X") + "EXAMPLE:" + (self.session or "session")
        elif self.kind == "federated":
            c["aws:PrincipalArn"] = self.principal
            c["aws:PrincipalType"] = "FederatedUser"
            c["aws:userid"] = f"{self.account}:{self.name}"
        elif self.kind == "root":
            c["aws:PrincipalArn"] = self.principal
            c["aws:PrincipalType"] = "Account"
            c["aws:userid"] = self.account
        for k, v in self.tags.items():
            c[f"aws:PrincipalTag/{k}"] = v
        if self.in_org:
            c["aws:PrincipalOrgID"] = ORG
            c["aws:PrincipalOrgPaths"] = [ORG_PATH]
        return c

    def to_dict(self):
        return {k: v for k, v in self.__dict__.items() if k in ("kind", "principal", "account", "in_org")
                or v not in (None, "", {}, [])}

    @classmethod
    def from_dict(cls, d):
        return cls(**d)


NAMES = ["alice", "bob", "Deployer", "carol"]
ROLE_PATHS = ["", "", "ops/", "ops/team/"]
SERVICES = ["s3.amazonaws.com", "cloudtrail.amazonaws.com", "lambda.amazonaws.com", "sns.amazonaws.com"]
TAG_VALUES = ["blue", "red", "*", "a*b", "Blue", "blue?"]


def make_caller(rng: random.Random, kind: str | None = None) -> Caller:
    kind = kind or rng.choices(
        ["user", "role_session", "role", "federated", "root", "anonymous", "service", "slr"],
        [24, 30, 8, 9, 6, 8, 8, 5])[0]
    account = A if rng.random() < 0.75 else B
    tags = {}
    if kind in ("user", "role_session", "role") and rng.random() < 0.5:
        tags = {"team": rng.choice(TAG_VALUES)}
    in_org = rng.random() < 0.8
    if kind == "user":
        name = rng.choice(NAMES)
        path = rng.choice(["", "", "eng/"])
        return Caller(kind, f"arn:aws:iam::{account}:user/{path}{name}", account, name, path=path, tags=tags,
                      in_org=in_org)
    if kind in ("role_session", "role"):
        name = rng.choice(NAMES)
        path = rng.choice(ROLE_PATHS)
        role_arn = f"arn:aws:iam::{account}:role/{path}{name}"
        if kind == "role":
            return Caller(kind, role_arn, account, name, role_arn, path, tags=tags, in_org=in_org)
        session = rng.choice(["s", "alice", "build-42"])
        return Caller(kind, f"arn:aws:sts::{account}:assumed-role/{name}/{session}", account, name, role_arn, path,
                      session, tags=tags, in_org=in_org)
    if kind == "federated":
        name = rng.choice(["alice", "bob", "fed"])
        return Caller(kind, f"arn:aws:sts::{account}:federated-user/{name}", account, name, in_org=in_org)
    if kind == "root":
        return Caller(kind, f"arn:aws:iam::{account}:root", account, in_org=in_org)
    if kind == "anonymous":
        return Caller(kind, None, None, in_org=False)
    if kind == "service":
        return Caller(kind, rng.choice(SERVICES), None, service=None, in_org=False)._with_service()
    # a service-linked role, named by its role ARN
    svc, name = rng.choice([("ecs.amazonaws.com", "AWSServiceRoleForECS"),
                            ("elasticloadbalancing.amazonaws.com", "AWSServiceRoleForElasticLoadBalancing")])
    path = f"aws-service-role/{svc}/"
    role_arn = f"arn:aws:iam::{account}:role/{path}{name}"
    return Caller("slr", role_arn, account, name, role_arn, path, in_org=in_org)


def _with_service(self):
    self.service = self.principal
    return self


Caller._with_service = _with_service

# ------------------------------------------------------------ the actions

REGIONS = ["us-east-1", "eu-west-1"]
BUCKETS = ["reports", "reports-prod", "logs"]
KEYS = ["home/alice/notes.txt", "home/bob/a.txt", "home/blue/x", "public/index.html", "home/Alice/notes.txt"]

# action, resource template kind, whether the service takes a resource policy,
# whether RCPs apply to it (IAM User Guide, RCPs: supported services)
ACTIONS = [
    ("s3:GetObject", "s3obj", True, True), ("s3:PutObject", "s3obj", True, True),
    ("s3:DeleteObject", "s3obj", True, True), ("s3:ListBucket", "s3bucket", True, True),
    ("sqs:SendMessage", "sqs", True, True), ("sns:Publish", "sns", True, False),
    ("kms:Decrypt", "kms", True, True), ("kms:Encrypt", "kms", True, True),
    ("lambda:InvokeFunction", "lambda", True, False),
    ("secretsmanager:GetSecretValue", "secret", True, True),
    ("ec2:TerminateInstances", "ec2", False, False), ("ec2:StartInstances", "ec2", False, False),
    ("ec2:DescribeInstances", "*", False, False),
    ("dynamodb:GetItem", "ddb", False, True), ("dynamodb:PutItem", "ddb", False, True),
    ("iam:GetUser", "iamuser", False, False), ("iam:CreateUser", "iamuser", False, False),
    ("iam:PassRole", "iamrole", False, False), ("sts:AssumeRole", "iamrole", True, True),
    ("sts:GetCallerIdentity", "*", False, False),
]
SIBLINGS = {"s3": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket", "s3:GetObjectAcl"],
            "ec2": ["ec2:TerminateInstances", "ec2:StartInstances", "ec2:DescribeInstances", "ec2:StopInstances"],
            "kms": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
            "iam": ["iam:GetUser", "iam:CreateUser", "iam:PassRole", "iam:DeleteUser"],
            "sts": ["sts:AssumeRole", "sts:GetCallerIdentity", "sts:TagSession"]}
ODD_ACTIONS = ["iam: asdf safdsf af ", "s3:GetObject,PutObject", "s3:", "s3:Get Object", "foo:bar"]


def make_resource(rng, kind, account, caller: Caller):
    region = rng.choice(REGIONS)
    if kind == "*":
        return "*"
    if kind == "s3obj":
        key = rng.choice(KEYS + ([f"home/{caller.name}/f"] if caller.name else []))
        return f"arn:aws:s3:::{rng.choice(BUCKETS)}/{key}"
    if kind == "s3bucket":
        return f"arn:aws:s3:::{rng.choice(BUCKETS)}"
    if kind == "sqs":
        return f"arn:aws:sqs:{region}:{account}:{rng.choice(['jobs', 'jobs-dlq'])}"
    if kind == "sns":
        return f"arn:aws:sns:{region}:{account}:{rng.choice(['alerts', 'alerts2'])}"
    if kind == "kms":
        return f"arn:aws:kms:{region}:{account}:key/{rng.choice(['1234abcd-12ab-34cd-56ef-1234567890ab', 'k2'])}"
    if kind == "lambda":
        return f"arn:aws:lambda:{region}:{account}:function:{rng.choice(['build', 'build-prod'])}"
    if kind == "secret":
        return f"arn:aws:secretsmanager:{region}:{account}:secret:{rng.choice(['db-AbCdEf', 'db2-XyZ123'])}"
    if kind == "ec2":
        return f"arn:aws:ec2:{region}:{account}:instance/{rng.choice(['i-0abc', 'i-0abd'])}"
    if kind == "ddb":
        return f"arn:aws:dynamodb:{region}:{account}:table/{rng.choice(['Users', 'Users2'])}"
    if kind == "iamuser":
        return f"arn:aws:iam::{account}:user/{rng.choice(['', 'eng/'])}{rng.choice(NAMES)}"
    if kind == "iamrole":
        return f"arn:aws:iam::{account}:role/{rng.choice(ROLE_PATHS)}{rng.choice(NAMES)}"
    raise ValueError(kind)


# ------------------------------------------------------- pattern mutations


def _near_miss(rng, s: str) -> str:
    if not s:
        return "x"
    i = rng.randrange(len(s))
    c = s[i]
    repl = c.swapcase() if c.isalpha() and rng.random() < 0.5 else rng.choice("xz0")
    return s[:i] + repl + s[i + 1:]


def _glob_of(rng, s: str, case: bool = True) -> str:
    """A wildcard pattern that matches s (or, sometimes, nearly)."""
    if not s:
        return "*"
    r = rng.random()
    i = rng.randrange(len(s) + 1)
    if r < 0.3:
        return s[:i] + "*"
    if r < 0.45:
        return "*" + s[i:]
    if r < 0.6 and len(s) > 1:
        j = rng.randrange(len(s))
        return s[:j] + "?" + s[j + 1:]
    if r < 0.7:
        return s[:i] + "*" + s[min(len(s), i + 2):]
    if r < 0.8 and case:
        return s.swapcase()
    return s


def _split_type(service: str, res: str) -> tuple[str, str]:
    """(resource type prefix, rest): wildcards and near misses go in the rest
    only (a wildcard inside the resource type is a reading the docs leave
    open, and IAM checks some services' resource paths)."""
    if service in ("s3", "sqs", "sns"):
        return "", res
    for sep in ("/", ":"):
        if sep in res:
            head, _, tail = res.partition(sep)
            return head + sep, tail
    return "", res


def resource_pattern(rng, resource: str, caller: Caller, scn_vars: list) -> str:
    if resource == "*" or rng.random() < 0.12:
        return "*"
    parts = resource.split(":", 5)
    service = parts[2]
    r = rng.random()
    if r < 0.12:
        return resource
    prefix, rest = _split_type(service, parts[5])
    p = list(parts)
    if r < 0.2:
        p[5] = prefix + _near_miss(rng, rest)
        return ":".join(p)
    seg = rng.choices([1, 3, 4, 5, 5, 5, 5], k=1)[0]
    if seg == 1:
        p[1] = "*" if rng.random() < 0.05 else "aws"
    elif seg in (3, 4) and p[seg]:
        p[seg] = rng.choice(["*", _glob_of(rng, p[seg], case=False)])
    else:
        q = rng.random()
        if q < 0.35 and caller.kind in ("user", "role_session", "role", "federated") and caller.name and "/" in rest:
            # a policy variable where the caller's own name or tag could go
            var = rng.choice(["${aws:username}", "${aws:PrincipalTag/team}", "${aws:username, 'alice'}",
                              "${aws:PrincipalTag/team, 'blue'}", "${*}", "${?}", "${aws:userid}",
                              "${aws:PrincipalAccount}"])
            scn_vars.append(var)
            pieces = rest.split("/")
            k = rng.randrange(len(pieces))
            pieces[k] = var if rng.random() < 0.7 else pieces[k] + var
            rest = "/".join(pieces)
            if rng.random() < 0.3:
                rest = rest + "*"
        else:
            rest = _glob_of(rng, rest)
        p[5] = prefix + rest
    if rng.random() < 0.04:
        return ":".join(p[:3]) + ":*"  # a '*' ending a segment: it crosses the colons
    r = rng.random()
    if r < 0.02 and prefix.endswith("/") and service != "iam":
        # a wildcard inside a /-delimited resource type (issue 12 §5)
        p[5] = prefix[:-2] + "*/" + p[5][len(prefix):]
    elif r < 0.04:
        # the case of the service or region segment (issue 12 §5)
        k = rng.choice([2, 3]) if p[3] else 2
        p[k] = p[k].upper()
    return ":".join(p)


def action_pattern(rng, action: str) -> str:
    svc, name = action.split(":")
    r = rng.random()
    if r < 0.3:
        return action
    if r < 0.4:
        return f"{svc}:*"
    if r < 0.45:
        return "*"
    if r < 0.6:
        return f"{svc}:{_glob_of(rng, name)}"
    if r < 0.7:
        return f"{svc.upper() if rng.random() < 0.5 else svc}:{name.lower()}"
    if r < 0.93:
        return rng.choice(SIBLINGS.get(svc, [action]))
    if r < 0.94:
        return rng.choice(ODD_ACTIONS)
    return rng.choice(["s3:GetObject", "ec2:*", "sqs:SendMessage", "iam:*"])


# ---------------------------------------------------------- conditions

STRING_KEYS = ["aws:PrincipalTag/team", "aws:RequestTag/env", "aws:RequestedRegion", "aws:username",
               "aws:PrincipalAccount", "aws:PrincipalType", "aws:PrincipalOrgID", "aws:SourceVpce", "aws:userid",
               "aws:PrincipalServiceName", "aws:SourceAccount"]
ARN_KEYS = ["aws:PrincipalArn", "aws:SourceArn"]
MULTI_KEYS = ["aws:TagKeys", "aws:PrincipalOrgPaths", "aws:CalledVia"]
STRING_OPS = ["StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
              "StringLike", "StringNotLike"]
NUM_OPS = ["NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals", "NumericGreaterThan",
           "NumericGreaterThanEquals"]
DATE_OPS = ["DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan",
            "DateGreaterThanEquals"]
ARN_OPS = ["ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"]
IP_OPS = ["IpAddress", "NotIpAddress"]
IPS = ["203.0.113.7", "10.0.0.5", "2001:db8::1", "198.51.100.10"]
CIDRS = ["203.0.113.0/24", "10.0.0.0/8", "2001:db8::/32", "203.0.113.7", "198.51.100.0/30"]
TIMES = ["2026-06-01T12:00:00Z", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"]
CALLED_VIA = ["cloudformation.amazonaws.com", "athena.amazonaws.com"]


def request_context(rng, caller: Caller, action: str, endpoint: bool) -> dict:
    ctx = caller.context()
    if rng.random() < 0.6:
        ctx["aws:SourceIp"] = rng.choice(IPS)
    if rng.random() < 0.6:
        ctx["aws:SecureTransport"] = rng.choice(["true", "false"])
    if rng.random() < 0.5:
        ctx["aws:CurrentTime"] = rng.choice(TIMES)
    if rng.random() < 0.4:
        ctx["aws:EpochTime"] = rng.choice(["1780315200", "1767225600"])
    if caller.kind not in ("anonymous", "service") and rng.random() < 0.5:
        ctx["aws:MultiFactorAuthPresent"] = rng.choice(["true", "false"])
        if ctx["aws:MultiFactorAuthPresent"] == "true":
            ctx["aws:MultiFactorAuthAge"] = rng.choice(["30", "3600", "86400"])
    if rng.random() < 0.5:
        ctx["aws:RequestedRegion"] = rng.choice(REGIONS)
    if rng.random() < 0.35:
        ctx["aws:RequestTag/env"] = rng.choice(["prod", "dev", "*", "Prod"])
        ctx["aws:TagKeys"] = rng.choice([["env"], ["env", "team"]])
    elif rng.random() < 0.15:
        ctx["aws:TagKeys"] = rng.choice([["team"], ["env", "Team"], []])
    if rng.random() < 0.15:
        ctx["aws:RequestTag/blob"] = rng.choice(["cHJvZA==", "ZGV2", "cHJvZA"])  # base64 text, for BinaryEquals
    if rng.random() < 0.15:
        ctx["aws:CalledVia"] = [rng.choice(CALLED_VIA)]
        ctx["aws:ViaAWSService"] = "true"
    if endpoint:
        ctx["aws:SourceVpce"] = rng.choice(["vpce-1a2b3c4d", "vpce-9z9z9z9z"])
    if caller.kind == "service" and rng.random() < 0.7:
        ctx["aws:SourceAccount"] = rng.choice([A, B])
        ctx["aws:SourceArn"] = rng.choice([f"arn:aws:cloudtrail:us-east-1:{A}:trail/main",
                                           f"arn:aws:s3:::{BUCKETS[0]}"])
    return ctx


def _string_value(rng, key, ctx, like):
    cur = ctx.get(key)
    if isinstance(cur, list):
        cur = cur[0] if cur else None
    r = rng.random()
    if cur is not None and r < 0.55:
        v = cur
    elif cur is not None and r < 0.7:
        v = _near_miss(rng, cur)
    else:
        v = rng.choice({"aws:PrincipalTag/team": TAG_VALUES, "aws:RequestTag/env": ["prod", "dev", "*"],
                        "aws:RequestedRegion": REGIONS, "aws:username": NAMES,
                        "aws:PrincipalAccount": [A, B], "aws:PrincipalType": ["User", "AssumedRole", "Account"],
                        "aws:PrincipalOrgID": [ORG, "o-other"], "aws:SourceVpce": ["vpce-1a2b3c4d"],
                        "aws:userid": ["AIDAALICEXXXEXAMPLE", f"{A}:alice"],
                        "aws:PrincipalServiceName": SERVICES, "aws:SourceAccount": [A, B]}.get(key, ["x"]))
    if like and rng.random() < 0.5:
        v = _glob_of(rng, v)
    if rng.random() < 0.12:
        # a policy variable in the condition value
        v = rng.choice(["${aws:username}", "${aws:PrincipalTag/team}", "${aws:username, 'alice'}",
                        "${aws:PrincipalTag/team}*", "home/${aws:username}", "${*}", "${?}", "a${*}b"])
    return v


def make_condition(rng, ctx: dict, caller: Caller) -> dict:
    cond: dict = {}
    for _ in range(rng.choice([1, 1, 1, 2])):
        fam = rng.choices(["string", "arn", "num", "date", "bool", "ip", "null", "multi", "binary"],
                          [30, 10, 8, 8, 12, 10, 8, 14, 3])[0]
        ifx = "IfExists" if rng.random() < 0.2 else ""
        if fam == "string":
            key = rng.choice(STRING_KEYS)
            op = rng.choice(STRING_OPS)
            vals = [_string_value(rng, key, ctx, "Like" in op) for _ in range(rng.choice([1, 1, 2]))]
        elif fam == "arn":
            key = rng.choice(ARN_KEYS)
            op = rng.choice(ARN_OPS + ["StringLike", "StringEquals"])
            cur = ctx.get(key) or rng.choice([caller.role_arn or "", f"arn:aws:iam::{A}:role/ops/Deployer"])
            if not cur:
                cur = f"arn:aws:iam::{A}:user/alice"
            r = rng.random()
            if r < 0.4:
                v = cur
            elif r < 0.7:
                p = cur.split(":", 5)
                p[5] = _glob_of(rng, p[5]) if len(p) == 6 else "*"
                v = ":".join(p)
            elif r < 0.8:
                v = f"arn:aws:iam::{A}:role/*"
            elif r < 0.9:
                v = "arn:aws:iam::*:role/ops/*"
            else:
                # a near miss in the resource part only: a value that is not an
                # ARN is a finding IAM rejects (INVALID_CONDITION_DATA_TYPE)
                p = cur.split(":", 5)
                v = ":".join(p[:5] + [_near_miss(rng, p[5])]) if len(p) == 6 else cur
            vals = [v]
        elif fam == "num":
            key = rng.choice(["aws:MultiFactorAuthAge", "aws:EpochTime"])
            op = rng.choice(NUM_OPS)
            vals = [rng.choice(["3600", "30", "86400", "1780315200", "0"])]
        elif fam == "date":
            key = rng.choice(["aws:CurrentTime", "aws:EpochTime", "aws:TokenIssueTime"])
            op = rng.choice(DATE_OPS)
            vals = [rng.choice(TIMES + ["2026-06-01", "1780315200"])]
        elif fam == "bool":
            key = rng.choice(["aws:SecureTransport", "aws:MultiFactorAuthPresent", "aws:ViaAWSService",
                              "aws:PrincipalIsAWSService"])
            op = "Bool"
            vals = [rng.choice(["true", "false", True, False])]
            if rng.random() < 0.05:
                vals = [rng.choice(["${aws:SecureTransport}", "${aws:MultiFactorAuthPresent}"])]  # issue 12 §5
        elif fam == "binary":
            key = "aws:RequestTag/blob"
            op = "BinaryEquals"
            # policy values are padded base64 (IAM refuses others: INVALID_CONDITION_DATA_TYPE); the
            # request's value is whatever the caller sent
            vals = [rng.choice(["cHJvZA==", "ZGV2"])]
        elif fam == "ip":
            key = "aws:SourceIp"
            op = rng.choice(IP_OPS)
            vals = rng.sample(CIDRS, rng.choice([1, 1, 2]))
        elif fam == "null":
            key = rng.choice(["aws:SourceIp", "aws:PrincipalTag/team", "aws:RequestTag/env", "aws:TagKeys",
                              "aws:MultiFactorAuthAge", "aws:username", "aws:SourceVpce"])
            op, ifx = "Null", ""
            vals = [rng.choice(["true", "false"])]
        else:
            key = rng.choice(MULTI_KEYS)
            # mostly a set operator; sometimes none (issue 12 §5: a plain operator on a multi-valued key)
            setop = rng.choice(["ForAnyValue:", "ForAllValues:"]) if rng.random() < 0.9 else ""
            base = rng.choice(["StringEquals", "StringLike", "StringNotEquals", "StringNotLike",
                               "StringEqualsIgnoreCase"])
            op = setop + base
            pool = {"aws:TagKeys": ["env", "team", "Team", "e*", "*"],
                    "aws:PrincipalOrgPaths": [ORG_PATH, f"{ORG}/*", f"{ORG}/r-ab12/ou-other/*"],
                    "aws:CalledVia": CALLED_VIA + ["*.amazonaws.com"]}[key]
            vals = rng.sample(pool, rng.choice([1, 2]))
        if op == "Null":
            name = "Null"
        else:
            name = op + ifx
        block = cond.setdefault(name, {})
        block[key] = vals[0] if len(vals) == 1 and rng.random() < 0.6 else vals
    return cond


# ----------------------------------------------------------- principals


def principal_candidates(caller: Caller) -> list:
    """Principal element values drawn from what the caller is, and near it."""
    acct = caller.account or A
    other = B if acct == A else A
    c = ["*", {"AWS": "*"}, {"AWS": acct}, {"AWS": f"arn:aws:iam::{acct}:root"}, {"AWS": other},
         {"Service": "s3.amazonaws.com"}, {"Service": "cloudtrail.amazonaws.com"}]
    if caller.kind == "user":
        c += [{"AWS": caller.principal}] * 3 + [{"AWS": f"arn:aws:iam::{acct}:user/bob"}]
    if caller.kind in ("role_session", "role", "slr"):
        c += [{"AWS": caller.role_arn}] * 3
        if not caller.path:
            # (a role ARN without the role's path names no role: IAM refuses a
            # resource policy whose principal does not exist, so not generated)
            c += [{"AWS": f"arn:aws:iam::{acct}:role/{caller.name}"}]
        c += [{"AWS": f"arn:aws:sts::{acct}:assumed-role/{caller.name}/{caller.session or 's'}"}] * 2
        c += [{"AWS": f"arn:aws:sts::{acct}:assumed-role/{caller.name}/other"}]
    if caller.kind == "federated":
        c += [{"AWS": caller.principal}] * 3 + [{"AWS": f"arn:aws:iam::{acct}:user/{caller.name}"}]
    if caller.kind == "root":
        c += [{"AWS": caller.principal}] * 2
    if caller.kind == "service":
        c += [{"Service": caller.service}] * 4
    if caller.kind == "anonymous":
        c += ["*"] * 3
    return c


def make_principal(rng, caller: Caller):
    cands = principal_candidates(caller)
    p = copy.deepcopy(rng.choice(cands))
    r = rng.random()
    if r < 0.25 and isinstance(p, dict):
        q = copy.deepcopy(rng.choice(cands))
        if isinstance(q, dict):
            for k, v in q.items():
                if k in p and p[k] != v:
                    cur = p[k] if isinstance(p[k], list) else [p[k]]
                    if v not in cur and v != "*" and "*" not in cur:
                        p[k] = cur + [v]
                elif k not in p and "*" not in p.values():
                    p[k] = v
    elif r < 0.28:
        p = rng.choice([{}, {"AWS": []}, {"Service": []}])
    return p


# ------------------------------------------------------------- statements


def make_statement(rng, *, effect, action, resource, caller, ctx, scn_vars, principal=None, not_resource_ok=True,
                   cond_p=0.35, odd_ok=True):
    st: dict = {"Effect": effect}
    if principal is not None:
        st.update(principal)
    acts = [action_pattern(rng, action) for _ in range(rng.choice([1, 1, 1, 2]))]
    if not odd_ok:
        acts = [a if a not in ODD_ACTIONS else action for a in acts]
    key = "NotAction" if rng.random() < 0.1 else "Action"
    if key == "NotAction" and "*" in acts:
        acts = [a for a in acts if a != "*"] or ["ec2:*"]
    st[key] = acts[0] if len(acts) == 1 else acts
    if resource is not None:
        ress = [resource_pattern(rng, resource, caller, scn_vars) for _ in range(rng.choice([1, 1, 2]))]
        rkey = "NotResource" if not_resource_ok and rng.random() < 0.1 else "Resource"
        if rkey == "NotResource" and "*" in ress:
            ress = [r for r in ress if r != "*"] or ["arn:aws:s3:::logs/*"]
        st[rkey] = ress[0] if len(ress) == 1 else ress
    if rng.random() < cond_p:
        st["Condition"] = make_condition(rng, ctx, caller)
    return st


def make_policy(rng, statements, version=V12):
    doc = {"Version": version, "Statement": statements if len(statements) > 1 or rng.random() < 0.7 else
           statements[0]}
    if version is None:
        del doc["Version"]
    return doc


def _version(rng):
    r = rng.random()
    return V12 if r < 0.95 else "2008-10-17"


def _resource_principal(rng, caller):
    if rng.random() < 0.08:
        return {"NotPrincipal": make_principal(rng, caller)}
    return {"Principal": make_principal(rng, caller)}


def generate(rng: random.Random) -> dict:
    """One scenario (iamlogic's format) and its caller, as {"scenario", "caller"}."""
    caller = make_caller(rng)
    action, rkind, has_rp, rcp_ok = rng.choice(ACTIONS)
    res_account = A if rng.random() < 0.85 else B
    if caller.kind in ("anonymous", "service") and not has_rp:
        action, rkind, has_rp, rcp_ok = rng.choice([a for a in ACTIONS if a[2]])
    resource = make_resource(rng, rkind, res_account, caller)
    endpoint = rng.random() < 0.1
    ctx = request_context(rng, caller, action, endpoint)
    vars_used: list = []
    policies: dict = {}
    principal_side = caller.kind not in ("anonymous", "service")
    res_for_pattern = resource if resource != "*" else "*"

    def stmt(effect, **kw):
        return make_statement(rng, effect=effect, action=action, resource=res_for_pattern, caller=caller, ctx=ctx,
                              scn_vars=vars_used, **kw)

    if principal_side:
        # the root user has no identity policies (none can be attached to it)
        n = rng.choice([0, 1, 1, 1, 2, 2, 3]) if caller.kind != "root" else 0
        ids = []
        for _ in range(n):
            sts = [stmt("Allow" if rng.random() < 0.75 else "Deny") for _ in range(rng.choice([1, 1, 2, 3]))]
            ids.append(make_policy(rng, sts, _version(rng)))
        if ids:
            policies["identity"] = ids
        if caller.kind in ("user", "role_session", "role") and rng.random() < 0.15:
            sts = [stmt("Allow", cond_p=0.2) for _ in range(rng.choice([1, 2]))]
            if rng.random() < 0.2:
                sts.append(stmt("Deny"))
            policies["boundary"] = [make_policy(rng, sts)]
        if caller.kind in ("role_session", "federated") and (rng.random() < 0.2 or
                                                              (caller.kind == "federated" and rng.random() < 0.8)):
            sts = [stmt("Allow", cond_p=0.2) for _ in range(rng.choice([1, 2]))]
            policies["session"] = make_policy(rng, sts)
        if caller.in_org and caller.kind != "anonymous" and rng.random() < 0.3:
            levels = []
            for _lvl in range(rng.choice([1, 2, 3])):
                r = rng.random()
                if r < 0.6:
                    level = [FULL_ACCESS]
                    if rng.random() < 0.6:
                        level.append(make_policy(rng, [stmt("Deny", cond_p=0.5, not_resource_ok=True)]))
                elif r < 0.9:
                    level = [make_policy(rng, [stmt("Allow", cond_p=0.15)])]
                else:
                    level = [FULL_ACCESS, make_policy(rng, [stmt("Allow", cond_p=0.3)])]
                levels.append(level)
            policies["scps"] = levels
    if has_rp and (rng.random() < 0.55 or not principal_side or rkind in ("kms",) or action == "sts:AssumeRole"):
        sts = []
        for _ in range(rng.choice([1, 1, 2, 3])):
            effect = "Allow" if rng.random() < 0.72 else "Deny"
            trust = action == "sts:AssumeRole"
            sts.append(make_statement(rng, effect=effect, action=action, resource=None if trust else res_for_pattern,
                                      caller=caller, ctx=ctx, scn_vars=vars_used,
                                      principal=_resource_principal(rng, caller)))
        policies["resource"] = make_policy(rng, sts, _version(rng))
    if rcp_ok and rng.random() < 0.2:
        levels = []
        for _lvl in range(rng.choice([1, 2])):
            level = [RCP_FULL_ACCESS]
            if rng.random() < 0.7:
                st = make_statement(rng, effect="Deny", action=action, resource=res_for_pattern, caller=caller,
                                    ctx=ctx, scn_vars=vars_used, principal={"Principal": "*"}, cond_p=0.7,
                                    odd_ok=False)
                acts = st.get("Action")
                if st.get("NotAction") or acts == "*" or (isinstance(acts, list) and "*" in acts):
                    st.pop("NotAction", None)
                    st["Action"] = action.split(":")[0] + ":*"
                level.append(make_policy(rng, [st]))
            levels.append(level)
        policies["rcps"] = levels
    if endpoint:
        sts = [make_statement(rng, effect="Allow", action=action, resource=res_for_pattern, caller=caller, ctx=ctx,
                              scn_vars=vars_used, principal={"Principal": "*"}, cond_p=0.3)]
        if rng.random() < 0.3:
            sts.append(make_statement(rng, effect="Deny", action=action, resource=res_for_pattern, caller=caller,
                                      ctx=ctx, scn_vars=vars_used, principal={"Principal": "*"}, cond_p=0.5))
        policies["vpc_endpoint"] = [make_policy(rng, sts)]
    request = {"principal": caller.principal, "action": action, "resource": resource,
               "resource_account": res_account, "context": ctx, "derive_context": False}
    return {"scenario": {"policies": policies, "request": request}, "caller": caller.to_dict()}


# ------------------------------------------------------------- deciding


def drop_ignored(item: dict, ignored: list) -> None:
    ctx = item["scenario"]["request"]["context"]
    low = {k.lower() for k in ignored}
    for k in list(ctx):
        if k.lower() in low:
            del ctx[k]


def decide_both(peer: Peer, item: dict) -> tuple[str, str]:
    sim = to_peer(item["scenario"])
    out = peer.one(sim)
    if out.get("ignored"):
        drop_ignored(item, out["ignored"])
        out = peer.one(to_peer(item["scenario"]))
    p = out.get("decision") or ("peer-error: " + out.get("error", "?"))
    return sys.modules[__name__].iamlogic_decide(item["scenario"]), p


def _is_error(answer: str) -> bool:
    return not answer in ("allow", "explicit_deny", "implicit_deny")


# ------------------------------------------------------------ minimising


def _statements(doc):
    st = doc.get("Statement")
    return st if isinstance(st, list) else [st]


def _set_statements(doc, sts):
    doc["Statement"] = sts if len(sts) != 1 else sts


def _policy_slots(scn):
    """(path, doc) for every policy document of a scenario."""
    p = scn["policies"]
    for key in ("identity", "boundary", "vpc_endpoint"):
        for i, doc in enumerate(p.get(key) or []):
            yield (key, i), doc
    for key in ("resource", "session"):
        if p.get(key):
            yield (key,), p[key]
    for key in ("scps", "rcps"):
        for i, level in enumerate(p.get(key) or []):
            for j, doc in enumerate(level):
                yield (key, i, j), doc


def _get(scn, path):
    cur = scn["policies"]
    for k in path:
        cur = cur[k]
    return cur


def rewrites(item: dict):
    """Candidate simplifications of a scenario, biggest first."""
    scn = item["scenario"]
    p = scn["policies"]
    for key in list(p):
        s = copy.deepcopy(item)
        del s["scenario"]["policies"][key]
        yield s
    for key in ("identity", "boundary", "vpc_endpoint"):
        lst = p.get(key) or []
        if len(lst) > 1:
            for i in range(len(lst)):
                s = copy.deepcopy(item)
                del s["scenario"]["policies"][key][i]
                yield s
    for key in ("scps", "rcps"):
        levels = p.get(key) or []
        for i in range(len(levels)):
            if len(levels) > 1:
                s = copy.deepcopy(item)
                del s["scenario"]["policies"][key][i]
                yield s
            for j in range(len(levels[i])):
                if len(levels[i]) > 1:
                    s = copy.deepcopy(item)
                    del s["scenario"]["policies"][key][i][j]
                    yield s
                full = FULL_ACCESS if key == "scps" else RCP_FULL_ACCESS
                if levels[i][j] != full:
                    s = copy.deepcopy(item)
                    s["scenario"]["policies"][key][i][j] = full
                    yield s
    for path, doc in list(_policy_slots(scn)):
        sts = _statements(doc)
        if len(sts) > 1:
            for k in range(len(sts)):
                s = copy.deepcopy(item)
                d = _get(s["scenario"], path)
                new = _statements(d)
                del new[k]
                d["Statement"] = new
                yield s
        for k, st in enumerate(sts):
            yield from _statement_rewrites(item, path, k, st)
    ctx = scn["request"].get("context", {})
    caller_keys = {k.lower() for k in Caller.from_dict(item["caller"]).context()}
    for key in list(ctx):
        if key.lower() not in caller_keys:
            s = copy.deepcopy(item)
            del s["scenario"]["request"]["context"][key]
            yield s
    yield from _caller_rewrites(item)


def _statement_rewrites(item, path, k, st):
    def edit(fn):
        s = copy.deepcopy(item)
        d = _get(s["scenario"], path)
        sts = _statements(d)
        fn(sts[k])
        d["Statement"] = sts if isinstance(d.get("Statement"), list) else sts[0]
        return s

    if "Condition" in st:
        yield edit(lambda x: x.pop("Condition"))
        cond = st["Condition"]
        for op in list(cond):
            if len(cond) > 1:
                yield edit(lambda x, op=op: x["Condition"].pop(op))
            for key, val in list(cond[op].items()):
                if len(cond[op]) > 1:
                    yield edit(lambda x, op=op, key=key: x["Condition"][op].pop(key))
                if isinstance(val, list) and len(val) > 1:
                    for i in range(len(val)):
                        yield edit(lambda x, op=op, key=key, i=i: x["Condition"][op].__setitem__(
                            key, [v for j, v in enumerate(val) if j != i]))
                if op.endswith("IfExists"):
                    def drop_ifx(x, op=op):
                        x["Condition"].setdefault(op[:-8], {}).update(x["Condition"].pop(op))
                    yield edit(drop_ifx)
    for el in ("Action", "NotAction", "Resource", "NotResource"):
        v = st.get(el)
        if isinstance(v, list) and len(v) > 1:
            for i in range(len(v)):
                yield edit(lambda x, el=el, i=i: x.__setitem__(el, [w for j, w in enumerate(x[el]) if j != i]))
        if v is not None and v != "*" and el in ("Action", "Resource"):
            yield edit(lambda x, el=el: x.__setitem__(el, "*"))
    for el in ("Principal", "NotPrincipal"):
        v = st.get(el)
        if isinstance(v, dict):
            for typ, vals in v.items():
                if isinstance(vals, list) and len(vals) > 1:
                    for i in range(len(vals)):
                        yield edit(lambda x, el=el, typ=typ, i=i: x[el].__setitem__(
                            typ, [w for j, w in enumerate(x[el][typ]) if j != i]))
                if len(v) > 1:
                    yield edit(lambda x, el=el, typ=typ: x[el].pop(typ))
    if st.get("Sid"):
        yield edit(lambda x: x.pop("Sid"))


def _caller_rewrites(item):
    c = Caller.from_dict(item["caller"])
    alts = []
    if c.tags:
        alts.append(Caller(**{**c.__dict__, "tags": {}}))
    if c.in_org and c.kind not in ("anonymous", "service"):
        alts.append(Caller(**{**c.__dict__, "in_org": False}))
    for alt in alts:
        s = copy.deepcopy(item)
        ctx = s["scenario"]["request"]["context"]
        for k in list(c.context()):
            ctx.pop(k, None)
        ctx.update(alt.context())
        s["caller"] = alt.to_dict()
        yield s


def minimise(peer: Peer, item: dict, answers: tuple[str, str], budget: int = 400) -> tuple[dict, int]:
    """The smallest scenario the rewrites reach that keeps both answers."""
    probes = 0

    def key(a):
        return tuple(x.split(" ")[0] for x in a)

    target = key(answers)
    changed = True
    while changed and probes < budget:
        changed = False
        for cand in rewrites(item):
            probes += 1
            if probes >= budget:
                break
            try:
                got = decide_both(peer, cand)
            except Exception:  # noqa: BLE001 - a rewrite the peer chokes on is just not taken
                continue
            if key(got) == target:
                item = cand
                changed = True
                break
    return item, probes


# ------------------------------------------------------------- the run


def features(item: dict, answers: tuple[str, str]) -> tuple:
    """The feature signature of a (minimised) repro: what it contains."""
    scn = item["scenario"]
    c = item["caller"]
    feats = set()
    text = json.dumps(scn["policies"])
    for path, doc in _policy_slots(scn):
        if doc.get("Version") != V12:
            feats.add(f"version:{doc.get('Version')}")
        for st in _statements(doc):
            for el in ("NotAction", "NotResource", "NotPrincipal"):
                if el in st:
                    feats.add(el)
            for el in ("Principal", "NotPrincipal"):
                v = st.get(el)
                if v == "*" or (isinstance(v, dict) and "*" in json.dumps(v)):
                    feats.add(f"{el}:*")
                if isinstance(v, dict) and (not v or any(x == [] for x in v.values())):
                    feats.add("empty-principal-map")
            for op, block in (st.get("Condition") or {}).items():
                feats.add("op:" + op)
                for vals in block.values():
                    for v in (vals if isinstance(vals, list) else [vals]):
                        if isinstance(v, str) and "${" in v:
                            feats.add("cond-variable")
            acts = st.get("Action", st.get("NotAction"))
            for a in (acts if isinstance(acts, list) else [acts]):
                if a in ODD_ACTIONS:
                    feats.add("odd-action")
    if "${" in text:
        feats.add("variable")
    if "arn:*:" in text:
        feats.add("arn-star-partition")
    r = scn["request"]
    caller_kind = c["kind"] + ("+path" if c.get("path") and c["kind"] != "slr" else "")
    cross = c.get("account") and r.get("resource_account") and c.get("account") != r.get("resource_account")
    return (answers[0].split(" ")[0], answers[1].split(" ")[0], caller_kind, "cross" if cross else "same",
            tuple(sorted(k for k in scn["policies"])), r["action"].split(":")[0], tuple(sorted(feats)))


OPERATOR_FAMILIES = ("String", "Numeric", "Date", "Bool", "Binary", "IpAddress", "Arn", "Null")


def coverage(items: list) -> dict:
    """What the generated scenarios contain: caller kinds, policy layers,
    operator families (with IfExists and set operators), elements."""
    kinds, layers, ops, elements = Counter(), Counter(), Counter(), Counter()
    for it in items:
        kinds[it["caller"]["kind"]] += 1
        scn = it["scenario"]
        for key in scn["policies"]:
            layers[key] += 1
        text = json.dumps(scn["policies"])
        for mark, name in (("${", "variable"), ("arn:*:", "arn:*: partition"), ('"Version": "2008-10-17"', "2008"),
                           ("${*}", "${*}"), ("${?}", "${?}"), (", '", "variable default")):
            if mark in text:
                elements[name] += 1
        for _path, doc in _policy_slots(scn):
            for st in _statements(doc):
                for el in ("NotAction", "NotResource", "NotPrincipal", "Principal"):
                    if el in st:
                        elements[el] += 1
                for op in (st.get("Condition") or {}):
                    base = op.split(":")[-1].removesuffix("IfExists")
                    fam = next((f for f in OPERATOR_FAMILIES if base.startswith(f) or base == "Not" + f), base)
                    if base == "NotIpAddress":
                        fam = "IpAddress"
                    ops[fam] += 1
                    if op.endswith("IfExists"):
                        ops["...IfExists"] += 1
                    if op.startswith("ForAnyValue:"):
                        ops["ForAnyValue:"] += 1
                    if op.startswith("ForAllValues:"):
                        ops["ForAllValues:"] += 1
    return {"callers": dict(kinds), "layers": dict(layers), "operators": dict(ops), "elements": dict(elements)}


def cluster(peer: Peer, disagreements: list, minimise_budget: int = 400, max_minimise: int = 2000):
    """Minimise and classify each disagreement: ({class name: entry}, {name: PeerClass or None},
    minimisation probes). Every instance is judged, not only a class's smallest repro."""
    classes: dict = defaultdict(lambda: {"count": 0, "repro": None, "answers": None, "wrong_allows": 0,
                                         "wrong_allow_repro": None, "pairs": Counter()})
    probes_total = 0
    memo: dict = {}
    for idx, (it, ans) in enumerate(disagreements):
        if idx < max_minimise:
            mini, probes = minimise(peer, copy.deepcopy(it), ans, minimise_budget)
            probes_total += probes
        else:
            mini = it
        cls = peer_classes.classify(mini, ans)
        name = cls.name if cls else "UNADJUDICATED " + repr(features(mini, ans))
        entry = classes[name]
        entry["count"] += 1
        entry["pairs"][f"{ans[0].split(' ')[0]}/{ans[1].split(' ')[0]}"] += 1
        size = len(json.dumps(mini))
        if entry["repro"] is None or size < entry["size"]:
            entry.update(repro=mini, answers=ans, size=size)
        # every instance is judged, not only the class's smallest repro: a
        # class adjudicated for the peer fails the run on any wrong allow
        if peer_classes.judge(cls, ans) == WRONG_ALLOW:
            entry["wrong_allows"] += 1
            if entry["wrong_allow_repro"] is None or size < entry["wrong_allow_size"]:
                entry.update(wrong_allow_repro=mini, wrong_allow_answers=ans, wrong_allow_size=size)
        memo[name] = cls
    return classes, memo, probes_total


def judge_classes(classes: dict, memo: dict) -> tuple[dict, list]:
    """The per-class summary and the failures: a class outside the adjudicated
    ones, or any instance of iamlogic allowing where the adjudication says AWS denies."""
    out = {}
    failures = []
    for name, e in sorted(classes.items(), key=lambda kv: -kv[1]["count"]):
        cls = memo[name]
        ans = e["answers"]
        out[name] = {
            "count": e["count"], "answers": {"iamlogic": ans[0], "peer": ans[1]},
            "pairs": dict(e["pairs"]),
            "adjudicated": cls is not None, "right": cls.right if cls else None,
            "confidence": cls.confidence if cls else None,
            "iamlogic_bug": bool(cls and cls.right == "peer"), "iamlogic_wrong_allow": e["wrong_allows"],
            "case": cls.case if cls else None, "repro": e["repro"],
            "wrong_allow_repro": e["wrong_allow_repro"],
        }
        if cls is None:
            failures.append(f"not adjudicated: {name} ({e['count']})")
        elif e["wrong_allows"]:
            failures.append(f"{WRONG_ALLOW}: {name} ({e['wrong_allows']} of {e['count']})")
    return out, failures


def run(n: int, seed: int, *, quiet: bool = False, jsonl: str | None = None, minimise_budget: int = 400,
        max_minimise: int = 2000, peer: Peer | None = None) -> dict:
    """Generate n scenarios from seed, decide them on both sides, minimise
    and classify the disagreements; the result object report() prints.
    (iamlogic's side is module-level ``iamlogic_decide``: tests replace it.)"""
    t0 = time.time()
    rng = random.Random(seed)
    own_peer = peer is None
    peer = peer or Peer()
    try:
        items = [generate(rng) for _ in range(n)]
        covered = coverage(items)
        t_gen = time.time() - t0
        sims = [to_peer(it["scenario"]) for it in items]
        peer_out = peer.many(sims)
        rerun = [i for i, o in enumerate(peer_out) if o.get("ignored")]
        for i in rerun:
            drop_ignored(items[i], peer_out[i]["ignored"])
        if rerun:
            again = peer.many([to_peer(items[i]["scenario"]) for i in rerun])
            for i, o in zip(rerun, again):
                peer_out[i] = o
        t_peer = time.time() - t0 - t_gen
        t1 = time.time()
        decide = sys.modules[__name__].iamlogic_decide
        ours = [decide(it["scenario"]) for it in items]
        t_ours = time.time() - t1
        mix_ours: Counter = Counter()
        mix_peer: Counter = Counter()
        agreements = 0
        peer_refused: Counter = Counter()
        disagreements = []
        for it, o, d in zip(items, peer_out, ours):
            p = o.get("decision")
            if p is None:
                peer_refused[o.get("error", "?").split(" ")[0]] += 1
                continue
            mix_peer[p] += 1
            mix_ours[d if not _is_error(d) else "error"] += 1
            if p == d:
                agreements += 1
            else:
                disagreements.append((it, (d, p)))
        # minimise and classify
        t2 = time.time()
        classes, memo, probes_total = cluster(peer, disagreements, minimise_budget, max_minimise)
        t_min = time.time() - t2
        result = {
            "scenarios": n, "seed": seed, "decided_by_both": sum(mix_peer.values()),
            "peer_refused": dict(peer_refused), "mix_iamlogic": dict(mix_ours), "mix_peer": dict(mix_peer),
            "agreements": agreements, "disagreements": len(disagreements),
            "classes": {}, "probes": probes_total, "coverage": covered,
            "seconds": {"generate": round(t_gen, 2), "peer": round(t_peer, 2), "iamlogic": round(t_ours, 2),
                        "minimise": round(t_min, 2), "total": round(time.time() - t0, 2)},
        }
        result["classes"], failures = judge_classes(classes, memo)
        result["failures"] = failures
        if jsonl:
            with open(jsonl, "w") as f:
                for it, ans in disagreements:
                    f.write(json.dumps({"answers": ans, **it}) + "\n")
        return result
    finally:
        if own_peer:
            peer.close()


WRONG_ALLOW = "iamlogic allows where AWS denies"


def report(result: dict, out=sys.stdout, repros: bool = True) -> None:
    w = out.write
    s = result["seconds"]
    w(f"scenarios: {result['scenarios']} (seed {result['seed']}), decided by both: {result['decided_by_both']}, "
      f"refused by the peer: {sum(result['peer_refused'].values())} {result['peer_refused']}\n")
    w(f"decision mix, iamlogic: {result['mix_iamlogic']}\n")
    w(f"decision mix, peer:     {result['mix_peer']}\n")
    w(f"agreements: {result['agreements']}, disagreements: {result['disagreements']} "
      f"({result['probes']} minimisation probes)\n")
    w(f"time: {s['total']} s (generate {s['generate']}, peer {s['peer']}, iamlogic {s['iamlogic']}, "
      f"minimise {s['minimise']})\n")
    for part, counts in result.get("coverage", {}).items():
        w(f"generated, {part}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))
          + "\n")
    w("\n")
    for name, c in result["classes"].items():
        tag = ("ADJUDICATED, " + ("iamlogic right" if c["right"] == "iamlogic" else "PEER RIGHT: IAMLOGIC BUG")
               if c["adjudicated"] else "NOT ADJUDICATED")
        if c["iamlogic_wrong_allow"]:
            tag += f", IAMLOGIC ALLOWS WHERE AWS DENIES in {c['iamlogic_wrong_allow']}"
        if c["confidence"]:
            tag += f", confidence {c['confidence']}"
        pairs = ", ".join(f"{k} {v}" for k, v in sorted(c["pairs"].items(), key=lambda kv: -kv[1]))
        w(f"[{c['count']:5}] {name}  ({tag})\n        iamlogic/peer: {pairs}\n")
        if c["case"]:
            w(f"        pinned by: {c['case']}\n")
        if repros:
            r = c["repro"]
            w(f"        repro (iamlogic={c['answers']['iamlogic']}, peer={c['answers']['peer']}): "
              + json.dumps({"caller": r["caller"], **r["scenario"]}) + "\n")
            r = c["wrong_allow_repro"]
            if r is not None and r is not c["repro"]:
                w("        wrong-allow repro: " + json.dumps({"caller": r["caller"], **r["scenario"]}) + "\n")
    if result["failures"]:
        w("\nFAIL:\n" + "".join(f"  {f}\n" for f in result["failures"]))
    else:
        w("\nOK: every disagreement is in an adjudicated class; no class has iamlogic allowing where AWS denies\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenarios", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jsonl", help="write every disagreement (unminimised) here")
    ap.add_argument("--json", help="write the result object here")
    ap.add_argument("--no-repros", action="store_true")
    ap.add_argument("--minimise-budget", type=int, default=400)
    args = ap.parse_args(argv)
    result = run(args.scenarios, args.seed, jsonl=args.jsonl, minimise_budget=args.minimise_budget)
    report(result, repros=not args.no_repros)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
