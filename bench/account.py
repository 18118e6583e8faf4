"""A generated account for the kernel benchmarks: identity policies of 5–20
statements, a permissions boundary, two SCP levels and a bucket policy, with
wildcards, NotAction, ${aws:username} and ten condition operators; and
requests against it. Deterministic for a seed; the identity policies are
generated until the whole set has ``statements`` statements (557, and the
10x variant 6,460)."""

from __future__ import annotations

import random

ACCOUNT = "111122223333"
SERVICES = {
    "s3": ["GetObject", "PutObject", "DeleteObject", "ListBucket", "GetBucketPolicy", "PutBucketTagging"],
    "ec2": ["StartInstances", "StopInstances", "DescribeInstances", "RunInstances", "TerminateInstances"],
    "iam": ["GetRole", "PassRole", "ListRoles", "CreateUser", "TagRole"],
    "kms": ["Decrypt", "Encrypt", "GenerateDataKey", "DescribeKey"],
    "dynamodb": ["GetItem", "PutItem", "Query", "Scan", "UpdateItem"],
    "sqs": ["SendMessage", "ReceiveMessage", "DeleteMessage"],
    "lambda": ["InvokeFunction", "GetFunction", "UpdateFunctionCode"],
    "logs": ["CreateLogStream", "PutLogEvents", "DescribeLogGroups"],
}
RESOURCES = {
    "s3": ["arn:aws:s3:::data-{n}/*", "arn:aws:s3:::data-{n}/home/${{aws:username}}/*", "arn:aws:s3:::data-{n}"],
    "ec2": ["arn:aws:ec2:*:{acct}:instance/*", "arn:aws:ec2:us-*-1:{acct}:instance/i-{n:04d}*"],
    "iam": ["arn:aws:iam::{acct}:role/app-{n}", "arn:aws:iam::{acct}:user/${{aws:username}}"],
    "kms": ["arn:aws:kms:us-east-1:{acct}:key/k-{n}"],
    "dynamodb": ["arn:aws:dynamodb:us-east-1:{acct}:table/t-{n}", "arn:aws:dynamodb:*:{acct}:table/t-{n}/index/*"],
    "sqs": ["arn:aws:sqs:us-east-1:{acct}:q-{n}"],
    "lambda": ["arn:aws:lambda:us-east-1:{acct}:function:f-{n}", "arn:aws:lambda:us-east-1:{acct}:function:f-{n}:*"],
    "logs": ["arn:aws:logs:us-east-1:{acct}:log-group:/app/{n}:*"],
}
CONDITIONS = [
    {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]}},
    {"NotIpAddress": {"aws:SourceIp": "198.51.100.0/24"}},
    {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
    {"StringEquals": {"aws:PrincipalTag/team": ["red", "blue"]}},
    {"StringLike": {"s3:prefix": ["home/${aws:username}/*"]}},
    {"StringNotEquals": {"aws:RequestedRegion": ["ap-south-1"]}},
    {"DateGreaterThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"}},
    {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}},
    {"ForAnyValue:StringEquals": {"aws:TagKeys": ["owner", "cost-center"]}},
    {"ArnLike": {"aws:SourceArn": f"arn:aws:sns:*:{ACCOUNT}:*"}},
    {"StringEqualsIfExists": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}},
    {"Null": {"aws:TokenIssueTime": "true"}},
]


def _resource(rnd: random.Random, service: str) -> str:
    return rnd.choice(RESOURCES[service]).format(n=rnd.randrange(40), acct=ACCOUNT)


def _statement(rnd: random.Random, i: int, condition_share: float) -> dict:
    service = rnd.choice(list(SERVICES))
    st: dict = {"Sid": f"S{i}", "Effect": "Deny" if rnd.random() < 0.08 else "Allow"}
    names = rnd.sample(SERVICES[service], k=rnd.randint(1, 3))
    actions = [f"{service}:{n}" for n in names]
    if rnd.random() < 0.2:
        actions[0] = f"{service}:{names[0][:3]}*"
    if rnd.random() < 0.04:
        st["NotAction"] = actions
    else:
        st["Action"] = actions
    st["Resource"] = [_resource(rnd, service) for _ in range(rnd.randint(1, 3))]
    if rnd.random() < condition_share:
        st["Condition"] = rnd.choice(CONDITIONS)
    return st


def policies(statements: int = 557, seed: int = 1, condition_share: float = 0.3) -> dict:
    """The scenario ``policies`` object of the generated account."""
    rnd = random.Random(seed)
    identity = []
    left = statements - 7  # boundary 2 + SCPs 3 + bucket policy 2
    while left > 0:
        n = min(left, rnd.randint(5, 20))
        identity.append({"Version": "2012-10-17", "Statement": [_statement(rnd, i, condition_share) for i in range(n)]})
        left -= n
    boundary = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Services", "Effect": "Allow", "Action": [f"{s}:*" for s in SERVICES if s != "iam"] + ["iam:Get*", "iam:List*", "iam:PassRole"], "Resource": "*"},
        {"Sid": "NoBoundaryChange", "Effect": "Deny", "Action": ["iam:DeleteRolePermissionsBoundary", "iam:PutRolePermissionsBoundary"], "Resource": "*"},
    ]}
    scps = [
        [{"Version": "2012-10-17", "Statement": {"Sid": "FullAWSAccess", "Effect": "Allow", "Action": "*", "Resource": "*"}}],
        [{"Version": "2012-10-17", "Statement": [
            {"Sid": "Allowed", "Effect": "Allow", "NotAction": ["organizations:*", "account:*"], "Resource": "*"},
            {"Sid": "Regions", "Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "Resource": "*",
             "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}}}]}],
    ]
    bucket = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:role/partner"}, "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": ["arn:aws:s3:::data-1", "arn:aws:s3:::data-1/*"]},
        {"Sid": "Tls", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": ["arn:aws:s3:::data-1", "arn:aws:s3:::data-1/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    ]}
    return {"identity": identity, "boundary": [boundary], "scps": scps, "resource": bucket}


def statement_count(p: dict) -> int:
    def n(policy):
        s = policy["Statement"]
        return len(s) if isinstance(s, list) else 1
    return (sum(map(n, p["identity"])) + sum(map(n, p["boundary"])) + sum(n(x) for level in p["scps"] for x in level)
            + n(p["resource"]))


PRINCIPALS = [f"arn:aws:iam::{ACCOUNT}:user/user{i}" for i in range(5)] + \
             [f"arn:aws:sts::{ACCOUNT}:assumed-role/role{i}/session" for i in range(5)] + \
             ["arn:aws:sts::444455556666:assumed-role/partner/nightly"]


# A resource of the right type for each action (as AWS's service
# authorization reference gives them), so that every request is well-formed.
REQUEST_RESOURCES = {
    "s3:GetObject": "arn:aws:s3:::data-{n}/{key}", "s3:PutObject": "arn:aws:s3:::data-{n}/{key}",
    "s3:DeleteObject": "arn:aws:s3:::data-{n}/{key}", "s3:ListBucket": "arn:aws:s3:::data-{n}",
    "s3:GetBucketPolicy": "arn:aws:s3:::data-{n}", "s3:PutBucketTagging": "arn:aws:s3:::data-{n}",
    "ec2:StartInstances": "arn:aws:ec2:us-east-1:{acct}:instance/i-{n:04d}a",
    "ec2:StopInstances": "arn:aws:ec2:us-east-1:{acct}:instance/i-{n:04d}a",
    "ec2:DescribeInstances": "*", "ec2:RunInstances": "arn:aws:ec2:us-east-1:{acct}:instance/*",
    "ec2:TerminateInstances": "arn:aws:ec2:us-east-1:{acct}:instance/i-{n:04d}b",
    "iam:GetRole": "arn:aws:iam::{acct}:role/app-{n}", "iam:PassRole": "arn:aws:iam::{acct}:role/app-{n}",
    "iam:ListRoles": "*", "iam:CreateUser": "arn:aws:iam::{acct}:user/{user}", "iam:TagRole": "arn:aws:iam::{acct}:role/app-{n}",
    "kms:Decrypt": "arn:aws:kms:us-east-1:{acct}:key/k-{n}", "kms:Encrypt": "arn:aws:kms:us-east-1:{acct}:key/k-{n}",
    "kms:GenerateDataKey": "arn:aws:kms:us-east-1:{acct}:key/k-{n}", "kms:DescribeKey": "arn:aws:kms:us-east-1:{acct}:key/k-{n}",
    "dynamodb:GetItem": "arn:aws:dynamodb:us-east-1:{acct}:table/t-{n}", "dynamodb:PutItem": "arn:aws:dynamodb:us-east-1:{acct}:table/t-{n}",
    "dynamodb:Query": "arn:aws:dynamodb:us-east-1:{acct}:table/t-{n}/index/by-date", "dynamodb:Scan": "arn:aws:dynamodb:us-east-1:{acct}:table/t-{n}",
    "dynamodb:UpdateItem": "arn:aws:dynamodb:us-east-1:{acct}:table/t-{n}",
    "sqs:SendMessage": "arn:aws:sqs:us-east-1:{acct}:q-{n}", "sqs:ReceiveMessage": "arn:aws:sqs:us-east-1:{acct}:q-{n}",
    "sqs:DeleteMessage": "arn:aws:sqs:us-east-1:{acct}:q-{n}",
    "lambda:InvokeFunction": "arn:aws:lambda:us-east-1:{acct}:function:f-{n}", "lambda:GetFunction": "arn:aws:lambda:us-east-1:{acct}:function:f-{n}",
    "lambda:UpdateFunctionCode": "arn:aws:lambda:us-east-1:{acct}:function:f-{n}",
    "logs:CreateLogStream": "arn:aws:logs:us-east-1:{acct}:log-group:/app/{n}:log-stream:s1",
    "logs:PutLogEvents": "arn:aws:logs:us-east-1:{acct}:log-group:/app/{n}:log-stream:s1",
    "logs:DescribeLogGroups": "arn:aws:logs:us-east-1:{acct}:log-group:*",
}


def requests(count: int, seed: int = 2) -> list[dict]:
    rnd = random.Random(seed)
    out = []
    for _ in range(count):
        service = rnd.choice(list(SERVICES))
        action = f"{service}:{rnd.choice(SERVICES[service])}"
        principal = rnd.choice(PRINCIPALS)
        user = f"user{rnd.randrange(5)}"
        key = rnd.choice([f"home/{user}/notes.txt", "reports/q3.csv", "x1"])
        resource = REQUEST_RESOURCES[action].format(n=rnd.randrange(40), acct=ACCOUNT, key=key, user=user)
        context = {"aws:SourceIp": rnd.choice(["203.0.113.9", "198.51.100.4", "2001:db8::9"]),
                   "aws:RequestedRegion": rnd.choice(["us-east-1", "eu-west-1", "ap-south-1"]),
                   "aws:MultiFactorAuthPresent": rnd.choice([True, False]),
                   "aws:SecureTransport": True}
        if rnd.random() < 0.5:
            context["aws:PrincipalTag/team"] = rnd.choice(["red", "green"])
        out.append({"principal": principal, "action": action, "resource": resource,
                    "resource_account": ACCOUNT, "context": context})
    return out
