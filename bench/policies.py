"""Generated policies for the benchmarks: realistic shapes (several services,
wildcards, NotAction, NotResource, policy variables, conditions of several
operator families), deterministic for a given seed."""

from __future__ import annotations

import json
import random

SERVICES = {
    "s3": ["GetObject", "PutObject", "DeleteObject", "ListBucket", "GetBucketPolicy", "Get*", "List*", "Put*"],
    "ec2": ["StartInstances", "StopInstances", "DescribeInstances", "Describe*", "RunInstances", "TerminateInstances"],
    "iam": ["GetRole", "PassRole", "ListRoles", "CreateUser", "Get*", "List*", "TagRole"],
    "kms": ["Decrypt", "Encrypt", "GenerateDataKey*", "DescribeKey", "CreateGrant"],
    "dynamodb": ["GetItem", "PutItem", "Query", "Scan", "BatchGet*", "UpdateItem"],
    "sqs": ["SendMessage", "ReceiveMessage", "DeleteMessage", "GetQueueAttributes"],
    "lambda": ["InvokeFunction", "GetFunction", "UpdateFunctionCode", "List*"],
    "logs": ["CreateLogGroup", "CreateLogStream", "PutLogEvents", "Describe*"],
}
ARN_FORMS = {
    "s3": ["arn:aws:s3:::{name}", "arn:aws:s3:::{name}/*", "arn:aws:s3:::{name}/home/${{aws:username}}/*"],
    "ec2": ["arn:aws:ec2:{region}:{account}:instance/*", "arn:aws:ec2:{region}:{account}:volume/vol-{n:08x}"],
    "iam": ["arn:aws:iam::{account}:role/{name}", "arn:aws:iam::{account}:user/${{aws:username}}"],
    "kms": ["arn:aws:kms:{region}:{account}:key/{n:08x}-1234-5678-9abc-def012345678"],
    "dynamodb": ["arn:aws:dynamodb:{region}:{account}:table/{name}", "arn:aws:dynamodb:{region}:{account}:table/{name}/index/*"],
    "sqs": ["arn:aws:sqs:{region}:{account}:{name}"],
    "lambda": ["arn:aws:lambda:{region}:{account}:function:{name}", "arn:aws:lambda:{region}:{account}:function:{name}:*"],
    "logs": ["arn:aws:logs:{region}:{account}:log-group:/aws/{name}:*"],
}
CONDITIONS = [
    lambda rnd: {"IpAddress": {"aws:SourceIp": [f"203.0.{rnd.randrange(256)}.0/24", "198.51.100.7"]}},
    lambda rnd: {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
    lambda rnd: {"StringEquals": {"aws:PrincipalTag/team": rnd.choice(["red", "blue", "data"])}},
    lambda rnd: {"StringLike": {"s3:prefix": ["home/${aws:username}/*", "public/*"]}},
    lambda rnd: {"DateGreaterThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"}},
    lambda rnd: {"NumericLessThan": {"aws:MultiFactorAuthAge": str(rnd.choice([300, 3600, 86400]))}},
    lambda rnd: {"ForAnyValue:StringEquals": {"aws:TagKeys": ["owner", "cost-center"]}},
    lambda rnd: {"ArnLike": {"aws:SourceArn": f"arn:aws:sns:*:{rnd.randrange(10**11, 10**12):012d}:*"}},
    lambda rnd: {"StringEqualsIfExists": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}},
    lambda rnd: {"Null": {"aws:ResourceTag/owner": "false"}},
]
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2", "*"]


def statement(rnd: random.Random, index: int) -> dict:
    service = rnd.choice(list(SERVICES))
    st: dict = {"Sid": f"Stmt{index}", "Effect": "Deny" if rnd.random() < 0.15 else "Allow"}
    actions = [f"{service}:{a}" for a in rnd.sample(SERVICES[service], k=rnd.randint(1, 4))]
    st["NotAction" if rnd.random() < 0.05 else "Action"] = actions if len(actions) > 1 else actions[0]
    resources = [
        rnd.choice(ARN_FORMS[service]).format(
            name=f"{service}-{rnd.randrange(1000)}", region=rnd.choice(REGIONS),
            account=f"{rnd.randrange(10**11, 10**12):012d}", n=rnd.randrange(16**8))
        for _ in range(rnd.randint(1, 4))
    ]
    st["NotResource" if rnd.random() < 0.05 else "Resource"] = resources
    if rnd.random() < 0.5:
        condition: dict = {}
        for make in rnd.sample(CONDITIONS, k=rnd.randint(1, 2)):
            condition.update(make(rnd))
        st["Condition"] = condition
    return st


def policy_text(rnd: random.Random, target_chars: int = 5000) -> str:
    statements: list[dict] = []
    text = ""
    while len(text) < target_chars:
        statements.append(statement(rnd, len(statements)))
        text = json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=2)
    return text


def corpus(count: int = 1000, seed: int = 7, target_chars: int = 5000) -> list[str]:
    rnd = random.Random(seed)
    return [policy_text(rnd, target_chars) for _ in range(count)]
