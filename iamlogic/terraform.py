"""Terraform plans (``terraform show -json PLAN``) as the policies they make.

Each resource change that leaves a resource behind (``change.after``) is
read, with ``change.after_unknown`` saying which values are known only after
apply: such a policy is reported as unknown until apply, never guessed; the
resources of ``planned_values`` are read where the plan has no
resource_changes (``terraform show -json`` of a state), and the
aws_iam_policy_document data sources read at plan time from
``prior_state``. The key pairing two versions is the resource address and
the attribute.
"""

from __future__ import annotations

from .grammar.source import JsonPath
from .sources import NamedPolicy, document_value
from .translator.model import PolicyType

# Resource type → (attribute, policy type) for each policy it holds;
# "inline_policy.*.policy": each block's.
POLICY_ATTRIBUTES: dict[str, tuple[tuple[str, PolicyType | None], ...]] = {
    "aws_iam_policy": (("policy", PolicyType.IDENTITY),),
    "aws_iam_role": (("assume_role_policy", PolicyType.TRUST), ("inline_policy.*.policy", PolicyType.IDENTITY)),
    "aws_iam_role_policy": (("policy", PolicyType.IDENTITY),),
    "aws_iam_user_policy": (("policy", PolicyType.IDENTITY),),
    "aws_iam_group_policy": (("policy", PolicyType.IDENTITY),),
    "aws_s3_bucket_policy": (("policy", PolicyType.RESOURCE),),
    "aws_s3_bucket": (("policy", PolicyType.RESOURCE),),
    "aws_kms_key": (("policy", PolicyType.RESOURCE),),
    "aws_sqs_queue_policy": (("policy", PolicyType.RESOURCE),),
    "aws_sqs_queue": (("policy", PolicyType.RESOURCE),),
    "aws_sns_topic_policy": (("policy", PolicyType.RESOURCE),),
    "aws_sns_topic": (("policy", PolicyType.RESOURCE),),
    "aws_ecr_repository_policy": (("policy", PolicyType.RESOURCE),),
    "aws_secretsmanager_secret_policy": (("policy", PolicyType.RESOURCE),),
    "aws_organizations_policy": (("content", None),),  # its type says which
    "aws_iam_policy_document": (("json", None),),  # a data source: Principal or not says which
    "aws_kms_key_policy": (("policy", PolicyType.RESOURCE),),
    "aws_s3_access_point_policy": (("policy", PolicyType.RESOURCE),),
    "aws_cloudwatch_log_resource_policy": (("policy_document", PolicyType.RESOURCE),),
    "aws_iam_role_policy_attachment": ((None, PolicyType.IDENTITY),),   # grants, not documents: named
    "aws_iam_user_policy_attachment": ((None, PolicyType.IDENTITY),),
    "aws_iam_group_policy_attachment": ((None, PolicyType.IDENTITY),),
    "aws_iam_policy_attachment": ((None, PolicyType.IDENTITY),),
    "aws_iam_role_policy_attachments_exclusive": ((None, PolicyType.IDENTITY),),
    "aws_lambda_permission": ((None, PolicyType.RESOURCE),),
    "aws_lambda_layer_version_permission": ((None, PolicyType.RESOURCE),),
}
_ORG_TYPES = {"SERVICE_CONTROL_POLICY": PolicyType.SCP, "RESOURCE_CONTROL_POLICY": PolicyType.RCP}
# The resource a resource policy is attached to (check-no-public-access's --resource-type).
ATTACHED_TO = {"aws_s3_bucket_policy": "AWS::S3::Bucket", "aws_s3_bucket": "AWS::S3::Bucket",
               "aws_kms_key": "AWS::KMS::Key", "aws_sqs_queue_policy": "AWS::SQS::Queue",
               "aws_sqs_queue": "AWS::SQS::Queue", "aws_sns_topic_policy": "AWS::SNS::Topic",
               "aws_sns_topic": "AWS::SNS::Topic", "aws_ecr_repository_policy": "AWS::ECR::Repository",
               "aws_secretsmanager_secret_policy": "AWS::SecretsManager::Secret",
               "aws_kms_key_policy": "AWS::KMS::Key", "aws_s3_access_point_policy": "AWS::S3::AccessPoint"}


def is_plan(value: dict) -> bool:
    return "format_version" in value and any(k in value for k in ("planned_values", "resource_changes",
                                                                     "prior_state", "values"))


def plan_policies(plan: dict, file: str) -> list[NamedPolicy]:
    out: list[NamedPolicy] = []
    seen: set[str] = set()
    for i, change in enumerate(plan.get("resource_changes") or ()):
        if not isinstance(change, dict) or change.get("type") not in POLICY_ATTRIBUTES:
            continue
        body = change.get("change") if isinstance(change.get("change"), dict) else {}
        after = body.get("after")
        address = str(change.get("address", f"resource_changes[{i}]"))
        seen.add(address)
        if after is None:
            continue  # deleted by the plan: no policy is left to check
        unknown = body.get("after_unknown") if isinstance(body.get("after_unknown"), dict) else {}
        out.extend(_attributes(file, address, change["type"], after, unknown,
                               ("resource_changes", i, "change", "after")))
    for root_name, root in (("planned_values", plan.get("planned_values")), ("prior_state", plan.get("prior_state")),
                            ("values", plan.get("values"))):
        if root_name == "prior_state" and isinstance(root, dict):
            root = root.get("values")
            at: JsonPath = ("prior_state", "values", "root_module")
        else:
            at = (root_name, "root_module")
        module = root.get("root_module") if isinstance(root, dict) else None
        for resource, path in _module_resources(module, at):
            address = str(resource.get("address", ""))
            if address in seen or resource.get("type") not in POLICY_ATTRIBUTES:
                continue
            if root_name == "prior_state" and resource.get("mode") != "data":
                continue  # the state before the plan: only the data sources read for it
            seen.add(address)
            values = resource.get("values") if isinstance(resource.get("values"), dict) else {}
            out.extend(_attributes(file, address, resource["type"], values, {}, path + ("values",)))
    return out


def _module_resources(module, at: JsonPath):
    if not isinstance(module, dict):
        return
    for i, r in enumerate(module.get("resources") or ()):
        if isinstance(r, dict):
            yield r, at + ("resources", i)
    for i, child in enumerate(module.get("child_modules") or ()):
        yield from _module_resources(child, at + ("child_modules", i))


def _attributes(file: str, address: str, kind: str, after: dict, unknown: dict, at: JsonPath) -> list[NamedPolicy]:
    out = []
    for attribute, policy_type in POLICY_ATTRIBUTES[kind]:
        if attribute is None:
            # An attachment or a permission: it grants what a policy outside it says (or is one statement
            # in another shape) — named as not read, so validate warns and a proof is UNKNOWN, not PASS.
            from .sam import NOT_READ
            from .sources import unread_summary

            shown = unread_summary(after)  # all of it: a nested block (a condition) is part of the grant
            out.append(NamedPolicy(file, address, f"{address} {shown}", policy_type, None, {(): at},
                                   problem=f"{kind} is not read: what it grants is not checked here ({shown})",
                                   problem_at=at, kind="terraform-plan", problem_code=NOT_READ))
            continue
        if kind == "aws_organizations_policy":
            policy_type = _ORG_TYPES.get(after.get("type"))
            if policy_type is None:
                continue
        if attribute.endswith(".*.policy"):
            block = attribute.split(".")[0]
            blocks = after.get(block) or []
            unknown_blocks = unknown.get(block)
            if unknown_blocks is True:
                out.append(_unknown(file, address, block, policy_type, at + (block,)))
                continue
            for j, entry in enumerate(blocks if isinstance(blocks, list) else ()):
                flags = unknown_blocks[j] if isinstance(unknown_blocks, list) and j < len(unknown_blocks) else {}
                name = entry.get("name") if isinstance(entry, dict) else None
                label = f"{block}[{j}]" + (f" ({name})" if name else "")
                out.extend(_one(file, address, label, f"{block}[{j}].policy", policy_type,
                                entry.get("policy") if isinstance(entry, dict) else None,
                                isinstance(flags, dict) and flags.get("policy") is True, at + (block, j, "policy")))
            continue
        out.extend(_one(file, address, attribute, attribute, policy_type, after.get(attribute),
                        unknown.get(attribute) is True, at + (attribute,)))
    for found in out:
        found.resource_type = ("AWS::IAM::AssumeRolePolicyDocument" if found.key.endswith(".assume_role_policy")
                               else ATTACHED_TO.get(kind))
    return out


def _one(file, address, label, attribute, policy_type, value, unknown: bool, at: JsonPath) -> list[NamedPolicy]:
    key = f"{address}.{attribute}"
    if unknown:
        return [_unknown(file, address, label, policy_type, at, key)]
    if value in (None, ""):
        return []  # the attribute is not set: the resource holds no policy there
    value = document_value(value)
    if policy_type is None:  # a policy document data source: a Principal makes it a resource policy
        policy_type = _implied_by_principal(value)
    return [NamedPolicy(file, f"{address}.{label}", key, policy_type, value, {(): at}, kind="terraform-plan")]


def _unknown(file, address, label, policy_type, at, key=None) -> NamedPolicy:
    return NamedPolicy(file, f"{address}.{label}", key or f"{address}.{label}", policy_type, None, {(): at},
                       problem="known only after apply (the plan's after_unknown): not checked until it is",
                       problem_at=at, kind="terraform-plan", problem_code="UNKNOWN_UNTIL_APPLY")


def _implied_by_principal(text) -> PolicyType:
    import json

    try:
        document = json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return PolicyType.IDENTITY
    statements = document.get("Statement") if isinstance(document, dict) else None
    statements = statements if isinstance(statements, list) else [statements]
    named = any(isinstance(s, dict) and ("Principal" in s or "NotPrincipal" in s) for s in statements)
    return PolicyType.RESOURCE if named else PolicyType.IDENTITY
