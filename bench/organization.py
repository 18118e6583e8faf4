"""A generated organization for the accounts benchmarks: ``accounts``
member accounts under a few OUs, ``roles`` roles and ``managed`` customer
managed policies spread over them, users in groups, boundaries on some
principals, trust policies that name roles of other accounts, whole accounts
or AWS services, SCPs and RCPs, and bucket policies. Deterministic for a
seed; written as an account-data folder (accounts/inventory.py's layout)."""

from __future__ import annotations

import json
import random
from pathlib import Path

V = "2012-10-17"
SERVICES = ["s3", "ec2", "lambda", "dynamodb", "sqs", "kms", "logs", "cloudwatch"]


def _doc(*statements) -> dict:
    return {"Version": V, "Statement": list(statements)}


def _account(i: int) -> str:
    return f"{100000000000 + i:012d}"


def generate(folder: Path, accounts: int = 50, roles: int = 10_000, managed: int = 2_000, seed: int = 7) -> dict:
    """Write the folder; return the counts and a few names the benchmark asks about."""
    rnd = random.Random(seed)
    folder = Path(folder)
    (folder / "authorization").mkdir(parents=True, exist_ok=True)
    (folder / "resources").mkdir(exist_ok=True)
    ids = [_account(i) for i in range(accounts)]
    role_names = {a: [] for a in ids}
    for r in range(roles):
        role_names[ids[r % accounts]].append(f"role-{r}")
    # Customer managed policies, per account.
    policies = {a: [] for a in ids}
    for m in range(managed):
        a = ids[m % accounts]
        service = rnd.choice(SERVICES)
        statements = [{"Effect": "Allow", "Action": [f"{service}:{rnd.choice(['Get', 'List', 'Put', 'Describe'])}*"],
                       "Resource": f"arn:aws:{service}:*:{a}:*" if service != "s3" else f"arn:aws:s3:::bucket-{rnd.randrange(100)}/*"}]
        if rnd.random() < 0.3:
            target = rnd.choice(ids)
            statements.append({"Effect": "Allow", "Action": "sts:AssumeRole",
                               "Resource": f"arn:aws:iam::{target}:role/{rnd.choice(role_names[target])}"})
        if rnd.random() < 0.1:
            statements.append({"Effect": "Deny", "Action": f"{service}:Delete*", "Resource": "*"})
        policies[a].append({"PolicyName": f"policy-{m}", "Arn": f"arn:aws:iam::{a}:policy/policy-{m}",
                            "DefaultVersionId": "v1",
                            "PolicyVersionList": [{"Document": _doc(*statements), "VersionId": "v1",
                                                   "IsDefaultVersion": True}]})
    boundary = _doc({"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"})
    for a in ids:
        policies[a].append({"PolicyName": "Boundary", "Arn": f"arn:aws:iam::{a}:policy/Boundary",
                            "DefaultVersionId": "v1", "PolicyVersionList": [
                                {"Document": boundary, "VersionId": "v1", "IsDefaultVersion": True}]})
        policies[a].append({"PolicyName": "AdministratorAccess", "Arn": "arn:aws:iam::aws:policy/AdministratorAccess",
                            "DefaultVersionId": "v1", "PolicyVersionList": [
                                {"Document": _doc({"Effect": "Allow", "Action": "*", "Resource": "*"}),
                                 "VersionId": "v1", "IsDefaultVersion": True}]})
    for a in ids:
        local = [p["Arn"] for p in policies[a] if ":policy/policy-" in p["Arn"]]
        role_list = []
        for name in role_names[a]:
            kind = rnd.random()
            if kind < 0.4:
                trusted = {"Service": rnd.choice(["ec2.amazonaws.com", "lambda.amazonaws.com"])}
            elif kind < 0.7:
                trusted = {"AWS": rnd.choice(ids)}  # an account: its principals with an identity Allow
            else:
                other = rnd.choice(ids)
                trusted = {"AWS": f"arn:aws:iam::{other}:role/{rnd.choice(role_names[other])}"}
            attached = rnd.sample(local, k=min(len(local), rnd.randint(1, 3)))
            if rnd.random() < 0.01:
                attached.append("arn:aws:iam::aws:policy/AdministratorAccess")
            role = {"Path": "/", "RoleName": name, "Arn": f"arn:aws:iam::{a}:role/{name}",
                    "AssumeRolePolicyDocument": _doc({"Effect": "Allow", "Principal": trusted,
                                                      "Action": "sts:AssumeRole"}),
                    "RolePolicyList": [], "Tags": [{"Key": "team", "Value": rnd.choice(["red", "blue"])}],
                    "AttachedManagedPolicies": [{"PolicyName": x.rsplit("/", 1)[1], "PolicyArn": x} for x in attached]}
            if rnd.random() < 0.2:
                role["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy",
                                               "PermissionsBoundaryArn": f"arn:aws:iam::{a}:policy/Boundary"}
            role_list.append(role)
        groups = [{"GroupName": "devs", "Arn": f"arn:aws:iam::{a}:group/devs",
                   "GroupPolicyList": [], "AttachedManagedPolicies": [
                       {"PolicyName": x.rsplit("/", 1)[1], "PolicyArn": x} for x in local[:2]]}]
        users = [{"UserName": f"user-{u}", "Arn": f"arn:aws:iam::{a}:user/user-{u}", "GroupList": ["devs"],
                  "UserPolicyList": [{"PolicyName": "hop", "PolicyDocument": _doc(
                      {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": f"arn:aws:iam::{a}:role/*"})}],
                  "AttachedManagedPolicies": [], "Tags": []} for u in range(4)]
        (folder / "authorization" / f"{a}.json").write_text(json.dumps(
            {"UserDetailList": users, "GroupDetailList": groups, "RoleDetailList": role_list,
             "Policies": policies[a]}))
    full = _doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
    rcp_full = _doc({"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"})
    ous = [{"ou": f"ou-{k}", "name": f"ou-{k}", "scps": ["FullAWSAccess"] + (["NoLeave"] if k % 2 else []),
            "rcps": ["RCPFullAWSAccess"],
            "children": [{"account": a, "name": a, "scps": ["FullAWSAccess"], "rcps": ["RCPFullAWSAccess"]}
                         for a in ids[k::5]]} for k in range(5)]
    org = {"id": "o-bench", "management_account": "999999999999",
           "scps": {"FullAWSAccess": full, "NoLeave": _doc({"Effect": "Deny", "Action": "organizations:LeaveOrganization",
                                                            "Resource": "*"})},
           "rcps": {"RCPFullAWSAccess": rcp_full},
           "root": {"id": "r-bench", "name": "Root", "scps": ["FullAWSAccess"], "rcps": ["RCPFullAWSAccess"],
                    "children": ous}}
    (folder / "organization.json").write_text(json.dumps(org))
    buckets = [{"arn": f"arn:aws:s3:::bucket-{b}", "account": ids[b % accounts], "policy": _doc(
        {"Effect": "Allow", "Principal": {"AWS": rnd.choice(ids)}, "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::bucket-{b}/*"})} for b in range(100)]
    (folder / "resources" / "buckets.json").write_text(json.dumps(buckets))
    return {"accounts": accounts, "roles": roles, "managed": managed, "bucket": "arn:aws:s3:::bucket-7/data.csv",
            "user": f"arn:aws:iam::{ids[0]}:user/user-0"}
