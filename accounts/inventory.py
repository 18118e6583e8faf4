"""An account-data folder read into principals and the policies each one
carries, ready to be handed to the kernel as a scenario's ``policies``.

The folder (``--account-data DIR``):

- ``authorization/*.json`` — one ``aws iam get-account-authorization-details``
  output per account (users with their groups, inline and attached policies,
  boundaries and tags; groups; roles with trust policies; managed policies
  with their versions, of which the default version is read unless another
  is asked for);
- ``organization.json`` — optional, the organization tree (organization.py);
- ``resources/*.json`` — optional resource policies: each file an object
  ``{"arn": ARN, "policy": DOCUMENT}`` (``"account"`` too where the ARN does
  not name one, as for S3 buckets), or a list of such objects.

A malformed entity is reported (Skipped: which file, which entity, why) and
left out; the rest is read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..inputs import MAX_INPUT_BYTES, MAX_EXPORT_BYTES, quote, read_json
from ..kernel.request import resource_account_of
from ..translator import Policy, PolicyType
from .documents import BadDocument, read_document
from .organization import Organization, read_organization


@dataclass(frozen=True)
class Skipped:
    """An entity left out, and why."""

    file: str
    entity: str
    why: str

    def __str__(self) -> str:
        return f"{self.file}: {self.entity}: {self.why}"


@dataclass
class Principal:
    """A user, or a role (standing for any session of it)."""

    arn: str
    kind: str  # "user" | "role"
    account: str
    name: str
    identity: list[Policy] = field(default_factory=list)  # inline, attached, and (users) their groups'
    boundary: Policy | None = None
    tags: dict[str, str] = field(default_factory=dict)
    trust: Policy | None = None  # roles
    instance_profiles: list[str] = field(default_factory=list)  # roles: the profiles' ARNs (EC2 hands them out)
    groups: list[str] = field(default_factory=list)  # users: their groups' ARNs
    # Why some of its identity policies could not be read: its answers are
    # then UNDECIDED, unless an explicit deny decides them (fail closed).
    incomplete: list[str] = field(default_factory=list)
    unique_id: str | None = None  # the export's UserId / RoleId (AIDA…, AROA…): aws:userid

    @property
    def caller(self) -> str:
        """The ARN a request by this principal carries (a role's session)."""
        if self.kind == "role":
            return f"arn:aws:sts::{self.account}:assumed-role/{self.name}/session"
        return self.arn


@dataclass
class ResourcePolicy:
    arn: str
    account: str | None
    policy: Policy


@dataclass
class AccountData:
    principals: dict[str, Principal] = field(default_factory=dict)  # by ARN
    resources: dict[str, ResourcePolicy] = field(default_factory=dict)  # by ARN
    groups: dict[str, list[Policy]] = field(default_factory=dict)  # group ARN → its policies
    managed: set[str] = field(default_factory=set)  # the managed policies' ARNs (resources of iam:*Policy*)
    managed_documents: dict[str, Policy] = field(default_factory=dict)  # ARN → its default version
    versions: dict[str, dict[str, Policy]] = field(default_factory=dict)  # ARN → its non-default versions
    organization: Organization | None = None
    skipped: list[Skipped] = field(default_factory=list)
    read: dict[str, int] = field(default_factory=dict)  # entity kind → how many read
    # Resources whose policy (a resource or trust policy) could not be read,
    # and why: questions about them are UNDECIDED, never answered as if the
    # resource had no policy.
    unreadable: dict[str, str] = field(default_factory=dict)
    # Exports that say IsTruncated: true: one page, the entities after it not exported.
    truncated: list[str] = field(default_factory=list)
    # Users and roles left out whole (a boundary not in the export, a trust
    # policy that could not be read), and why: a path through one is unknown.
    left_out: dict[str, str] = field(default_factory=dict)
    _role_names: dict[tuple[str, str], str] = field(default_factory=dict, repr=False, compare=False)

    def role_named(self, account: str, name: str) -> str | None:
        """The ARN of the account's role of that name, whatever its path (a
        role's name is unique in its account; an STS session ARN carries the
        name without the path)."""
        if len(self._role_names) != sum(1 for p in self.principals.values() if p.kind == "role"):
            self._role_names.clear()
            self._role_names.update({(p.account, p.name): p.arn for p in self.principals.values()
                                     if p.kind == "role"})
        return self._role_names.get((account, name))

    def principal(self, arn: str) -> Principal:
        found = self.principals.get(arn)
        if found is None:
            raise InputError(f"{_name(arn)}: no such user or role in the account data")
        return found

    def accounts_held(self) -> frozenset[str]:
        """The accounts whose users or roles the exports hold."""
        cached = self.__dict__.get("_accounts")
        if cached is None or cached[0] != len(self.principals):
            cached = self.__dict__["_accounts"] = (len(self.principals),
                                                   frozenset(p.account for p in self.principals.values()))
        return cached[1]

    def all_policies(self) -> list:
        """Every policy of the data, each once: identity, boundary, trust,
        group, managed (each version), resource, SCP and RCP."""
        policies = [p for pr in self.principals.values() for p in (*pr.identity, pr.boundary, pr.trust)
                    if p is not None]
        policies += list(self.managed_documents.values())
        policies += [p for ps in self.groups.values() for p in ps]
        policies += [p for vs in self.versions.values() for p in vs.values()]
        policies += [r.policy for r in self.resources.values()]
        if self.organization is not None:
            policies += list(self.organization.scps.values()) + list(self.organization.rcps.values())
        return list({id(p): p for p in policies}.values())

    def keys_named(self) -> frozenset[str]:
        """Every condition key a policy of the data names (lower case), in a
        condition or as a policy variable (``${aws:username}``): a key none
        names cannot change a decision."""
        cached = self.__dict__.get("_keys_named")
        if cached is None:
            keys: set[str] = set()
            for policy in self.all_policies():
                for st in policy.statements:
                    texts = [p.text for p in (*(st.resource or ()), *(st.not_resource or ()))]
                    for clause in st.condition:
                        keys.add(clause.key.lower())
                        texts += [v.text for v in clause.values if v.text]
                    keys.update(k.lower() for t in texts for k in re.findall(r"\$\{([^}]*)\}", t))
            cached = self.__dict__["_keys_named"] = frozenset(keys)
        return cached

    def summary(self) -> str:
        read = ", ".join(f"{n} {kind}" for kind, n in self.read.items())
        broken = []
        incomplete = sum(1 for p in self.principals.values() if p.incomplete)
        if incomplete:
            broken.append(f"{incomplete} principals with policies that could not be read")
        if self.unreadable:
            broken.append(f"{len(self.unreadable)} resource or trust policies that could not be read")
        if self.organization is not None and self.organization.broken:
            broken.append(f"{len(self.organization.broken)} SCPs or RCPs that could not be read")
        note = f"; {', '.join(broken)} (the answers they touch are UNDECIDED)" if broken else ""
        if self.organization is not None and self.organization.implied:
            note += (f"; RCPFullAWSAccess implied at {len(self.organization.implied)} organization nodes that list "
                     f"no RCP (AWS attaches it to every node)")
        return f"read {read}{note}; skipped {len(self.skipped)}"


def _tags(raw: object) -> dict[str, str]:
    if not isinstance(raw, list):
        return {}
    return {t["Key"]: t["Value"] for t in raw
            if isinstance(t, dict) and isinstance(t.get("Key"), str) and isinstance(t.get("Value"), str)}


# IAM user and role names (IAM API Reference: [\w+=,.@-]+, 1-64 characters).
_NAME = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)
_ACCOUNT = re.compile(r"\d{12}")


def _name(value: object) -> str:
    """An entity's name as messages quote it: short."""
    return value if isinstance(value, str) and len(value) <= 200 else quote(value)


class _Export:
    """One get-account-authorization-details output."""

    def __init__(self, data: AccountData, path: Path, versions: dict[str, str]):
        self.data, self.file, self.versions = data, str(path), versions
        self.raw = read_json(path, str(path), MAX_EXPORT_BYTES)
        if not isinstance(self.raw, dict):
            raise InputError(f"{path}: expected the object get-account-authorization-details prints")
        if self.raw.get("IsTruncated") is True:
            data.truncated.append(self.file)
        self.managed: dict[str, Policy] = {}
        self.groups: dict[str, list[Policy]] = {}
        self.group_arns: dict[str, str] = {}
        self.incomplete: dict[str, list[str]] = {}  # entity → why some of its policies are missing

    def skip(self, entity: str, why: str) -> None:
        self.data.skipped.append(Skipped(self.file, entity, why))

    def count(self, kind: str) -> None:
        self.data.read[kind] = self.data.read.get(kind, 0) + 1

    def document(self, raw, policy_type: PolicyType, name: str, entity: str) -> Policy | None:
        try:
            return read_document(raw, policy_type, name)
        except BadDocument as e:
            self.skip(entity, f"{name}: {e}")
            return None

    def entries(self, key: str) -> list:
        value = self.raw.get(key, [])
        if not isinstance(value, list):
            # Which entities it held is unknown: no answer could be trusted.
            raise InputError(f"{self.file}: {key}: expected a list (the export is not whole)")
        return value

    def read(self) -> None:
        for p in self.entries("Policies"):
            self.managed_policy(p)
        for g in self.entries("GroupDetailList"):
            self.group(g)
        for u in self.entries("UserDetailList"):
            self.principal(u, "user")
        for r in self.entries("RoleDetailList"):
            self.principal(r, "role")

    def listed(self, entry: dict, key: str, entity: str) -> list:
        """A list field of an entry; anything else is reported, and read as
        empty (the caller decides whether what is missing can widen)."""
        value = entry.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.skip(entity, f"{key} is not a list")
            self.missing(entity, f"{key} is not a list")
            return []
        return value

    def missing(self, entity: str, why: str) -> None:
        """Some policy of the entity could not be read: its answers are not
        decided from what remains (a policy left out may have denied)."""
        self.incomplete.setdefault(entity, []).append(why)

    def managed_policy(self, p) -> None:
        arn = p.get("Arn") if isinstance(p, dict) else None
        if not isinstance(arn, str):
            self.skip("Policies", "a managed policy without an Arn")
            return
        versions = [v for v in self.listed(p, "PolicyVersionList", arn) if isinstance(v, dict)]
        wanted = self.versions.get(arn)
        if wanted is not None:  # a version asked for by name
            default = next((v for v in versions if v.get("VersionId") == wanted), None)
            if default is None or "Document" not in default:
                self.skip(arn, f"version {wanted} (asked for) is not in the export")
                return
        else:
            default = next((v for v in versions if v.get("IsDefaultVersion") is True), None)
            if default is None:
                default = next((v for v in versions if v.get("VersionId") == p.get("DefaultVersionId")), None)
            if default is None or "Document" not in default:
                self.skip(arn, "no default version document")
                return
        policy = self.document(default["Document"], PolicyType.IDENTITY, arn, arn)
        if policy is not None:
            self.managed[arn] = policy
            self.data.managed.add(arn)
            self.data.managed_documents[arn] = policy
            self.count("managed policies")
            # The other versions: what iam:SetDefaultPolicyVersion can make
            # the policy (read as the default one, under the same name).
            for v in versions:
                vid = v.get("VersionId")
                if v is default or not isinstance(vid, str) or "Document" not in v:
                    continue
                try:
                    other = read_document(v["Document"], PolicyType.IDENTITY, arn)
                except BadDocument as e:
                    self.skip(arn, f"version {vid}: {e} (not a version SetDefaultPolicyVersion is followed to)")
                    continue
                self.data.versions.setdefault(arn, {})[vid] = other

    def attached_and_inline(self, entry: dict, entity: str, inline_key: str) -> list[Policy]:
        out = []
        for item in self.listed(entry, inline_key, entity):
            label = item.get("PolicyName", "?") if isinstance(item, dict) else None
            name = f"{entity} inline {_name(label)}" if isinstance(item, dict) else f"{entity} inline"
            policy = self.document(item.get("PolicyDocument") if isinstance(item, dict) else item,
                                   PolicyType.IDENTITY, name, entity)
            if policy is None:
                self.missing(entity, f"{name} could not be read")
            else:
                out.append(policy)
        for item in self.listed(entry, "AttachedManagedPolicies", entity):
            arn = item.get("PolicyArn") if isinstance(item, dict) else None
            if not isinstance(arn, str) or arn not in self.managed:
                why = f"attached managed policy {_name(arn)} is not in the export (or was skipped)"
                self.skip(entity, why)
                self.missing(entity, why)
                continue
            out.append(self.managed[arn])
        return out

    def group(self, g) -> None:
        name = g.get("GroupName") if isinstance(g, dict) else None
        if not isinstance(name, str):
            self.skip("GroupDetailList", "a group without a GroupName")
            return
        self.groups[name] = self.attached_and_inline(g, f"group {name}", "GroupPolicyList")
        arn = g.get("Arn")
        if isinstance(arn, str) and resource_account_of(arn) is not None:
            self.group_arns[name] = arn
            if not self.incomplete.get(f"group {name}"):
                self.data.groups[arn] = self.groups[name]
        self.count("groups")

    def principal(self, entry, kind: str) -> None:
        arn = entry.get("Arn") if isinstance(entry, dict) else None
        name = entry.get("UserName" if kind == "user" else "RoleName") if isinstance(entry, dict) else None
        account = resource_account_of(arn) if isinstance(arn, str) else None
        if not isinstance(name, str) or account is None:
            self.skip("UserDetailList" if kind == "user" else "RoleDetailList", f"a {kind} without a name or ARN")
            return
        if not _NAME.fullmatch(name) or f":{kind}/" not in arn or arn.rsplit("/", 1)[-1] != name:
            self.skip(f"{kind} {_name(arn)}", f"the ARN and the name {_name(name)} do not make an IAM {kind}")
            return
        entity = f"{kind} {arn}"
        unique = entry.get("UserId" if kind == "user" else "RoleId")
        principal = Principal(arn, kind, account, name, tags=_tags(entry.get("Tags")),
                              unique_id=unique if isinstance(unique, str) and unique else None)
        listed_tags = entry.get("Tags")
        if listed_tags is not None and (not isinstance(listed_tags, list) or len(principal.tags) != len(listed_tags)):
            # A tag left out could be what a Deny's condition looks for.
            self.skip(entity, "Tags: expected a list of {Key, Value} strings")
            self.missing(entity, "its tags could not all be read")
        principal.identity = self.attached_and_inline(entry, entity, "UserPolicyList" if kind == "user"
                                                      else "RolePolicyList")
        if kind == "user":
            for group in self.listed(entry, "GroupList", entity):
                if not isinstance(group, str) or group not in self.groups:
                    why = f"group {_name(group)} is not in the export (or was skipped)"
                    self.skip(entity, why)
                    self.missing(entity, why)
                    continue
                principal.identity += self.groups[group]
                if group in self.group_arns:
                    principal.groups.append(self.group_arns[group])
                principal.incomplete += self.incomplete.get(f"group {group}", [])
        else:
            trust = self.document(entry.get("AssumeRolePolicyDocument"), PolicyType.TRUST, f"{arn} trust policy",
                                  entity)
            if trust is None:
                # A role whose trust policy cannot be read is left out whole:
                # who may assume it is unknown, and asking is UNDECIDED.
                self.data.unreadable[arn] = f"the trust policy of {arn} could not be read"
                self.data.left_out[arn] = self.data.unreadable[arn]
                return
            principal.trust = trust
            principal.instance_profiles = [ip["Arn"] for ip in self.listed(entry, "InstanceProfileList", entity)
                                           if isinstance(ip, dict) and isinstance(ip.get("Arn"), str)]
        boundary = entry.get("PermissionsBoundary")
        if boundary is not None:
            arn_b = boundary.get("PermissionsBoundaryArn") if isinstance(boundary, dict) else None
            if not isinstance(arn_b, str) or arn_b not in self.managed:
                # Without its boundary the principal would look more powerful
                # than it is: left out, not read without it.
                why = f"permissions boundary {_name(arn_b)} is not in the export (or was skipped)"
                self.skip(entity, why)
                self.data.left_out[arn] = why
                return
            principal.boundary = self.managed[arn_b]
        principal.incomplete += self.incomplete.get(entity, [])
        self.data.principals[arn] = principal
        self.count("users" if kind == "user" else "roles")


def _resources(data: AccountData, folder: Path) -> None:
    for path in sorted(folder.glob("*.json")):
        try:
            raw = read_json(path, str(path), MAX_INPUT_BYTES)
        except InputError as e:
            # A file of resource policies that cannot be read: which
            # resources it held is unknown, so no resource can be answered
            # as if it had no policy.
            data.skipped.append(Skipped(str(path), "resource policies", str(e).removeprefix(f"{path}: ")))
            data.unreadable["*"] = f"{path} could not be read ({str(e).removeprefix(f'{path}: ')})"
            continue
        for i, item in enumerate(raw if isinstance(raw, list) else [raw]):
            arn = item.get("arn") if isinstance(item, dict) else None
            if not isinstance(arn, str) or "policy" not in item:
                data.skipped.append(Skipped(str(path), f"entry {i}", 'expected {"arn": ..., "policy": ...}'))
                data.unreadable["*"] = f"{path} entry {i} names no resource"
                continue
            account = item.get("account")
            if account is not None and not (isinstance(account, str) and _ACCOUNT.fullmatch(account)):
                data.skipped.append(Skipped(str(path), _name(arn), "account is not a 12-digit account id"))
                data.unreadable[arn] = f"the policy of {_name(arn)} names its account wrongly"
                continue
            policy_type = PolicyType.TRUST if ":iam:" in arn and ":role/" in arn else PolicyType.RESOURCE
            try:
                policy = read_document(item["policy"], policy_type, arn)
            except BadDocument as e:
                data.skipped.append(Skipped(str(path), _name(arn), str(e)))
                data.unreadable[arn] = f"the policy of {_name(arn)} could not be read ({e})"
                continue
            data.resources[arn] = ResourcePolicy(arn, account or resource_account_of(arn), policy)
            data.read["resource policies"] = data.read.get("resource policies", 0) + 1


def load_account_data(folder: str | Path, policy_versions: dict[str, str] | None = None) -> AccountData:
    """Read an account-data folder (see the module's documentation).
    ``policy_versions``: managed policy ARN → the version to read instead of
    the default one (to ask what a rollback or a new version would change)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder of account data")
    data = AccountData()
    exports = sorted((folder / "authorization").glob("*.json"))
    if not exports:
        raise InputError(f"{folder}: no authorization/*.json (get-account-authorization-details outputs)")
    for path in exports:
        _Export(data, path, policy_versions or {}).read()
    organization = folder / "organization.json"
    if organization.exists() or organization.is_symlink():  # read, or refused: never silently left out
        data.organization = read_organization(organization, data.skipped)
    if (folder / "resources").exists() and not (folder / "resources").is_dir():
        raise InputError(f"{folder / 'resources'}: not a folder of resource policies")
    if (folder / "resources").is_dir():
        _resources(data, folder / "resources")
    # A role's trust policy is its resource policy for sts:AssumeRole.
    for p in data.principals.values():
        if p.trust is not None and p.arn not in data.resources:
            data.resources[p.arn] = ResourcePolicy(p.arn, p.account, p.trust)
    return data
