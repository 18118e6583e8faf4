"""Where policies really live: one input layer that turns a file (or a folder
of them) into named policies, each with the policy type its place implies and
a map from the policy's own JSON paths to positions in the file.

Read here:
- a bare policy document (as before: its own text, its type the caller's);
- what the AWS CLI prints around one (get-policy-version, get-role's
  AssumeRolePolicyDocument — URL-encoded or not —, get-role-policy,
  get-user-policy, get-group-policy, get-bucket-policy's JSON in a string,
  get-key-policy, get-queue-attributes, get-topic-attributes,
  describe-policy of Organizations, get-account-authorization-details, ...);
- CloudFormation templates, JSON or YAML (short-form tags included), with
  intrinsic functions and pseudo parameters resolved to stand-in values as
  cfn-policy-validator resolves them (cfn.py);
- Terraform plans (``terraform show -json``): a value known only after apply
  is reported as such, never guessed (terraform.py).

A file that holds none of these is, given by name, read as a bare policy (so
its findings say what is wrong with it); met in a folder, it is listed as
skipped, never dropped in silence. A template whose policy cannot be read (an
intrinsic function without a stand-in, a parameter without a value) yields
that policy with its ``problem`` set: validate reports it as an ERROR
finding, a proof refuses it with the message.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from dataclasses import dataclass, field, replace
from pathlib import Path

from .errors import InputError
from .grammar.source import JsonPath, Source, Span, json_path
from .inputs import MAX_EXPORT_BYTES, decode_text, read_bytes
from .translator.model import PolicyType

# Files a folder is searched for (templates are often *.template).
SUFFIXES = (".json", ".yaml", ".yml", ".template")


# Problems that leave a proof undecided (UNKNOWN, exit 3), a WARNING in
# validate: a plan's value known only after apply, a template with more
# deployments than are read (deployments.MAX_VARIANTS), a SAM managed policy or
# policy template (sam.py).
UNDECIDED_CODES = frozenset({"UNKNOWN_UNTIL_APPLY", "TOO_MANY_DEPLOYMENTS", "POLICY_NOT_READ"})



def unread_summary(value, limit: int = 500) -> str:
    """What a policy that is not read holds, for its message and its pairing
    (sources.same_unread compares the messages): the JSON up to ``limit``
    characters, and beyond that a digest of the whole — two grants that
    differ after the first 500 characters must not read as the same one."""
    import hashlib

    text = json.dumps(value, sort_keys=True, default=str)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… sha256:{hashlib.sha256(text.encode()).hexdigest()[:16]}"

@dataclass
class FilePositions:
    """Positions in one file by the path of a value in what the file holds:
    a JSON text's spans (grammar/source.py), or a YAML node tree's marks."""

    values: dict[JsonPath, Span] | None = None
    keys: dict[JsonPath, Span] | None = None
    source: Source | None = None
    # Each key a mapping repeats (YAML; JSON: the Source's), as grammar/source.py's DuplicateKey.
    yaml_duplicates: list | None = None
    yaml_source: Source | None = None  # a YAML file's text (offsets to lines, JSON text in its strings)

    def duplicates(self) -> list:
        if self.source is not None:
            return self.source.duplicate_keys()
        return self.yaml_duplicates or []

    def span(self, path: JsonPath, on_key: bool = False) -> Span | None:
        if self.source is not None:
            return self.source.key_span(path) if on_key else self.source.span(path)
        table = self.keys if on_key else self.values
        return (table or {}).get(path)


@dataclass
class NamedPolicy:
    """One policy found in a file."""

    file: str  # the file, as given
    name: str  # the policy within it: "" for a bare document, else e.g. "Resources.MyRole.Policies[0]"
    key: str  # what pairs it with its other version: the logical id and property path, or the address
    policy_type: PolicyType | None  # None: not implied by the file (a bare document: the caller's type)
    document: object = None  # dict/list, or text (JSON in a string, a bare file's bytes)
    # The file path of each value of the document: policy path → file path
    # (longest prefix wins); None: the document is the file's own text.
    places: dict[JsonPath, JsonPath] | None = None
    positions: FilePositions | None = None
    problem: str | None = None  # why the policy cannot be read (an unresolvable intrinsic, unknown until apply)
    problem_at: JsonPath = ()  # where in the file
    kind: str = "policy"  # what the file is: policy, aws-cli, cloudformation, terraform-plan
    # The finding validate reports for a problem: an unresolvable template
    # blocks (ERROR); a value known only after apply is a WARNING.
    problem_code: str = "UNRESOLVABLE_POLICY"
    # The resource the policy is attached to, where its place says
    # (check-no-public-access's --resource-type: AWS::S3::Bucket, ...).
    resource_type: str | None = None
    # A template's policy whose deployments differ (cfn.py): the policy of
    # each, named by its ``valuation`` (the conditions its Fn::If follow, the
    # map keys chosen), with the parameter choices (``deployments``: one
    # dict name → deployments.Choice per deployment) it stands for. The policy's own
    # document is the first's; validate and the proofs read every one.
    variants: list = field(default_factory=list)
    valuation: str = ""
    deployments: tuple = ()
    # Keys the policy's document repeats in the file, as (message, policy
    # path, span): ERRORs as in a bare document.
    duplicates: tuple = ()
    home: JsonPath = ()  # the file path of the property that holds the policy (a template's)
    # What the file around the policy gets wrong that CloudFormation still
    # deploys (a repeated key outside any policy, a logical id given twice):
    # WARNINGs, (issue code, message, span).
    notes: tuple = ()
    # A template resource's own ``Condition``: the resource, and so the
    # policy, exists only in the deployments where it holds — (the
    # condition's name, its definition as JSON), None when it always exists.
    exists_when: tuple | None = None
    # An AWS::IAM::Policy / ManagedPolicy's Roles, Users and Groups ("role:NAME", ...): who it is
    # attached to; None for a policy that is no such resource.
    attached_to: tuple | None = None
    # The output it is in says IsTruncated: true (a page of a paginated
    # AWS CLI output): what came after it was not exported.
    truncated: bool = False
    # JSON text in a JSON string: (its Source, each character's file offset),
    # built on first use (one parse however many findings); False: not so.
    inner: object = field(default=None, repr=False, compare=False)

    def each(self) -> list:
        """The policy of every deployment (itself when all deploy one)."""
        return self.variants or [self]

    @property
    def label(self) -> str:
        return f"{self.file}: {self.name}" if self.name else self.file

    def span(self, path: JsonPath, on_key: bool = False) -> Span | None:
        """The file position of the value (or member name) at ``path`` of the
        policy: the deepest part of the path the file itself holds (inside
        JSON text held in a JSON string: the very characters)."""
        if self.positions is None or self.places is None:
            return None
        path = tuple(path)
        outer = self.positions.source or self.positions.yaml_source
        if isinstance(self.document, str) and outer is not None and () in self.places:
            if self.inner is None:
                self.inner = (_inner_text(outer, self.places[()], self.document) if self.positions.source
                              else _yaml_inner_text(self.positions, self.places[()], self.document)) or False
            if self.inner:
                inner, offsets = self.inner
                found = inner.key_span(path) if on_key else inner.span(path)
                if found is not None:
                    return outer.span_at(offsets[found.start], offsets[found.end])
        for n in range(len(path), -1, -1):
            at = self.places.get(path[:n])
            if at is not None:
                return self.positions.span(at, on_key and n == len(path))
        return None

    def problem_span(self) -> Span | None:
        """Where the problem is: its value, else the nearest value around it
        the file holds (a plan leaves an unknown attribute out of ``after``)."""
        if self.positions is None:
            return None
        for n in range(len(self.problem_at), -1, -1):
            span = self.positions.span(self.problem_at[:n])
            if span is not None:
                return span
        return None


def _inner_text(source: Source, at: JsonPath, text: str) -> tuple[Source, list[int]] | None:
    """JSON text a JSON file holds as a string value (a bucket policy, a
    plan's policy), as a Source of its own, with the file offset of each of
    its characters (through the string's escapes); None when the string is
    not that text (URL-encoded, resolved from a template, ...)."""
    outer = source.span(at)
    if outer is None:
        return None
    try:
        same = json.loads(source.text[outer.start:outer.end]) == text
    except ValueError:
        same = False
    offsets = _string_offsets(source.text, outer.start, outer.end) if same else None
    if offsets is None or len(offsets) != len(text) + 1:
        return None
    return Source(text), offsets


def _yaml_inner_text(positions: FilePositions, at: JsonPath, text: str) -> tuple[Source, list[int]] | None:
    """JSON text a YAML file holds as a string scalar (plain, quoted, a
    ``|`` or ``>`` block), as a Source of its own with the file offset of
    each character: its non-blank characters are found in order in the
    scalar's own text (a quote's escape, a block's indentation and folds
    skipped); None when they are not all there (the text was built by an
    intrinsic function)."""
    span = positions.span(at)
    if span is None:
        return None
    raw, j, out = positions.yaml_source.text, span.start, []
    for c in text:
        if not c.isspace():
            j = raw.find(c, j, span.end)
            if j < 0:
                return None
            out.append(j)
            j += 1
        else:
            out.append(min(j, span.end))
    out.append(min(j, span.end))
    return Source(text), out


_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _string_offsets(text: str, start: int, end: int) -> list[int] | None:
    """For each character of the JSON string token text[start:end] (quotes
    included) once decoded, its offset in ``text``; one more for the end."""
    if end - start < 2 or text[start] != '"':
        return None
    out, i, last = [], start + 1, end - 1
    while i < last:
        out.append(i)
        if text[i] != "\\":
            i += 1
            continue
        kind = text[i + 1] if i + 1 < last else ""
        if kind == "u":
            code = int(text[i + 2:i + 6], 16)
            i += 6
            # a surrogate pair is one character decoded
            if 0xD800 <= code < 0xDC00 and text[i:i + 2] == "\\u":
                i += 6
        elif kind in _ESCAPES:
            i += 2
        else:
            return None
    out.append(last)
    return out


@dataclass
class Skipped:
    file: str
    why: str


@dataclass
class Found:
    """What a file or folder holds."""

    policies: list[NamedPolicy] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # messages


def read_sources(name: str, limit: int, stdin: bytes | None = None, truncate: bool = True,
                 parameters: dict | None = None) -> Found:
    """Every policy in ``name``: a file, or a folder read recursively (files
    ending in SUFFIXES, in sorted order, hidden folders left out). ``stdin``:
    the bytes of ``-``. ``limit``: the bytes of one bare policy (more, with
    ``truncate``, its first ``limit`` bytes: validate reports an oversized
    document itself; else an error); an export, template or plan may have
    up to MAX_EXPORT_BYTES. ``parameters``: values for templates' parameters
    (cfn.py)."""
    found = Found()
    if stdin is not None:
        _add(found, "<stdin>", *policies_in(stdin, "<stdin>", True, parameters, limit, truncate))
        return found
    path = Path(name)
    if not path.is_dir():
        data = read_bytes(name, name, max(limit, MAX_EXPORT_BYTES), truncate)
        _add(found, name, *policies_in(data, name, True, parameters, limit, truncate))
        return found
    for file in _walk(path):
        shown = str(file)
        try:
            data = read_bytes(file, shown, max(limit, MAX_EXPORT_BYTES), truncate)
            _add(found, shown, *policies_in(data, shown, False, parameters, limit, truncate))
        except InputError as e:
            found.unreadable.append(str(e))
    return found


def _bounded(data: bytes, limit: int, truncate: bool, where: str) -> bytes:
    """A bare policy's bytes: at most ``limit`` (the validator reports an
    oversized document from its first ``limit`` bytes), else an InputError.
    Exports, templates and plans may be larger (MAX_EXPORT_BYTES): they are
    not one document."""
    if len(data) <= limit:
        return data
    if truncate:
        return data[:limit]
    raise InputError(f"{where}: more than the {limit} bytes a policy may have")


def _add(found: Found, file: str, policies: list[NamedPolicy], why: str | None) -> None:
    found.policies.extend(policies)
    if not policies:
        found.skipped.append(Skipped(file, why or "holds no policy"))


def _walk(folder: Path):
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for f in sorted(files):
            if f.lower().endswith(SUFFIXES) and not f.startswith("."):
                yield Path(root) / f


def policies_in(data: bytes, file: str, given: bool = True, parameters: dict | None = None,
                limit: int | None = None, truncate: bool = True) -> tuple[list[NamedPolicy], str | None]:
    """The policies one file holds, and when it holds none, why. ``given``:
    named by the user (a file that is none of the known shapes is then a
    bare policy; in a folder it holds none). Text that is not JSON is a bare
    policy too (the validator says what is wrong with it); a YAML file that
    does not parse is an InputError."""
    # A bare document is held to the one-policy limit (``limit``); a file of
    # many policies (an export, a plan) is read whole.
    def bare():
        return [NamedPolicy(file, "", "", None, data if limit is None else _bounded(data, limit, truncate, file))]

    if not given and not file.lower().endswith(SUFFIXES):
        return [], "not a policy file"
    try:
        text = decode_text(data, file)
    except InputError:
        return bare(), None
    stripped = text.lstrip()
    value, positions = None, None
    if stripped.startswith(("{", "[")) or file.lower().endswith(".json"):
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            return bare(), None
        positions = FilePositions(source=Source(text, file))
    elif file.lower().endswith((".yaml", ".yml", ".template")) or "Resources:" in text:
        from .cfn import load_yaml

        value, positions = load_yaml(text, file)
    else:
        return bare(), None
    none = "holds no policy, template, plan or AWS CLI output iamlogic reads"
    if not isinstance(value, dict):
        return (bare(), None) if given else ([], none)
    if "Statement" in value:
        return bare(), None  # a policy document: read as its own text
    from .cfn import is_template, template_policies
    from .terraform import is_plan, plan_policies

    if is_template(value):
        from .cfn import duplicates_in

        found = duplicates_in([replace(p, positions=positions, variants=[replace(v, positions=positions)
                                                                         for v in p.variants])
                               for p in template_policies(value, file, parameters)], positions, file)
        return found, None if found else "a CloudFormation template whose resources hold no policy"
    if is_plan(value):
        found = [replace(p, positions=positions) for p in plan_policies(value, file)]
        return found, None if found else "a Terraform plan whose resources hold no policy"
    found = cli_policies(value, file)
    if found:
        return [replace(p, positions=positions, truncated=value.get("IsTruncated") is True) for p in found], None
    if value.get("IsTruncated") is True:  # a page of a list-* output: none of its entries is a policy
        return [], f"{truncated_note()}; it holds no policy"
    return (bare(), None) if given else ([], none)


def truncated_note() -> str:
    """What a page of a paginated output (IsTruncated: true) leaves out."""
    return ("IsTruncated is true: the output is one page, and what came after it was not exported "
            "(no answer can be about it; export with the AWS CLI's default pagination, or follow Marker)")


def truncated_warnings(policies) -> list[str]:
    """One warning per file of ``policies`` that is a truncated page."""
    files = dict.fromkeys(p.file for p in policies if p.truncated)
    return [f"{file}: {truncated_note()}" for file in files]


# ---------------------------------------------------------------- AWS CLI outputs


def document_value(value: object) -> object:
    """A policy as the AWS API hands it over: an object, JSON text, or that
    text URL-encoded (IAM's GetRole, GetRolePolicy, GetPolicyVersion and
    GetAccountAuthorizationDetails return it so; the CLI decodes it, other
    clients may not)."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("%7B") or text.startswith("%7b"):
            return urllib.parse.unquote(text)
    return value


def _doc(file: str, name: str, key: str, kind: PolicyType, value: object, at: JsonPath,
         resource_type: str | None = None) -> NamedPolicy:
    value = document_value(value)
    # JSON text inside a string: every path of the policy is at the string.
    places = {(): at} if isinstance(value, str) else _same_places(value, at)
    return NamedPolicy(file, name, key, kind, value, places, kind="aws-cli", resource_type=resource_type)


def _same_places(value: object, at: JsonPath) -> dict[JsonPath, JsonPath]:
    """policy path → file path for a document held as it is at ``at``."""
    places: dict[JsonPath, JsonPath] = {}
    stack = [(value, ())]
    while stack:
        v, p = stack.pop()
        places[p] = at + p
        if isinstance(v, dict):
            stack.extend((c, p + (k,)) for k, c in v.items())
        elif isinstance(v, list):
            stack.extend((c, p + (i,)) for i, c in enumerate(v))
    return places


_ORG_TYPES = {"SERVICE_CONTROL_POLICY": PolicyType.SCP, "RESOURCE_CONTROL_POLICY": PolicyType.RCP}


def cli_policies(value: dict, file: str) -> list[NamedPolicy]:
    """The policies an AWS CLI output holds, each with the type its command
    implies; [] when the output is none the CLI prints around a policy."""
    out: list[NamedPolicy] = []
    version = value.get("PolicyVersion")
    if isinstance(version, dict) and "Document" in version:  # iam get-policy-version
        out.append(_doc(file, f"PolicyVersion {version.get('VersionId', '')}".strip(), "PolicyVersion",
                        PolicyType.IDENTITY, version["Document"], ("PolicyVersion", "Document")))
    role = value.get("Role")
    if isinstance(role, dict) and "AssumeRolePolicyDocument" in role:  # iam get-role
        out.append(_doc(file, f"Role {role.get('RoleName', '')} AssumeRolePolicyDocument", "AssumeRolePolicyDocument",
                        PolicyType.TRUST, role["AssumeRolePolicyDocument"], ("Role", "AssumeRolePolicyDocument"),
                        "AWS::IAM::AssumeRolePolicyDocument"))
    if "PolicyDocument" in value and "PolicyName" in value:  # get-role-policy, get-user-policy, get-group-policy
        owner = next((f"{k.removesuffix('Name')} {value[k]}" for k in ("RoleName", "UserName", "GroupName")
                      if k in value), "")
        out.append(_doc(file, f"{owner} inline policy {value['PolicyName']}".strip(), f"inline {value['PolicyName']}",
                        PolicyType.IDENTITY, value["PolicyDocument"], ("PolicyDocument",)))
    policy = value.get("Policy")
    if isinstance(policy, str):  # s3api get-bucket-policy, kms get-key-policy, lambda get-policy
        attached = ("AWS::KMS::Key" if "PolicyName" in value else "AWS::Lambda::Function" if "RevisionId" in value
                    else "AWS::S3::Bucket" if len(value) == 1 else None)
        out.append(_doc(file, "Policy", "Policy", PolicyType.RESOURCE, policy, ("Policy",), attached))
    elif isinstance(policy, dict) and "Content" in policy:  # organizations describe-policy
        summary = policy.get("PolicySummary") or {}
        kind = _ORG_TYPES.get(summary.get("Type"))
        if kind is not None:
            out.append(_doc(file, f"{summary.get('Name', 'Policy')}", "Content", kind, policy["Content"],
                            ("Policy", "Content")))
    attributes = value.get("Attributes")
    if isinstance(attributes, dict) and isinstance(attributes.get("Policy"), str):  # sqs / sns attributes
        topic = "TopicArn" in attributes or "SubscriptionsConfirmed" in attributes
        out.append(_doc(file, "Attributes.Policy", "Attributes.Policy", PolicyType.RESOURCE, attributes["Policy"],
                        ("Attributes", "Policy"), "AWS::SNS::Topic" if topic else "AWS::SQS::Queue"))
    for field_name, attached in (("ResourcePolicy", "AWS::SecretsManager::Secret"),  # get-resource-policy
                                 ("policyText", "AWS::ECR::Repository")):  # ecr get-repository-policy
        if isinstance(value.get(field_name), str):
            out.append(_doc(file, field_name, field_name, PolicyType.RESOURCE, value[field_name], (field_name,),
                            attached))
    if any(k in value for k in ("UserDetailList", "RoleDetailList", "GroupDetailList")) or \
            isinstance(value.get("Policies"), list) and any(isinstance(p, dict) and "PolicyVersionList" in p
                                                            for p in value["Policies"]):
        out.extend(_authorization_details(value, file))
    return out


def _authorization_details(value: dict, file: str) -> list[NamedPolicy]:
    """iam get-account-authorization-details: each user's, group's and
    role's inline policies, each role's trust policy, each managed policy's
    versions (every version: a non-default one can be made default)."""
    out = []
    for list_name, id_name, inline in (("UserDetailList", "UserName", "UserPolicyList"),
                                       ("GroupDetailList", "GroupName", "GroupPolicyList"),
                                       ("RoleDetailList", "RoleName", "RolePolicyList")):
        for i, entry in enumerate(value.get(list_name) or ()):
            if not isinstance(entry, dict):
                continue
            who = f"{id_name.removesuffix('Name')} {entry.get(id_name, i)}"
            for j, p in enumerate(entry.get(inline) or ()):
                if isinstance(p, dict) and "PolicyDocument" in p:
                    out.append(_doc(file, f"{who} inline policy {p.get('PolicyName', j)}",
                                    f"{who} inline {p.get('PolicyName', j)}", PolicyType.IDENTITY,
                                    p["PolicyDocument"], (list_name, i, inline, j, "PolicyDocument")))
            if "AssumeRolePolicyDocument" in entry:
                out.append(_doc(file, f"{who} AssumeRolePolicyDocument", f"{who} trust", PolicyType.TRUST,
                                entry["AssumeRolePolicyDocument"], (list_name, i, "AssumeRolePolicyDocument"),
                                "AWS::IAM::AssumeRolePolicyDocument"))
    for i, p in enumerate(value.get("Policies") or ()):
        if not isinstance(p, dict):
            continue
        for j, v in enumerate(p.get("PolicyVersionList") or ()):
            if isinstance(v, dict) and "Document" in v:
                label = f"{p.get('Arn', p.get('PolicyName', i))} {v.get('VersionId', j)}"
                if v.get("IsDefaultVersion"):
                    label += " (default)"
                out.append(_doc(file, label, f"{p.get('Arn', p.get('PolicyName', i))} {v.get('VersionId', j)}",
                                PolicyType.IDENTITY, v["Document"], ("Policies", i, "PolicyVersionList", j, "Document")))
                if v.get("IsDefaultVersion"):
                    # The version in force, once more under the policy's own key: two versions of an
                    # export pair it whichever version id is the default, so a default moved to a
                    # wider version is new access (paired by version id alone, it was PASS).
                    arn = p.get("Arn", p.get("PolicyName", i))
                    out.append(_doc(file, f"{arn} in force ({v.get('VersionId', j)})", f"{arn} in force",
                                    PolicyType.IDENTITY, v["Document"],
                                    ("Policies", i, "PolicyVersionList", j, "Document")))
    return out


def where(policy: NamedPolicy) -> str:
    """The file and line of a policy's problem, for messages."""
    span = policy.problem_span()
    at = f"{policy.file}:{span.line}:{span.column}" if span else policy.file
    return f"{at}: {policy.name + ': ' if policy.name else ''}{policy.problem}" + \
        (f" (at {json_path(policy.problem_at)})" if policy.problem_at else "")

