"""An adversarial soundness harness for the proofs: random questions built to
hit where proofs go wrong, every PASS / PROVEN NEVER attacked with concrete
requests decided by the kernel, every FAIL witness replayed.

The questions aim at the known weak spots of a symbolic encoding: the policy
Version (variables are literal without it), ARN names holding ':' and '/'
(Bedrock model ids, KMS aliases, partner event buses), actions the catalogue
does not list, the open principal (the account's root user, service-linked
roles), public access through keys an outsider chooses, date and number
bounds one microsecond / one millionth apart, case folding beyond the Basic
Multilingual Plane, and many overlapping multi-star globs.

The attacker is written from the promise, not from the proofs' code: a
request is in the typed universe when its action is the catalogue's (or one a
question or policy names) and its resource fits one of the action's ARN
formats, each placeholder any non-empty text; untyped, any action and
resource. Requests are biased to the policies' own strings: wildcards are
filled with the pieces the policies spell and with ':' and '/', condition
values are taken at their boundaries.

    python bench/soundness.py [--questions N] [--samples M] [--seed S]

prints counts per question kind and result, and every wrong answer found.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

import iamlogic
from iamlogic.kernel.catalogue import CATALOGUE
from iamlogic.proofs import (can_be_allowed, check_access_not_granted, check_no_new_access, check_no_public_access,
                             equivalent)

OWNER = "111122223333"
OTHER = "444455556666"  # an account the questions name
ORG = "o-owner12345"
V2012 = "2012-10-17"

# Action patterns: real actions, names the catalogue does not list, and
# patterns overlapping them.
ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:Get*", "s3:*Object*", "s3:*", "*",
           "s3:NewAction2030", "s3:NewAction*", "kms:Decrypt", "kms:*", "bedrock:InvokeModel", "bedrock:Invoke*",
           "events:PutEvents", "iam:PassRole", "iam:*", "sts:AssumeRole", "s3:?etObject"]
MODEL = "anthropic.claude-3-5-sonnet-20240620-v1:0"
RESOURCES = [
    "*", "arn:aws:s3:::b/*", "arn:aws:s3:::b/a*b*", "arn:aws:s3:::b/*a*", "arn:aws:s3:::b/${aws:username}/*",
    "arn:aws:s3:::b", "arn:aws:s3:::*/x", "arn:aws:s3:::b/?",
    f"arn:aws:bedrock:us-east-1::foundation-model/{MODEL}", "arn:aws:bedrock:us-east-1::foundation-model/*:0",
    "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:*",
    "arn:aws:bedrock:*::foundation-model/*",
    f"arn:aws:kms:us-east-1:{OWNER}:alias/app/prod", f"arn:aws:kms:us-east-1:{OWNER}:alias/app/*",
    f"arn:aws:kms:*:{OWNER}:key/*",
    f"arn:aws:events:us-east-1:{OWNER}:event-bus/aws.partner/example.com/123/bus",
    "arn:aws:events:*:*:event-bus/aws.partner/*",
    f"arn:aws:iam::{OWNER}:role/*", f"arn:aws:iam::{OWNER}:role/path/*",
]
# Condition clauses (operator, key, values), grouped so boundaries meet.
CLAUSES = [
    ("DateLessThan", "aws:CurrentTime", ["2026-01-01T00:00:00.000001Z"]),
    ("DateLessThan", "aws:CurrentTime", ["2026-01-01T00:00:00Z"]),
    ("DateGreaterThanEquals", "aws:CurrentTime", ["2026-01-01T00:00:00.000002Z"]),
    ("NumericLessThan", "s3:max-keys", ["10"]),
    ("NumericLessThan", "s3:max-keys", ["10.000001"]),
    ("NumericGreaterThan", "s3:max-keys", ["9.9999999"]),
    ("StringEqualsIgnoreCase", "aws:PrincipalTag/team", ["straße"]),
    ("StringEqualsIgnoreCase", "aws:PrincipalTag/team", ["STRASSE"]),
    ("StringEqualsIgnoreCase", "aws:PrincipalTag/team", ["ﬁn"]),
    ("StringEqualsIgnoreCase", "aws:PrincipalTag/team", ["\U00010400x"]),  # DESERET CAPITAL LONG I
    ("StringEquals", "aws:PrincipalTag/team", ["\U00010428x"]),  # its small letter
    ("StringEquals", "aws:PrincipalTag/team", ["fin", "red"]),
    ("StringLike", "s3:prefix", ["home/*"]),
    ("StringLike", "s3:prefix", ["home/*/x"]),
    ("StringNotLike", "s3:prefix", ["home/a*"]),
    ("StringEquals", "s3:prefix", ["${aws:username}"]),
    ("IpAddress", "aws:SourceIp", ["10.0.0.0/8"]),
    ("IpAddress", "aws:SourceIp", ["10.0.0.0/9"]),
    ("NotIpAddress", "aws:SourceIp", ["10.128.0.0/9"]),
    ("IpAddress", "aws:SourceIp", ["2001:db8::/32"]),
    ("Bool", "aws:SecureTransport", ["true"]),
    ("Null", "s3:prefix", ["false"]),
    ("StringEqualsIfExists", "aws:PrincipalTag/team", ["red"]),
    ("ArnLike", "aws:PrincipalArn", [f"arn:aws:iam::{OWNER}:role/*"]),
]
# What an outsider can put in a resource policy's way: keys it chooses.
PUBLIC_CLAUSES = [
    ("StringEquals", "aws:PrincipalType", ["AssumedRole"]),
    ("ArnLike", "aws:PrincipalArn", ["arn:aws:iam::*:role/*"]),
    ("IpAddress", "aws:SourceIp", ["::/0"]),
    ("IpAddress", "aws:SourceIp", ["0.0.0.0/0"]),
    ("NotIpAddress", "aws:SourceIp", ["198.51.100.0/24"]),
    ("StringLike", "aws:PrincipalOrgID", ["o-*"]),
    ("StringLike", "aws:SourceVpce", ["vpce-*"]),
    ("Null", "aws:SourceVpce", ["false"]),
    ("StringEquals", "aws:PrincipalAccount", ["999999999999"]),
    ("StringLike", "aws:PrincipalAccount", ["9*"]),
    ("StringEquals", "aws:PrincipalOrgID", [ORG]),
    ("StringEquals", "aws:SourceVpce", ["vpce-0123456789abcdef0"]),
    ("StringEquals", "aws:PrincipalAccount", [OWNER]),
    ("Bool", "aws:SecureTransport", ["true"]),
    ("StringLike", "aws:Referer", ["https://example.com/*"]),
    ("StringEquals", "aws:PrincipalTag/team", ["red"]),
]
GITHUB = "token.actions.githubusercontent.com"
KINDS = ("no-new-access", "equivalent", "access-not-granted", "public-access", "can-be-allowed")


@dataclass
class Question:
    kind: str
    typed: bool
    args: dict
    note: str = ""


@dataclass
class Tally:
    counts: Counter = field(default_factory=Counter)
    wrong: list = field(default_factory=list)
    seconds: float = 0.0
    requests: int = 0

    def add(self, question: Question, result: str, problem: str | None):
        self.counts[(question.kind, "typed" if question.typed else "untyped", result)] += 1
        if problem:
            self.wrong.append({"kind": question.kind, "typed": question.typed, "problem": problem,
                               "question": question.args, "note": question.note})


# ---------------------------------------------------------------- questions

def _statement(rng: random.Random, effect: str | None = None, clauses=CLAUSES, principal=None) -> dict:
    st: dict = {"Effect": effect or rng.choice(["Allow", "Allow", "Allow", "Deny"])}
    if principal is not None:
        st["Principal"] = principal
    st["NotAction" if rng.random() < 0.08 else "Action"] = rng.sample(ACTIONS, rng.randint(1, 2))
    st["NotResource" if rng.random() < 0.08 else "Resource"] = rng.sample(RESOURCES, rng.randint(1, 2))
    condition: dict = {}
    for op, key, values in rng.sample(clauses, rng.choice([0, 0, 1, 1, 2])):
        condition.setdefault(op, {})[key] = list(values)
    if condition:
        st["Condition"] = condition
    return st


def _policy(rng: random.Random, statements: list[dict]) -> dict:
    out: dict = {"Statement": statements}
    if rng.random() < 0.8:
        out = {"Version": V2012 if rng.random() < 0.9 else "2008-10-17", **out}
    return out


def _star_glob(rng: random.Random) -> str:
    """A multi-star object glob over a small alphabet: many of them overlap."""
    pieces = [rng.choice(["a", "b", "ab", "/", "ba"]) for _ in range(rng.randint(2, 4))]
    return "arn:aws:s3:::b/*" + "*".join(pieces) + rng.choice(["*", ""])


def _mutate(rng: random.Random, policy: dict) -> dict:
    """One change of the kind refactors make."""
    out = copy.deepcopy(policy)
    sts = out["Statement"]
    choice = rng.randrange(7)
    if choice == 0:  # add or drop the Version
        if "Version" in out:
            del out["Version"]
        else:
            out = {"Version": V2012, **out}
    elif choice == 1 and sts:  # widen or narrow one resource
        st = rng.choice(sts)
        name = "Resource" if "Resource" in st else "NotResource"
        st[name] = [rng.choice(RESOURCES)] + st[name][1:]
    elif choice == 2 and sts:  # a condition boundary moved
        st = rng.choice(sts)
        op, key, values = rng.choice(CLAUSES)
        st["Condition"] = {op: {key: list(values)}}
    elif choice == 3 and sts:
        sts.pop(rng.randrange(len(sts)))
    elif choice == 4:
        sts.append(_statement(rng))
    elif choice == 5 and sts:  # one action changed
        st = rng.choice(sts)
        name = "Action" if "Action" in st else "NotAction"
        st[name] = [rng.choice(ACTIONS)] + st[name][1:]
    else:  # the same statements in another order, as another Sid would be
        rng.shuffle(sts)
    return out


def make_question(rng: random.Random) -> Question:
    kind = rng.choice(KINDS)
    typed = rng.random() < 0.6
    if kind in ("no-new-access", "equivalent"):
        if rng.random() < 0.15:
            globs = [_star_glob(rng) for _ in range(rng.randint(4, 7))]
            old = {"Version": V2012, "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": globs}]}
            new = {"Version": V2012, "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                     "Resource": list(reversed(globs))[:-1] + [_star_glob(rng)]}]}
            if rng.random() < 0.5:
                new = copy.deepcopy(old)
                new["Statement"][0]["Resource"].reverse()
            return Question(kind, typed, {"new": new, "old": old}, "overlapping globs")
        old = _policy(rng, [_statement(rng) for _ in range(rng.randint(1, 3))])
        new = _mutate(rng, old) if rng.random() < 0.8 else _policy(rng, [_statement(rng) for _ in range(2)])
        return Question(kind, typed, {"new": new, "old": old})
    if kind == "access-not-granted":
        policy = _policy(rng, [_statement(rng) for _ in range(rng.randint(1, 3))])
        actions = rng.sample([a for a in ACTIONS if a != "*"], rng.randint(1, 2)) if rng.random() < 0.8 else None
        resources = rng.sample(RESOURCES, 1) if rng.random() < 0.5 or actions is None else None
        return Question(kind, typed, {"policy": policy, "actions": actions, "resources": resources})
    if kind == "public-access":
        if rng.random() < 0.15:
            trust = {"Effect": "Allow", "Principal": {"Federated": f"arn:aws:iam::{OWNER}:oidc-provider/{GITHUB}"},
                     "Action": "sts:AssumeRoleWithWebIdentity",
                     "Condition": {"StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"}}}
            if rng.random() < 0.5:
                trust["Condition"]["StringLike"] = {f"{GITHUB}:sub": "repo:owner/app:*"}
            return Question(kind, typed, {"policy": {"Version": V2012, "Statement": [trust]},
                                          "resource_type": "AWS::IAM::AssumeRolePolicyDocument"}, "github oidc")
        principal = rng.choice(["*", "*", {"AWS": "*"}, {"AWS": f"arn:aws:iam::{OTHER}:root"}, {"AWS": OWNER}])
        sts = []
        for _ in range(rng.randint(1, 2)):
            st = {"Effect": rng.choice(["Allow", "Allow", "Deny"]), "Principal": principal,
                  "Action": rng.choice(["s3:GetObject", "s3:*", "s3:Get*", "*"]),
                  "Resource": rng.choice(["arn:aws:s3:::b/*", "arn:aws:s3:::b", "*", "arn:aws:s3:::b/p*"])}
            condition: dict = {}
            for op, key, values in rng.sample(PUBLIC_CLAUSES, rng.choice([1, 1, 2])):
                condition.setdefault(op, {})[key] = list(values)
            st["Condition"] = condition
            sts.append(st)
        return Question(kind, typed, {"policy": {"Version": V2012, "Statement": sts},
                                      "resource_type": "AWS::S3::Bucket"})
    # can-be-allowed: a whole policy set, the principal open or fixed
    policies: dict = {"identity": [_policy(rng, [_statement(rng) for _ in range(rng.randint(1, 2))])]}
    if rng.random() < 0.4:
        policies["boundary"] = [_policy(rng, [_statement(rng, "Allow")])]
    if rng.random() < 0.5:
        deny = _statement(rng, "Deny")
        policies["scps"] = [[{"Version": V2012, "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"}, deny]}]]
    if rng.random() < 0.3:
        policies["resource"] = _policy(rng, [_statement(rng, principal=rng.choice(
            ["*", {"AWS": OWNER}, {"AWS": f"arn:aws:iam::{OWNER}:role/app"}]))])
    request: dict = {"resource_account": OWNER}
    if rng.random() < 0.4:
        request["principal"] = rng.choice([f"arn:aws:iam::{OWNER}:user/alice", f"arn:aws:iam::{OWNER}:root",
                                           f"arn:aws:sts::{OWNER}:assumed-role/app/s",
                                           f"arn:aws:sts::{OWNER}:assumed-role/AWSServiceRoleForSupport/s"])
    if rng.random() < 0.6:
        request["action"] = rng.choice(ACTIONS)
    if rng.random() < 0.4:
        request["resource"] = rng.choice(RESOURCES)
    if rng.random() < 0.3:
        request["context"] = {"aws:SourceIp": rng.choice(["10.0.0.1", "10.200.0.1", "192.0.2.1"])}
    return Question(kind, typed, {"policies": policies, "request": request})


def ask(q: Question, timeout_ms: int):
    a = q.args
    if q.kind == "no-new-access":
        return check_no_new_access(a["new"], a["old"], timeout_ms=timeout_ms, typed=q.typed)
    if q.kind == "equivalent":
        return equivalent(a["new"], a["old"], timeout_ms=timeout_ms, typed=q.typed)
    if q.kind == "access-not-granted":
        return check_access_not_granted(a["policy"], a["actions"], a["resources"], timeout_ms=timeout_ms,
                                        typed=q.typed)
    if q.kind == "public-access":
        return check_no_public_access(a["policy"], a["resource_type"], timeout_ms=timeout_ms, typed=q.typed)
    return can_be_allowed(a, timeout_ms=timeout_ms, typed=q.typed)


# ------------------------------------------------------------------ attacker

def _strings(obj) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for k, v in obj.items() for s in _strings(k) + _strings(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in _strings(v)]
    return []


def clauses(obj):
    """(operator, key, values) of every condition clause in a question."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == "Condition" and isinstance(v, dict):
                for op, body in v.items():
                    for key, values in body.items():
                        yield op, key, values if isinstance(values, list) else [values]
            else:
                yield from clauses(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from clauses(v)


class Attacker:
    """Concrete requests biased to one question's strings."""

    def __init__(self, rng: random.Random, q: Question):
        self.rng = rng
        self.q = q
        texts = _strings(q.args)
        self.pieces = sorted({p for t in texts for p in re.split(r"[*?]|\$\{[^}]*\}", t) if p}) + [
            ":", "/", "a", "x:y/z", "0", ""]
        self.values: dict[str, list] = {}
        for op, key, values in clauses(q.args):
            self.values.setdefault(key, []).extend(v for value in values for v in self._edges(op, value))

    def fill(self, pattern: str) -> str:
        """A string the pattern could match (or nearly): wildcards filled with
        the question's own pieces, ':' and '/'."""
        out = []
        for part in re.split(r"(\*|\?|\$\{[^}]*\})", pattern):
            if part == "*":
                out.append("".join(self.rng.choice(self.pieces) for _ in range(self.rng.choice([0, 1, 1, 2]))))
            elif part == "?":
                out.append(self.rng.choice(["a", ":", "/", "b"]))
            elif part.startswith("${"):
                out.append(self.rng.choice(["alice", "*", "a", ""]) if part != "${*}" else "*")
            else:
                out.append(part)
        return "".join(out)

    def _edges(self, op: str, value: str) -> list:
        base = op.split(":")[-1].replace("IfExists", "")
        out: list = [value]
        if base.startswith("Numeric"):
            try:
                d = Decimal(value)
                out += [str(d + e) for e in (1, -1, Decimal("0.000001"), Decimal("-0.000001"), Decimal("0.0000001"))]
            except Exception:
                pass
        elif base.startswith("Date"):
            m = re.fullmatch(r"(.*T\d\d:\d\d:\d\d)(\.\d+)?Z", value)
            if m:
                out += [m.group(1) + s + "Z" for s in (".000000", ".000001", ".000002", ".000003", ".999999")]
        elif base.endswith("IpAddress"):
            net = value.split("/")[0]
            out += [net, net.rsplit(".", 1)[0] + ".255" if "." in net else net + "1", "10.127.255.255",
                    "10.128.0.0", "198.51.100.10", "2001:db8::1", "::1", "192.0.2.1"]
        elif base.startswith("String") or base.startswith("Arn"):
            out += [value.upper(), value.lower(), value.swapcase(), value.casefold(), self.fill(value),
                    self.fill(value), "straße", "STRASSE", "fin", "FIN", "\U00010428X", "\U00010400X"]
        elif base == "Bool":
            out += ["true", "false"]
        return out

    def context(self, fixed: dict | None = None) -> dict:
        ctx = {}
        for key, values in self.values.items():
            if key.lower() in ("aws:principalarn", "aws:principalaccount", "aws:principaltype", "aws:username"):
                continue  # derived from the caller
            if self.rng.random() < 0.8:
                ctx[key] = self.rng.choice(values)
        ctx.update(fixed or {})
        return ctx

    def action(self, patterns: list[str] | None) -> str:
        source = patterns or [a for a in ACTIONS]
        for _ in range(20):
            candidate = self.fill(self.rng.choice(source))
            if re.fullmatch(r"[A-Za-z0-9_.\-]+:[A-Za-z0-9_.\-]+", candidate):
                return candidate
            expanded = CATALOGUE.expand(self.rng.choice(source)) if "*" in "".join(source) else []
            if expanded:
                return self.rng.choice(expanded)
        return "s3:GetObject"

    def resource(self, action: str, patterns: list[str] | None) -> str:
        source = [p for p in (patterns or RESOURCES) if p != "*"] or RESOURCES[1:]
        if self.q.typed:
            formats = [fmt for _, fmt, _ in CATALOGUE.resource_types_for(action)]
            if CATALOGUE.action(*action.split(":", 1)) is not None and not formats:
                return "*"
            for _ in range(20):
                candidate = self.fill(self.rng.choice(source))
                if not formats or any(typed_fit(fmt, candidate) for fmt in formats):
                    return candidate
            if formats:
                return self.fill(re.sub(r"\$\{[^}]*\}", "*", self.rng.choice(formats)).replace(
                    "arn:*:", "arn:aws:"))
        return self.fill(self.rng.choice(source))


def typed_fit(arn_format: str, resource: str) -> bool:
    """The promise's typed universe: the resource fits the format, each
    placeholder any non-empty text (Partition a partition, Region a region
    code, Account 12 digits)."""
    if "," in arn_format:  # the catalogue lists some types' formats in one string
        return any(typed_fit(one.strip(), resource) for one in arn_format.split(","))
    rx = ""
    for part in re.split(r"(\$\{[^}]*\})", arn_format):
        if part == "${Partition}":
            rx += "aws(-cn|-us-gov)?"
        elif part == "${Region}":
            rx += "[a-z0-9-]+"  # region codes: letters, digits and hyphens
        elif part == "${BucketName}":
            rx += "[a-z0-9.-]+"  # S3 User Guide, bucket naming rules
        elif part == "${Account}":
            rx += r"\d{12}"
        elif part.startswith("${"):
            rx += ".+"
        else:
            rx += re.escape(part)
    return re.fullmatch(rx, resource, re.DOTALL) is not None


def _in_typed_universe(action: str, resource: str, named: set[str]) -> bool:
    service, _, name = action.partition(":")
    if CATALOGUE.action(service, name) is None:
        # A name the catalogue does not list is in the universe, with any
        # resource, when the question spells it out (no wildcard).
        return action.lower() in named
    formats = [fmt for _, fmt, _ in CATALOGUE.resource_types_for(action)]
    if not formats:
        return resource == "*"
    return any(typed_fit(fmt, resource) for fmt in formats)


_ENGINES: dict[str, object] = {}


def _engine(policies: dict):
    """A compiled policy set, kept for the requests of one question."""
    key = json.dumps(policies, sort_keys=True)
    engine = _ENGINES.get(key)
    if engine is None:
        if len(_ENGINES) > 64:
            _ENGINES.clear()
        engine = _ENGINES[key] = iamlogic.compile(policies)
    return engine


def _decide(policies: dict, request: dict) -> bool | None:
    try:
        return _engine(policies).decide(request).decision == "allow"
    except iamlogic.IamlogicError:
        return None  # a request the kernel refuses to read is no counterexample


def _policy_allows(policy: dict, request: dict) -> bool | None:
    """What one policy allows, as the proofs' policy-to-policy questions
    mean it: some Allow statement matches the request and no Deny does — the
    kernel's own statement matcher (Engine.trace), not a whole decision (a
    KMS key or a role would also need its own resource policy)."""
    try:
        effects = {ref.statement.effect.value for ref in _engine({"identity": [policy]}).trace(request).matched}
    except iamlogic.IamlogicError:
        return None
    return "Allow" in effects and "Deny" not in effects


CALLERS_OWNER = [f"arn:aws:iam::{OWNER}:user/alice", f"arn:aws:sts::{OWNER}:assumed-role/app/s",
                 f"arn:aws:iam::{OWNER}:user/witness"]


def _identity_request(att: Attacker, q: Question, actions=None, resources=None) -> dict:
    action = att.action(actions)
    return {"principal": att.rng.choice(CALLERS_OWNER), "action": action,
            "resource": att.resource(action, resources), "resource_account": OWNER, "context": att.context()}


def _outsider_callers(att: Attacker, policy: dict) -> list:
    named = set(re.findall(r"\d{12}", json.dumps(policy)))
    accounts = [a for a in ("999999999999", "900000000001", "555566667777", "123456789012") if a not in named]
    out: list = [None]
    for account in accounts:
        out += [f"arn:aws:iam::{account}:user/mallory", f"arn:aws:sts::{account}:assumed-role/any/s",
                f"arn:aws:iam::{account}:role/any", f"arn:aws:iam::{account}:root",
                f"arn:aws:sts::{account}:federated-user/mallory"]
    return out


def attack(q: Question, samples: int, rng: random.Random) -> tuple[str | None, int]:
    """A request showing the PASS / PROVEN NEVER wrong, or None; and how many
    requests were decided."""
    att = Attacker(rng, q)
    a = q.args
    named = {t.lower() for t in _spelled_actions(a) if re.fullmatch(r"[A-Za-z0-9_.\-]+:[A-Za-z0-9_.\-]+", t)}
    tried = 0
    for _ in range(samples):
        if q.kind in ("no-new-access", "equivalent"):
            r = _identity_request(att, q)
            if q.typed and not _in_typed_universe(r["action"], r["resource"], named):
                continue
            tried += 1
            new, old = _policy_allows(a["new"], r), _policy_allows(a["old"], r)
            if new and old is False:
                return f"new allows what old does not: {r}", tried
            if q.kind == "equivalent" and old and new is False:
                return f"old allows what new does not: {r}", tried
        elif q.kind == "access-not-granted":
            r = _identity_request(att, q, a["actions"], a["resources"])
            if a["actions"] and not any(_glob(p, r["action"], True) for p in a["actions"]):
                continue
            if a["resources"] and not any(_glob(p, r["resource"], False) for p in a["resources"]):
                continue
            if q.typed and not _in_typed_universe(r["action"], r["resource"], named):
                continue
            tried += 1
            if _policy_allows(a["policy"], r):
                return f"the policy grants {r}", tried
        elif q.kind == "public-access":
            tried += 1
            if a["resource_type"] == "AWS::IAM::AssumeRolePolicyDocument":
                r = {"principal": f"arn:aws:iam::{OWNER}:oidc-provider/{GITHUB}",
                     "action": "sts:AssumeRoleWithWebIdentity", "resource": f"arn:aws:iam::{OWNER}:role/deploy",
                     "resource_account": OWNER,
                     "context": {f"{GITHUB}:aud": "sts.amazonaws.com",
                                 f"{GITHUB}:sub": rng.choice(["repo:mallory/x:ref:refs/heads/main",
                                                              "repo:owner/app:ref:refs/heads/main"])}}
                if r["context"][f"{GITHUB}:sub"].startswith("repo:owner/app"):
                    continue  # the owner's own repository is no outsider
            else:
                action = att.action(["s3:GetObject", "s3:ListBucket", "s3:PutObject", "s3:Get*"])
                r = {"principal": rng.choice(_outsider_callers(att, a["policy"])), "action": action,
                     "resource": rng.choice(["arn:aws:s3:::b", "arn:aws:s3:::b/x", "arn:aws:s3:::b/p1"]),
                     "resource_account": OWNER, "context": att.context()}
                if q.typed and not _in_typed_universe(action, r["resource"], named):
                    continue
                org = r["context"].get("aws:PrincipalOrgID")
                if _owners_address(str(r["context"].get("aws:SourceIp", "")), a["policy"]):
                    continue
                vpce = r["context"].get("aws:SourceVpce")
                if str(org).lower() == ORG.lower() or str(vpce).lower() == "vpce-0123456789abcdef0":
                    continue  # the owner's org and endpoint are not the outsider's to choose
            allow_all = {"Version": V2012, "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
            if _decide({"identity": [allow_all], "resource": a["policy"]}, r):
                return f"an outsider is allowed: {r}", tried
        else:
            req = a["request"]
            principal = req["principal"] if "principal" in req else rng.choice(
                [f"arn:aws:iam::{OWNER}:root", f"arn:aws:iam::{OWNER}:user/alice",
                 f"arn:aws:sts::{OWNER}:assumed-role/app/s", f"arn:aws:iam::{OWNER}:role/app",
                 f"arn:aws:sts::{OWNER}:assumed-role/AWSServiceRoleForSupport/s",
                 f"arn:aws:iam::{OWNER}:role/aws-service-role/support.amazonaws.com/AWSServiceRoleForSupport",
                 f"arn:aws:iam::{OTHER}:user/bob", None])
            action = att.action([req["action"]] if "action" in req else None)
            if "action" in req and not _glob(req["action"], action, True):
                continue
            resource = att.resource(action, [req["resource"]] if "resource" in req else None)
            if "resource" in req and not _glob(req["resource"], resource, False):
                continue
            if q.typed and not _in_typed_universe(action, resource, named):
                continue
            tried += 1
            r = {"principal": principal, "action": action, "resource": resource, "resource_account": OWNER,
                 "context": att.context(req.get("context"))}
            if _decide(a["policies"], r):
                return f"the policy set allows {r}", tried
    return None, tried


def _spelled_actions(obj) -> list[str]:
    """The action strings a question spells out: its policies' Action and
    NotAction entries and the actions it asks about (not condition keys,
    which look alike)."""
    if isinstance(obj, dict):
        out = []
        for k, v in obj.items():
            if k in ("Action", "NotAction", "actions", "action"):
                out += _strings(v)
            elif k != "Condition":
                out += _spelled_actions(v)
        return out
    if isinstance(obj, list):
        return [s for v in obj for s in _spelled_actions(v)]
    return []


def _owners_address(value: str, policy: dict) -> bool:
    """Whether an address is not the outsider's to use: a network, which no
    request carries (a request comes from one address), or inside a network
    the policy gives on aws:SourceIp no wider than a /8 (IPv4) or a /32
    (IPv6) — the README's reading of whose network that is."""
    import ipaddress

    if "/" in value:
        return True
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    for text in _strings([v for op, key, vals in clauses(policy) if key.lower() == "aws:sourceip"
                          for v in vals]):
        try:
            net = ipaddress.ip_network(text, strict=False)
        except ValueError:
            continue
        if net.version == address.version and net.prefixlen >= (8 if net.version == 4 else 32) and address in net:
            return True
    return False


def _glob(pattern: str, text: str, fold: bool) -> bool:
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(rx, text, (re.IGNORECASE if fold else 0) | re.DOTALL) is not None


def _witness_confirmed(q: Question, check) -> str | None:
    """A FAIL's witness, decided again by the kernel: None when it holds."""
    w = check.witness or (check.witnesses[0] if check.witnesses else None)
    if w is None:
        return "FAIL without a witness"
    a = q.args
    if q.kind in ("no-new-access", "equivalent"):
        pair = [(a["new"], a["old"])] + ([(a["old"], a["new"])] if q.kind == "equivalent" else [])
        if not any(_policy_allows(x, w) and _policy_allows(y, w) is False for x, y in pair):
            return f"the kernel does not confirm the witness {w}"
    elif q.kind == "access-not-granted":
        if not _policy_allows(a["policy"], w):
            return f"the kernel does not confirm the witness {w}"
    return None  # public-access and can-be-allowed replay against their own engine already


def run(questions: int, samples: int, seed: int, timeout_ms: int = 20_000, progress=None) -> Tally:
    rng = random.Random(seed)
    tally = Tally()
    started = time.perf_counter()
    for i in range(questions):
        q = make_question(rng)
        try:
            check = ask(q, timeout_ms)
        except iamlogic.IamlogicError as e:  # a question the API refuses, with its reason: not an answer
            tally.add(q, "refused", None)
            q.note = str(e)
            continue
        except Exception as e:  # noqa: BLE001 - any other exception is a defect the harness reports
            tally.add(q, "exception", f"{type(e).__name__}: {e}")
            continue
        problem = None
        if check.result == "PASS":
            problem, tried = attack(q, samples, random.Random(rng.random()))
            tally.requests += tried
        elif check.result == "FAIL":
            problem = _witness_confirmed(q, check)
        elif "internal error" in (check.note or ""):
            problem = f"UNKNOWN from an internal error: {check.note}"
        tally.add(q, check.result, problem)
        if progress and (i + 1) % progress == 0:
            print(f"  {i + 1} questions, {len(tally.wrong)} wrong", file=sys.stderr, flush=True)
    tally.seconds = time.perf_counter() - started
    return tally


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=5_000)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    tally = run(args.questions, args.samples, args.seed, progress=250)
    print(f"soundness: {args.questions} questions, seed {args.seed}, {tally.requests} attacking requests, "
          f"{tally.seconds:.0f} s")
    for (kind, mode, result), n in sorted(tally.counts.items()):
        print(f"  {kind:20} {mode:8} {result:9} {n}")
    print(f"wrong answers: {len(tally.wrong)}")
    for w in tally.wrong:
        print(json.dumps(w, ensure_ascii=False))
    return 1 if tally.wrong else 0


if __name__ == "__main__":
    sys.exit(main())
