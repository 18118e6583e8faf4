"""CloudFormation templates (JSON or YAML) as the policies they hold.

Intrinsic functions and pseudo parameters are resolved to stand-in values
the way cfn-policy-validator resolves them: AWS::Partition, AWS::Region and
AWS::AccountId are the stand-in partition, region and account (``aws``,
``us-east-1``, ``123456789012``), AWS::StackName is ``StackName``; a Ref to a
parameter is its given value (else its Default; neither: the policy cannot
be read); a Ref to a resource is its name property, else its logical id —
but an ARN for the types whose Ref returns one (an SNS topic, a managed
policy) and a queue URL for an SQS queue; Fn::GetAtt ``Arn`` is built from
the type's ARN format with the resource's name; AWS::NoValue removes the
entry. Fn::If (Fn::Equals, Fn::And, Fn::Or, Fn::Not on parameter values) and
a Fn::FindInMap keyed by a parameter or pseudo parameter are read for every
deployment (``Resolver.variants``, docs/readings.md I7): a policy whose
deployments differ carries each one's policy, never only the stand-ins' one. What a stand-in cannot be found for
(Fn::ImportValue, an attribute that is no ARN) is the policy's ``problem``,
never guessed. Only the policy properties are resolved.

Every value keeps the place in the template it came from (``places``): a
finding is reported at the template's own line and column (YAML: PyYAML's
composer marks; JSON: grammar/source.py spans).
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime

import yaml

from .errors import InputError
from .grammar.source import DuplicateKey, JsonPath, Source, Span, json_path
from .deployments import (ACCOUNT, CHOSEN_PSEUDO, PARTITION, REGION, STACK_NAME, Choice, Deployments, NotDeployed,
                          ref_name)
from .sources import FilePositions, NamedPolicy, unread_summary
from .translator.model import PolicyType

NO_VALUE = object()


def is_template(value: dict) -> bool:
    resources = value.get("Resources")
    return isinstance(resources, dict) and (
        "AWSTemplateFormatVersion" in value
        or any(isinstance(r, dict) and isinstance(r.get("Type"), str) and r["Type"].startswith(("AWS::", "Custom::"))
               for r in resources.values()))


# ---------------------------------------------------------------- YAML with positions

# Short-form tags: !Ref X is {"Ref": X}, !Condition X {"Condition": X}, the others {"Fn::Name": ...}.
_SHORT = {"Ref": "Ref", "Condition": "Condition"}


def _long_name(tag: str) -> str:
    name = tag[1:]
    return _SHORT.get(name, f"Fn::{name}")


def load_yaml(text: str, file: str) -> tuple[object, FilePositions]:
    """The template's value (short-form tags as their long form) and each
    value's and member name's span, by path."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark else file
        raise InputError(f"{at}: not YAML: {getattr(e, 'problem', None) or e}") from None
    except RecursionError:
        raise InputError(f"{file}: nests too deeply to be read") from None
    values: dict[JsonPath, Span] = {}
    keys: dict[JsonPath, Span] = {}
    duplicates: list[DuplicateKey] = []
    constructor = yaml.SafeLoader("")

    lines = Source(text, file)

    def span(node) -> Span:
        s, e = node.start_mark, node.end_mark
        if isinstance(node, yaml.ScalarNode) and node.style in ("|", ">"):
            # a block scalar's marks start at its indicator: its value is from the next line's text on
            start = text.find("\n", s.index, e.index)
            while 0 <= start < e.index and text[start].isspace():
                start += 1
            if 0 <= start < e.index:
                return lines.span_at(start, e.index)
        return Span(s.index, e.index, s.line + 1, s.column + 1, e.line + 1, e.column + 1)

    def build(node, path: JsonPath):
        values[path] = span(node)
        tag = node.tag or ""
        if tag.startswith("!"):
            name = _long_name(tag)
            inner = path + (name,)
            values[inner] = span(node)
            if isinstance(node, yaml.ScalarNode):
                value = node.value
                values[inner] = span(node)
                if name == "Fn::GetAtt":
                    value = value.split(".", 1)
                return {name: value}
            return {name: plain(node, inner)}
        return plain(node, path)

    def plain(node, path: JsonPath):
        if isinstance(node, yaml.MappingNode):
            out = {}
            for k, v in node.value:
                if k.tag == "tag:yaml.org,2002:merge":
                    # AWS CloudFormation User Guide, template formats: YAML without hash merges
                    raise InputError(f"{file}:{k.start_mark.line + 1}:{k.start_mark.column + 1}: a YAML merge "
                                     "key (<<): CloudFormation does not take hash merges")
                key = constructor.construct_object(k) if isinstance(k, yaml.ScalarNode) else str(k.value)
                key = str(key)
                if key in out:  # the last is the value, as for JSON; reported (duplicates_in)
                    duplicates.append(DuplicateKey(path, key, span(k), keys[path + (key,)]))
                keys[path + (key,)] = span(k)
                out[key] = build(v, path + (key,))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [build(v, path + (i,)) for i, v in enumerate(node.value)]
        if node.tag == "tag:yaml.org,2002:timestamp":
            return node.value  # Version: 2012-10-17 is the text, as CloudFormation reads it
        value = constructor.construct_object(node)
        if isinstance(value, (date, datetime)):
            return node.value
        if isinstance(value, int) and not isinstance(value, bool):
            # CloudFormation reads YAML 1.1 and hands scalars on as strings: AWS: 123456789012 is
            # "123456789012", and an unquoted 012345670123 is the octal 1402433619, as it deploys.
            return str(value)
        return value

    if root is None:
        return None, FilePositions(values, keys)
    value = build(root, ())
    return value, FilePositions(values, keys, yaml_duplicates=duplicates, yaml_source=lines)


# ---------------------------------------------------------------- where the policies are

# Resource type → (property path to a policy, the policy type it implies); a
# property path ending in "*" is a list of {PolicyName, PolicyDocument}.
POLICY_PROPERTIES: dict[str, tuple[tuple[tuple, PolicyType], ...]] = {
    "AWS::IAM::Policy": ((("PolicyDocument",), PolicyType.IDENTITY),),
    "AWS::IAM::ManagedPolicy": ((("PolicyDocument",), PolicyType.IDENTITY),),
    "AWS::IAM::RolePolicy": ((("PolicyDocument",), PolicyType.IDENTITY),),
    "AWS::IAM::UserPolicy": ((("PolicyDocument",), PolicyType.IDENTITY),),
    "AWS::IAM::GroupPolicy": ((("PolicyDocument",), PolicyType.IDENTITY),),
    "AWS::IAM::Role": ((("AssumeRolePolicyDocument",), PolicyType.TRUST), (("Policies", "*"), PolicyType.IDENTITY)),
    "AWS::IAM::User": ((("Policies", "*"), PolicyType.IDENTITY),),
    "AWS::IAM::Group": ((("Policies", "*"), PolicyType.IDENTITY),),
    "AWS::S3::BucketPolicy": ((("PolicyDocument",), PolicyType.RESOURCE),),
    "AWS::S3::AccessPoint": ((("Policy",), PolicyType.RESOURCE),),
    "AWS::KMS::Key": ((("KeyPolicy",), PolicyType.RESOURCE),),
    "AWS::SQS::QueuePolicy": ((("PolicyDocument",), PolicyType.RESOURCE),),
    "AWS::SNS::TopicPolicy": ((("PolicyDocument",), PolicyType.RESOURCE),),
    "AWS::SecretsManager::ResourcePolicy": ((("ResourcePolicy",), PolicyType.RESOURCE),),
    "AWS::ECR::Repository": ((("RepositoryPolicyText",), PolicyType.RESOURCE),),
    "AWS::Logs::ResourcePolicy": ((("PolicyDocument",), PolicyType.RESOURCE),),
    "AWS::OpenSearchService::Domain": ((("AccessPolicies",), PolicyType.RESOURCE),),
    "AWS::Elasticsearch::Domain": ((("AccessPolicies",), PolicyType.RESOURCE),),
    "AWS::Backup::BackupVault": ((("AccessPolicy",), PolicyType.RESOURCE),),
    "AWS::EFS::FileSystem": ((("FileSystemPolicy",), PolicyType.RESOURCE),),
    "AWS::DynamoDB::Table": ((("ResourcePolicy", "PolicyDocument"), PolicyType.RESOURCE),),
    "AWS::Organizations::Policy": ((("Content",), None),),  # its Type says which
    "AWS::KMS::ReplicaKey": ((("KeyPolicy",), PolicyType.RESOURCE),),
    "AWS::S3Express::BucketPolicy": ((("PolicyDocument",), PolicyType.RESOURCE),),
    "AWS::ApiGateway::RestApi": ((("Policy",), PolicyType.RESOURCE),),
    "AWS::Kinesis::ResourcePolicy": ((("ResourcePolicy",), PolicyType.RESOURCE),),
    "AWS::SSO::PermissionSet": ((("InlinePolicy",), PolicyType.IDENTITY),),
}
# Properties that hold a policy or a grant in resource types not read above: each such property is
# named as not read (POLICY_NOT_READ), never skipped in silence; and these types are grants whatever
# their properties are called (a Lambda permission is one statement of the function's policy).
_POLICY_LIKE = ("Policy", "PolicyDocument", "PolicyText", "KeyPolicy", "ResourcePolicy", "InlinePolicy",
                "AccessPolicy", "AccessPolicies", "Statement")
_GRANTS = {"AWS::Lambda::Permission", "AWS::Lambda::LayerVersionPermission", "AWS::Events::EventBusPolicy"}
_ORG_TYPES = {"SERVICE_CONTROL_POLICY": PolicyType.SCP, "RESOURCE_CONTROL_POLICY": PolicyType.RCP}
# The resource a resource policy is attached to (check-no-public-access's --resource-type).
ATTACHED_TO = {"AWS::S3::BucketPolicy": "AWS::S3::Bucket", "AWS::S3::AccessPoint": "AWS::S3::AccessPoint",
               "AWS::KMS::Key": "AWS::KMS::Key", "AWS::SQS::QueuePolicy": "AWS::SQS::Queue",
               "AWS::SNS::TopicPolicy": "AWS::SNS::Topic", "AWS::SecretsManager::ResourcePolicy":
               "AWS::SecretsManager::Secret", "AWS::ECR::Repository": "AWS::ECR::Repository",
               "AWS::OpenSearchService::Domain": "AWS::OpenSearchService::Domain",
               "AWS::Elasticsearch::Domain": "AWS::OpenSearchService::Domain",
               "AWS::Backup::BackupVault": "AWS::Backup::BackupVault", "AWS::EFS::FileSystem": "AWS::EFS::FileSystem",
               "AWS::DynamoDB::Table": "AWS::DynamoDB::Table", "AWS::KMS::ReplicaKey": "AWS::KMS::Key",
               "AWS::S3Express::BucketPolicy": "AWS::S3Express::DirectoryBucket",
               "AWS::Kinesis::ResourcePolicy": "AWS::Kinesis::Stream"}
# A policy a resource must have: missing, the template is wrong, not empty.
_REQUIRED = {("AWS::IAM::Role", ("AssumeRolePolicyDocument",))} | {
    (t, ("PolicyDocument",)) for t in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::S3::BucketPolicy",
                                       "AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy", "AWS::IAM::RolePolicy",
                                       "AWS::IAM::UserPolicy", "AWS::IAM::GroupPolicy")}


# Resource types whose names are lowercase (a generated name too): S3 buckets.
_LOWERCASE_NAMES = {"AWS::S3::Bucket"}


def template_policies(template: dict, file: str, parameters: dict | None = None) -> list[NamedPolicy]:
    """Every policy of the template, in template order, each resolved (or
    with its problem). Key: the logical id and the property path."""

    resolver = Resolver(template, parameters or {})
    out: list[NamedPolicy] = []
    for logical_id, resource in template["Resources"].items():
        if not isinstance(resource, dict):
            continue
        kind = resource.get("Type")
        start = len(out)
        _read_resource(resolver, file, logical_id, resource, kind, out)
        if kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            attached = _attached_to(resolver, logical_id, resource)
            for policy in out[start:]:
                for p in [policy, *policy.variants]:
                    p.attached_to = attached
        condition = resource.get("Condition")
        if condition is not None:  # the resource exists only where it holds (readings I9)
            when = (str(condition), json.dumps(resolver.conditions.get(condition), sort_keys=True, default=str)
                    if isinstance(condition, str) else None)
            for policy in out[start:]:
                for p in [policy, *policy.variants]:
                    p.exists_when = when
    return out


def _read_resource(resolver, file: str, logical_id: str, resource: dict, kind, out: list) -> None:
    """The policies one resource of the template holds, appended to ``out``."""
    from .sam import SAM_TYPES, sam_policies

    if kind in SAM_TYPES:
        out.extend(sam_policies(resolver, file, logical_id, resource))
        return
    if kind in _ATTACHING:
        out.extend(attachments(resolver, file, logical_id, resource))
    spots = POLICY_PROPERTIES.get(kind) if isinstance(kind, str) else None
    if spots is None:
        out.extend(_not_read(file, logical_id, resource, kind))
        return
    properties = resource.get("Properties")
    base: JsonPath = ("Resources", logical_id, "Properties")
    properties = properties if isinstance(properties, dict) else {}
    for prop, policy_type in spots:
        if kind == "AWS::Organizations::Policy":
            org = properties.get("Type")
            policy_type = _ORG_TYPES.get(org) if isinstance(org, str) else None
            if policy_type is None:
                continue  # a tag or backup policy: not an IAM policy
        if prop[-1] == "*":
            entries = properties.get(prop[0])
            if entries is None:
                continue
            if not isinstance(entries, list):
                out.append(unread_policy(file, logical_id, base + (prop[0],), policy_type,
                                         f"{prop[0]} is not a list of policies"))
                continue
            for i, entry in enumerate(entries):
                at = base + (prop[0], i)
                name = entry.get("PolicyName") if isinstance(entry, dict) else None
                shown = f"{logical_id}.{prop[0]}[{i}]" + (f" ({name})" if isinstance(name, str) else "")
                if not isinstance(entry, dict) or "PolicyDocument" not in entry:
                    out.append(unread_policy(file, shown, at, policy_type,
                                             "an entry of Policies without a PolicyDocument",
                                             f"{logical_id}.{prop[0]}[{i}]"))
                    continue
                out.append(resolver.variants(file, shown, f"{logical_id}.{prop[0]}[{i}]", policy_type,
                                             entry["PolicyDocument"], at + ("PolicyDocument",)))
            continue
        value, present = properties, True
        for step in prop:
            if isinstance(value, dict) and step in value:
                value = value[step]
            else:
                present = False
                break
        shown = f"{logical_id}.{'.'.join(prop)}"
        if not present:
            if (kind, prop) in _REQUIRED:
                out.append(unread_policy(file, shown, ("Resources", logical_id), policy_type,
                                         f"{kind} without its {'.'.join(prop)}"))
            continue
        found = resolver.variants(file, shown, shown, policy_type, value, base + prop)
        found.resource_type = ("AWS::IAM::AssumeRolePolicyDocument" if policy_type is PolicyType.TRUST
                               else ATTACHED_TO.get(kind))
        for variant in found.variants:
            variant.resource_type = found.resource_type
        out.append(found)


# What a user, group or role is given beyond its own documents: managed policies attached by ARN and
# (users, roles) a permissions boundary. What they grant is not in the template.
_ATTACHING = {"AWS::IAM::Role": ("ManagedPolicyArns", "PermissionsBoundary"),
              "AWS::IAM::User": ("ManagedPolicyArns", "PermissionsBoundary"),
              "AWS::IAM::Group": ("ManagedPolicyArns",)}
BOUNDARY = ".PermissionsBoundary"


def attachments(resolver, file: str, logical_id: str, resource: dict) -> list[NamedPolicy]:
    """Each managed policy a user, group or role attaches (ManagedPolicyArns)
    and its permissions boundary, as a policy that is not read
    (POLICY_NOT_READ, as SAM's managed policies): a WARNING in validate; in a
    proof the same ARN in both versions is PASS, an attachment only the new
    version has is UNKNOWN, and so is a boundary only the existing one has
    (removing it widens) — AdministratorAccess attached passed as no change."""
    from .sam import NOT_READ

    properties = resource.get("Properties") if isinstance(resource.get("Properties"), dict) else {}
    base = ("Resources", logical_id, "Properties")
    out = []
    arns = properties.get("ManagedPolicyArns")
    listed = arns if isinstance(arns, list) else ([arns] if arns is not None else [])
    for i, entry in enumerate(listed):
        at = base + ("ManagedPolicyArns", i) if isinstance(arns, list) else base + ("ManagedPolicyArns",)
        what = _attached_name(resolver, entry, at)
        out.append(unread_policy(file, f"{logical_id}.ManagedPolicyArns[{i}] ({what})", at, PolicyType.IDENTITY,
                                 f"the managed policy {what} is attached; what it grants is not read here",
                                 key=f"{logical_id}.ManagedPolicyArns {what}", code=NOT_READ))
    if "PermissionsBoundary" in _ATTACHING[resource.get("Type")] and "PermissionsBoundary" in properties:
        at = base + ("PermissionsBoundary",)
        what = _attached_name(resolver, properties["PermissionsBoundary"], at)
        out.append(unread_policy(file, f"{logical_id}.PermissionsBoundary ({what})", at, PolicyType.BOUNDARY,
                                 f"the permissions boundary {what} is not read here",
                                 key=logical_id + BOUNDARY, code=NOT_READ))
    return out


def _not_read(file: str, logical_id: str, resource: dict, kind) -> list[NamedPolicy]:
    """A resource of a type whose policies are not read, that holds one (or is a grant): named, so
    validate warns and a proof is UNKNOWN rather than PASS on what it never read."""
    from .sam import NOT_READ

    properties = resource.get("Properties") if isinstance(resource.get("Properties"), dict) else {}
    held = [p for p in _POLICY_LIKE if p in properties]
    if kind in _GRANTS and not held:
        held = [""]
    out = []
    for prop in held:
        shown = f"{logical_id}.{prop}" if prop else logical_id
        at = ("Resources", logical_id, "Properties", prop) if prop else ("Resources", logical_id)
        out.append(unread_policy(file, shown, at, PolicyType.RESOURCE,
                                 f"{kind}'s {prop or 'grant'} is not read: what it allows is not checked here "
                                 f"({unread_summary(properties.get(prop, properties))})",
                                 key=shown, code=NOT_READ))
    return out


def _attached_to(resolver, logical_id: str, resource: dict) -> tuple:
    """Who a policy resource is attached to: "role:NAME", "user:NAME", "group:NAME" (readings I11)."""
    properties = resource.get("Properties") if isinstance(resource.get("Properties"), dict) else {}
    out = set()
    for prop, word in (("Roles", "role"), ("Users", "user"), ("Groups", "group")):
        entries = properties.get(prop)
        for i, entry in enumerate(entries if isinstance(entries, list) else [entries] if entries is not None else []):
            out.add(f"{word}:{_attached_name(resolver, entry, ('Resources', logical_id, 'Properties', prop, i))}")
    return tuple(sorted(out))


def _attached_name(resolver, entry, at) -> str:
    try:
        return str(resolver.scalar(entry, at, set(), "a managed policy ARN"))
    except Unresolved:
        return json.dumps(entry, sort_keys=True, default=str)


def unread_policy(file, shown, at, policy_type, why, key=None, code="UNRESOLVABLE_POLICY") -> NamedPolicy:
    """A policy of the template that is not read, and why (``problem``)."""
    return NamedPolicy(file, shown, key or shown, policy_type, None, {(): at}, problem=why, problem_at=at,
                       kind="cloudformation", home=at, problem_code=code)


def duplicates_in(policies: list[NamedPolicy], positions: FilePositions, file: str) -> list[NamedPolicy]:
    """The template's policies with the keys the template repeats
    (docs/readings.md I8): one inside a policy's document is that policy's
    ERROR DUPLICATE_KEYS, as in a bare document; one elsewhere — a logical
    id given twice drops the first resource — is a WARNING on the policies
    of its resource (else on the first policy) in JSON, which CloudFormation
    deploys taking the last, and refuses a YAML template (InputError)."""
    for dup in sorted(positions.duplicates(), key=lambda d: len(d.path)):  # a repeated logical id first
        at = dup.path + (dup.key,)
        first = dup.first or dup.span
        lines = (f"lines {first.line} and {dup.span.line}" if first.line != dup.span.line else
                 f"line {first.line}, columns {first.column} and {dup.span.column}")
        owner = next((p for p in policies if p.home and at[:len(p.home)] == p.home), None)
        if owner is not None:
            message = (f"The key {dup.key!r} appears more than once in {json_path(dup.path)} ({lines}); only the "
                       "last value would be read.")
            entry = (message, at[len(owner.home):], dup.span)
            for p in [owner, *owner.variants]:
                p.duplicates += (entry,)
            continue
        if positions.source is None:
            raise InputError(f"{file}:{dup.span.line}:{dup.span.column}: the key {dup.key!r} appears more than "
                             f"once in {json_path(dup.path)} ({lines}): CloudFormation refuses a YAML template "
                             "that repeats a key")
        if dup.path == ("Resources",):
            code, message = "DUPLICATE_RESOURCE", (f"The logical id {dup.key!r} is defined twice in Resources "
                                                   f"({lines}); CloudFormation deploys the last, the first is not "
                                                   "read.")
        else:
            code, message = "DUPLICATE_KEYS", (f"The key {dup.key!r} appears more than once in "
                                               f"{json_path(dup.path)} ({lines}); CloudFormation reads the last.")
        mine = [p for p in policies if len(at) > 1 and p.home[:2] == ("Resources", at[1])] or policies[:1]
        for p in mine:
            for q in [p, *p.variants]:
                q.notes += ((code, message, dup.span),)
    return policies


# ---------------------------------------------------------------- intrinsic functions


class Unresolved(Exception):
    def __init__(self, why: str, at: JsonPath):
        super().__init__(why)
        self.why, self.at = why, at


# Resource type → (name property, Ref gives: "name" | "arn" | "url", ARN format with {name}).
_TYPES = {
    "AWS::IAM::Role": ("RoleName", "name", "arn:{p}:iam::{a}:role/{path}{name}"),
    "AWS::IAM::User": ("UserName", "name", "arn:{p}:iam::{a}:user/{path}{name}"),
    "AWS::IAM::Group": ("GroupName", "name", "arn:{p}:iam::{a}:group/{path}{name}"),
    "AWS::IAM::ManagedPolicy": ("ManagedPolicyName", "arn", "arn:{p}:iam::{a}:policy/{path}{name}"),
    "AWS::IAM::InstanceProfile": ("InstanceProfileName", "name", "arn:{p}:iam::{a}:instance-profile/{path}{name}"),
    "AWS::S3::Bucket": ("BucketName", "name", "arn:{p}:s3:::{name}"),
    "AWS::SQS::Queue": ("QueueName", "url", "arn:{p}:sqs:{r}:{a}:{name}"),
    "AWS::SNS::Topic": ("TopicName", "arn", "arn:{p}:sns:{r}:{a}:{name}"),
    "AWS::KMS::Key": (None, "name", "arn:{p}:kms:{r}:{a}:key/{name}"),
    "AWS::KMS::Alias": ("AliasName", "name", "arn:{p}:kms:{r}:{a}:{name}"),
    "AWS::Lambda::Function": ("FunctionName", "name", "arn:{p}:lambda:{r}:{a}:function:{name}"),
    "AWS::DynamoDB::Table": ("TableName", "name", "arn:{p}:dynamodb:{r}:{a}:table/{name}"),
    "AWS::SecretsManager::Secret": ("Name", "arn", "arn:{p}:secretsmanager:{r}:{a}:secret:{name}"),
    "AWS::Logs::LogGroup": ("LogGroupName", "name", "arn:{p}:logs:{r}:{a}:log-group:{name}:*"),
    "AWS::ECR::Repository": ("RepositoryName", "name", "arn:{p}:ecr:{r}:{a}:repository/{name}"),
    "AWS::Kinesis::Stream": ("Name", "name", "arn:{p}:kinesis:{r}:{a}:stream/{name}"),
    "AWS::StepFunctions::StateMachine": ("StateMachineName", "arn", "arn:{p}:states:{r}:{a}:stateMachine:{name}"),
    "AWS::Events::EventBus": ("Name", "name", "arn:{p}:events:{r}:{a}:event-bus/{name}"),
    "AWS::EFS::FileSystem": (None, "name", "arn:{p}:elasticfilesystem:{r}:{a}:file-system/{name}"),
    "AWS::Backup::BackupVault": ("BackupVaultName", "name", "arn:{p}:backup:{r}:{a}:backup-vault:{name}"),
    "AWS::OpenSearchService::Domain": ("DomainName", "name", "arn:{p}:es:{r}:{a}:domain/{name}"),
}
# GetAtt attributes that are the ARN, besides Arn.
_ARN_ATTRIBUTES = {"Arn", "TopicArn", "QueueArn", "DomainArn", "BackupVaultArn", "KeyArn"}
_NAME_ATTRIBUTES = {"QueueName", "TopicName", "RoleId", "KeyId"}
_FUNCTIONS = ("Ref", "Condition", "Fn::GetAtt", "Fn::Sub", "Fn::Join", "Fn::Select", "Fn::Split", "Fn::If",
              "Fn::FindInMap", "Fn::ImportValue", "Fn::Base64", "Fn::GetAZs", "Fn::Cidr", "Fn::Equals",
              "Fn::And", "Fn::Or", "Fn::Not", "Fn::Transform", "Fn::Length", "Fn::ToJsonString")


class Resolver(Deployments):
    def __init__(self, template: dict, parameters: dict):
        self.template = template
        self.resources = template.get("Resources") or {}
        self.parameters = template.get("Parameters") if isinstance(template.get("Parameters"), dict) else {}
        self.given = parameters
        self.conditions = template.get("Conditions") if isinstance(template.get("Conditions"), dict) else {}
        self.mappings = template.get("Mappings") if isinstance(template.get("Mappings"), dict) else {}
        self.literals: dict[str, set[str]] = {}
        self._scan(self.conditions)
        self._scan(self.resources)
        self._start({})

    def policy(self, file: str, shown: str, key: str, policy_type: PolicyType, value,
               at: JsonPath) -> NamedPolicy | None:
        """One deployment's policy (None: CloudFormation refuses that deployment)."""
        places: dict[JsonPath, JsonPath] = {}
        try:
            document = self.value(value, at, (), places, set())
        except NotDeployed:
            return None
        except Unresolved as e:
            return NamedPolicy(file, shown, key, policy_type, None, {(): at}, problem=e.why, problem_at=e.at,
                               kind="cloudformation")
        except RecursionError:
            return NamedPolicy(file, shown, key, policy_type, None, {(): at}, problem="nests too deeply to be read",
                               problem_at=at, kind="cloudformation")
        if document is NO_VALUE:
            return NamedPolicy(file, shown, key, policy_type, None, {(): at},
                               problem="the policy is AWS::NoValue", problem_at=at, kind="cloudformation")
        if isinstance(document, str):
            places = {(): places.get((), at)}  # JSON text: its paths are all at the string
        return NamedPolicy(file, shown, key, policy_type, document, places, kind="cloudformation")

    # -- values

    def value(self, node, at: JsonPath, out: JsonPath, places: dict, seen: set):
        """The resolved value of ``node`` (at template path ``at``), its
        places recorded under the policy path ``out``."""
        places.setdefault(out, at)
        if isinstance(node, dict):
            if len(node) == 1:
                (name, arg), = node.items()
                if name in _FUNCTIONS:
                    return self.function(name, arg, at + (name,), out, places, seen)
            result = {}
            for k, v in node.items():
                resolved = self.value(v, at + (k,), out + (k,), places, seen)
                if resolved is not NO_VALUE:
                    result[k] = resolved
            return result
        if isinstance(node, list):
            result = []
            for i, v in enumerate(node):
                # a removed entry shifts the rest: record under the index it gets
                sub: dict = {}
                resolved = self.value(v, at + (i,), out + (len(result),), sub, seen)
                if resolved is not NO_VALUE:
                    places.update(sub)
                    result.append(resolved)
            return result
        return node

    def scalar(self, node, at: JsonPath, seen: set, what: str):
        value = self.value(node, at, (), {}, seen)
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise Unresolved(f"{what} must be a string", at)
        return str(value)

    def deciding_value(self, node, at: JsonPath, seen: set, what: str) -> str:
        """A scalar that decides what the policy is (a condition's operand,
        a map key): the inputs it reads are recorded as chosen."""
        self.deciding += 1
        try:
            return self.scalar(node, at, seen, what)
        finally:
            self.deciding -= 1

    def function(self, name: str, arg, at: JsonPath, out: JsonPath, places: dict, seen: set):
        resolve = _INTRINSICS.get(name)
        if resolve is None:
            raise Unresolved(f"{name} has no stand-in value in a policy", at)
        return resolve(self, arg, at, out, places, seen)

    # -- the intrinsic functions (_INTRINSICS): (argument, its template path, the policy path, places, seen)

    def _ref(self, arg, at, out, places, seen):
        return self.ref(self.scalar(arg, at, seen, "Ref"), at, seen)

    def _get_att(self, arg, at, out, places, seen):
        arg = _arguments(arg.split(".", 1) if isinstance(arg, str) else arg, at, "Fn::GetAtt",
                         "[logical id, attribute]", 2)
        return self.get_att(self.scalar(arg[0], at + (0,), seen, "Fn::GetAtt"),
                            self.scalar(arg[1], at + (1,), seen, "Fn::GetAtt"), at, seen)

    def _sub(self, arg, at, out, places, seen):
        return self.sub(arg, at, seen)

    def _join(self, arg, at, out, places, seen):
        delimiter, items = _arguments(arg, at, "Fn::Join", "[delimiter, list]", 2, text_first=True)
        items = self.value(items, at + (1,), (), {}, seen)
        if not isinstance(items, list):
            raise Unresolved("Fn::Join's second argument must be a list", at + (1,))
        return delimiter.join(self.scalar(v, at + (1, i), seen, "an item of Fn::Join") for i, v in enumerate(items))

    def _select(self, arg, at, out, places, seen):
        index, items = _arguments(arg, at, "Fn::Select", "[index, list]", 2)
        index = self.scalar(index, at + (0,), seen, "Fn::Select's index")
        items = self.value(items, at + (1,), (), {}, seen)
        if not index.isdigit() or not isinstance(items, list) or int(index) >= len(items):
            raise Unresolved(f"Fn::Select index {index} is not in its list", at)
        return items[int(index)]

    def _split(self, arg, at, out, places, seen):
        delimiter, text = _arguments(arg, at, "Fn::Split", "[delimiter, string]", 2, text_first=True)
        return self.scalar(text, at + (1,), seen, "Fn::Split's string").split(delimiter)

    def _if(self, arg, at, out, places, seen):
        name = _arguments(arg, at, "Fn::If", "[condition, value if true, value if false]", 3, text_first=True)[0]
        truth = self.condition(name, at + (0,), set())
        self.used.setdefault(name, truth)  # the deployment's valuation of the conditions its policy follows
        branch = 1 if truth else 2
        places[out] = at + (branch,)
        return self.value(arg[branch], at + (branch,), out, places, seen)

    def _find_in_map(self, arg, at, out, places, seen):
        _arguments(arg, at, "Fn::FindInMap", "[map, top-level key, second-level key]", 3, 4)
        names, chosen = [], False
        for i in range(3):
            before = len(self.touched)
            names.append(self.deciding_value(arg[i], at + (i,), seen, "Fn::FindInMap"))
            if len(self.touched) > before:  # a key the deployment chooses: each entry is read
                if ref_name(arg[i]) is None:
                    raise Unresolved(f"a Fn::FindInMap key depends on {', '.join(self.touched[before:])} "
                                     "other than as its Ref: the entries it may find are not read", at + (i,))
                self.map_keys[ref_name(arg[i])] = self.assignment.get(ref_name(arg[i]), Choice(names[-1]))
                chosen = True
        try:
            found = self.mappings[names[0]][names[1]][names[2]]
        except (KeyError, TypeError):
            if len(arg) == 4 and isinstance(arg[3], dict) and "DefaultValue" in arg[3]:
                return self.value(arg[3]["DefaultValue"], at + (3, "DefaultValue"), out, places, seen)
            if chosen:
                raise NotDeployed() from None
            raise Unresolved(f"Fn::FindInMap: no {'.'.join(names)} in Mappings", at) from None
        # the entry's own place in the template: a finding on it is at the map's line
        places[out] = ("Mappings", *names)
        return self.value(found, ("Mappings", *names), out, places, seen)

    def _import_value(self, arg, at, out, places, seen):
        raise Unresolved("Fn::ImportValue names another stack's export, which a template alone does not hold", at)

    def ref(self, target: str, at: JsonPath, seen: set):
        partition, region, account = self.names()
        stack = self.pseudo("AWS::StackName", STACK_NAME)
        pseudo = {"AWS::AccountId": account, "AWS::Partition": partition, "AWS::Region": region,
                  "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": stack,
                  "AWS::StackId": f"arn:{partition}:cloudformation:{region}:{account}:stack/{stack}/"
                                  "00000000-0000-0000-0000-000000000000", "AWS::NotificationARNs": []}
        if target == "AWS::NoValue":
            return NO_VALUE
        if self.deciding and self.chosen(target):
            self.touched.append(target)
            spec = self.parameters.get(target) if target not in CHOSEN_PSEUDO else None
            kind = str(spec.get("Type", "String")) if isinstance(spec, dict) else "String"
            if kind == "CommaDelimitedList" or kind.startswith("List<"):
                raise Unresolved(f"the list parameter {target} decides a condition or map key: the deployments "
                                 "it allows are not read", at)
        if target in self.assignment:
            return self.assignment[target].value
        if target in pseudo:
            return pseudo[target]
        if target in self.resources:
            resource = self.resources[target]
            kind = resource.get("Type") if isinstance(resource, dict) else None
            name_prop, gives, _ = _TYPES.get(kind, (None, "name", None))
            if gives == "arn":
                return self.get_att(target, "Arn", at, seen)
            name = self.name_of(target, at, seen)
            if gives == "url":
                _, region, account = self.names()
                return f"https://sqs.{region}.amazonaws.com/{account}/{name}"
            return name
        if target in self.parameters:
            return self.parameter(target, at)
        raise Unresolved(f"Ref {target}: no such resource or parameter in the template", at)

    def parameter(self, name: str, at: JsonPath):
        spec = self.parameters[name] if isinstance(self.parameters[name], dict) else {}
        if name in self.given:
            value = self.given[name]
        elif str(spec.get("Type", "")).startswith("AWS::SSM::Parameter::Value"):
            # The Default names a Parameter Store entry; the value is read from it at deployment
            # (CloudFormation User Guide, SSM parameter types): not known here, as a parameter without one.
            raise Unresolved(f"the parameter {name} is read from SSM Parameter Store ({spec.get('Default')!s:.100}) "
                             "at deployment: give its value with --parameter", at)
        elif "Default" in spec:
            value = spec["Default"]
        else:
            raise Unresolved(f"the parameter {name} has no Default and no value was given", at)
        kind = str(spec.get("Type", "String"))
        if (kind == "CommaDelimitedList" or kind.startswith("List<")) and isinstance(value, str):
            return [v.strip() for v in value.split(",")]
        return value if isinstance(value, (list, str)) else str(value)

    def names(self) -> tuple[str, str, str]:
        """The deployment's partition, region and account (stand-ins unless chosen)."""
        return (self.pseudo("AWS::Partition", PARTITION), self.pseudo("AWS::Region", REGION),
                self.pseudo("AWS::AccountId", ACCOUNT))

    def name_of(self, logical_id: str, at: JsonPath, seen: set) -> str:
        resource = self.resources[logical_id]
        kind = resource.get("Type")
        name_prop = _TYPES.get(kind, (None,))[0]
        properties = resource.get("Properties") if isinstance(resource.get("Properties"), dict) else {}
        if name_prop and name_prop in properties:
            if (logical_id, name_prop) in seen:
                raise Unresolved(f"{logical_id}.{name_prop} refers to itself", at)
            return self.scalar(properties[name_prop], ("Resources", logical_id, "Properties", name_prop),
                               seen | {(logical_id, name_prop)}, f"{logical_id}.{name_prop}")
        # No name given: CloudFormation generates one from the stack and the logical id; a bucket's is
        # lowercase (bucket names are), so its stand-in is too — "SiteBucket" names no bucket.
        return logical_id.lower() if kind in _LOWERCASE_NAMES else logical_id

    def get_att(self, logical_id: str, attribute: str, at: JsonPath, seen: set) -> str:
        resource = self.resources.get(logical_id)
        if not isinstance(resource, dict):
            raise Unresolved(f"Fn::GetAtt {logical_id}.{attribute}: no such resource in the template", at)
        kind = resource.get("Type")
        spec = _TYPES.get(kind)
        if attribute in _ARN_ATTRIBUTES and spec is not None:
            name = self.name_of(logical_id, at, seen)
            properties = resource.get("Properties") if isinstance(resource.get("Properties"), dict) else {}
            path = properties.get("Path", "/") if kind.startswith("AWS::IAM::") else "/"
            path = path if isinstance(path, str) else "/"
            partition, region, account = self.names()
            return spec[2].format(p=partition, r=region, a=account, name=name, path=path[1:])
        if attribute in _NAME_ATTRIBUTES or (attribute == "Name" and spec is not None):
            return self.name_of(logical_id, at, seen)
        properties = resource.get("Properties") if isinstance(resource.get("Properties"), dict) else {}
        if attribute in properties and (logical_id, attribute) not in seen:
            return self.value(properties[attribute], ("Resources", logical_id, "Properties", attribute), (), {},
                              seen | {(logical_id, attribute)})
        raise Unresolved(f"Fn::GetAtt {logical_id}.{attribute}: no stand-in value for this attribute of {kind}", at)

    def sub(self, arg, at: JsonPath, seen: set) -> str:
        variables = {}
        if isinstance(arg, list):
            if len(arg) != 2 or not isinstance(arg[0], str) or not isinstance(arg[1], dict):
                raise Unresolved("Fn::Sub takes a string or [string, {variables}]", at)
            for k, v in arg[1].items():
                variables[k] = self.scalar(v, at + (1, k), seen, f"Fn::Sub variable {k}")
            text, at_text = arg[0], at + (0,)
        elif isinstance(arg, str):
            text, at_text = arg, at
        else:
            raise Unresolved("Fn::Sub takes a string or [string, {variables}]", at)

        def replace(match: re.Match) -> str:
            inner = match.group(1)
            if inner.startswith("!"):
                return "${" + inner[1:] + "}"  # ${!Literal} is the text ${Literal}
            if inner in variables:
                return variables[inner]
            if "." in inner and inner.split(".", 1)[0] in self.resources:
                logical_id, attribute = inner.split(".", 1)
                return str(self.get_att(logical_id, attribute, at_text, seen))
            value = self.ref(inner, at_text, seen)
            if not isinstance(value, str):
                raise Unresolved(f"Fn::Sub: ${{{inner}}} is not a string", at_text)
            return value

        return re.sub(r"\$\{([^}]*)\}", replace, text)

    def condition(self, name: str, at: JsonPath, seen: set) -> bool:
        if name in seen:
            raise Unresolved(f"the condition {name} refers to itself", at)
        if name not in self.conditions:
            raise Unresolved(f"no condition {name} in Conditions", at)
        return self.truth(self.conditions[name], ("Conditions", name), seen | {name})

    def operand(self, node, at: JsonPath):
        """A Fn::Equals operand; what it reads of the deployment's choices
        must be a parameter's value itself (``Ref``), compared as such."""
        before = len(self.touched)
        self.deciding += 1
        try:
            value = self.value(node, at, (), {}, set())
        finally:
            self.deciding -= 1
        if len(self.touched) > before and ref_name(node) is None:
            raise Unresolved(f"the condition reads {', '.join(dict.fromkeys(self.touched[before:]))} other than "
                             "as a Ref: the deployments it allows are not read", at)
        return value

    def truth(self, node, at: JsonPath, seen: set) -> bool:
        if isinstance(node, dict) and len(node) == 1:
            (name, arg), = node.items()
            if name == "Condition" and isinstance(arg, str):
                return self.condition(arg, at + (name,), seen)
            if name == "Fn::Equals" and isinstance(arg, list) and len(arg) == 2:
                a, b = (self.operand(v, at + (name, i)) for i, v in enumerate(arg))
                if all(ref_name(v) and self.chosen(ref_name(v)) for v in arg) and any(
                        c.other_than is not None for v in arg for c in self.choices(ref_name(v))):
                    raise Unresolved(f"the condition compares {ref_name(arg[0])} with {ref_name(arg[1])}: the "
                                     "deployments it allows are not read", at)
                return str(a) == str(b) if not isinstance(a, list) else a == b
            if name == "Fn::Not" and isinstance(arg, list) and len(arg) == 1:
                return not self.truth(arg[0], at + (name, 0), seen)
            if name in ("Fn::And", "Fn::Or") and isinstance(arg, list):
                found = [self.truth(v, at + (name, i), seen) for i, v in enumerate(arg)]
                return all(found) if name == "Fn::And" else any(found)
        raise Unresolved(f"a condition that cannot be evaluated ({json_path(at)})", at)


def _arguments(arg, at: JsonPath, name: str, usage: str, *counts: int, text_first: bool = False) -> list:
    """An intrinsic function's argument list, of one of ``counts`` lengths
    (its first a string, for ``text_first``), else why it cannot be read."""
    if not isinstance(arg, list) or len(arg) not in counts or (text_first and not isinstance(arg[0], str)):
        raise Unresolved(f"{name} takes {usage}", at)
    return arg


# Intrinsic function → its resolver; a name not here (Fn::Base64, Fn::GetAZs,
# Fn::Cidr, Fn::Transform, ...) has no stand-in in a policy.
_INTRINSICS = {"Ref": Resolver._ref, "Fn::GetAtt": Resolver._get_att, "Fn::Sub": Resolver._sub,
               "Fn::Join": Resolver._join, "Fn::Select": Resolver._select, "Fn::Split": Resolver._split,
               "Fn::If": Resolver._if, "Fn::FindInMap": Resolver._find_in_map,
               "Fn::ImportValue": Resolver._import_value}
