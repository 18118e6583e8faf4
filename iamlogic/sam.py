"""The policies of a SAM template's functions and state machines
(``Transform: AWS::Serverless-2016-10-31``), read as cfn.py reads a
template's: ``Policies`` — one entry or a list — holds inline policy
documents and statements (identity policies of the role SAM creates),
managed policy names or ARNs, and SAM policy templates (``S3ReadPolicy:
{BucketName: ...}``); a function's ``AssumeRolePolicyDocument`` is that
role's trust policy. What SAM expands from elsewhere (a managed policy, a
policy template) is not read: each is a policy named by what it is, with
the problem POLICY_NOT_READ — a WARNING in validate, UNKNOWN in a proof
unless both versions name the very same one — never silence."""

from __future__ import annotations

import json

from .sources import NamedPolicy
from .translator.model import PolicyType

SAM_TYPES = frozenset({"AWS::Serverless::Function", "AWS::Serverless::StateMachine"})
NOT_READ = "POLICY_NOT_READ"


def sam_policies(resolver, file: str, logical_id: str, resource: dict) -> list[NamedPolicy]:
    from .cfn import unread_policy

    properties = resource.get("Properties") if isinstance(resource.get("Properties"), dict) else {}
    base = ("Resources", logical_id, "Properties")
    out = []
    if resource.get("Type") == "AWS::Serverless::Function" and "AssumeRolePolicyDocument" in properties:
        shown = f"{logical_id}.AssumeRolePolicyDocument"
        found = resolver.variants(file, shown, shown, PolicyType.TRUST, properties["AssumeRolePolicyDocument"],
                                  base + ("AssumeRolePolicyDocument",))
        for p in [found, *found.variants]:
            p.resource_type = "AWS::IAM::AssumeRolePolicyDocument"
        out.append(found)
    entries = properties.get("Policies")
    if entries is None:
        return out
    listed = isinstance(entries, list)
    inline = 0  # inline documents are paired between versions by their order among themselves
    for i, entry in enumerate(entries if listed else [entries]):
        at = base + (("Policies", i) if listed else ("Policies",))
        place = f"{logical_id}.Policies" + (f"[{i}]" if listed else "")
        key = f"{logical_id}.Policies (inline {inline})"
        if isinstance(entry, dict) and "Statement" in entry:
            inline += 1
            out.append(resolver.variants(file, place, key, PolicyType.IDENTITY, entry, at))
            continue
        if isinstance(entry, dict) and "Effect" in entry:  # one statement: the policy that holds it alone
            inline += 1
            found = resolver.variants(file, place, key, PolicyType.IDENTITY, entry, at)
            for p in [found, *found.variants]:
                if p.problem is None:
                    p.document = {"Version": "2012-10-17", "Statement": [p.document]}
                    p.places = {(): at, ("Statement",): at, **{("Statement", 0, *k): v for k, v in p.places.items()}}
            out.append(found)
            continue
        what = _named(resolver, entry, at)
        out.append(unread_policy(file, f"{place} ({what})", at, PolicyType.IDENTITY,
                                 f"{what} is not read: SAM expands it from outside the template, so what it "
                                 f"grants is not known here ({json.dumps(entry, sort_keys=True, default=str)})",
                                 key=f"{logical_id}.Policies {what}", code=NOT_READ))
    return out


def _named(resolver, entry, at) -> str:
    """What a Policies entry that is not a document names."""
    if isinstance(entry, str):
        return f"the managed policy {entry}"
    if isinstance(entry, dict) and len(entry) == 1:
        (name, _), = entry.items()
        if not name.startswith("Fn::") and name not in ("Ref", "Condition"):
            return f"the SAM policy template {name}"
        from .cfn import Unresolved

        try:
            resolved = resolver.scalar(entry, at, set(), "a Policies entry")
        except Unresolved:  # the entry stays named by its text
            return f"the managed policy {json.dumps(entry, default=str)}"
        return f"the managed policy {resolved}"
    return f"an entry of Policies ({type(entry).__name__})"
