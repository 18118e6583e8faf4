"""The organization tree: root → OUs → accounts, with the SCPs and RCPs
attached at each node.

``organization.json``::

    {
      "id": "o-exampleorg1",
      "management_account": "111111111111",
      "scps": {"FullAWSAccess": DOCUMENT, "DenyLeaveOrg": DOCUMENT},
      "rcps": {"RCPFullAWSAccess": DOCUMENT},
      "root": {"id": "r-ab12", "name": "Root", "scps": ["FullAWSAccess"], "rcps": ["RCPFullAWSAccess"],
               "children": [
                 {"ou": "ou-ab12-prod", "name": "Prod", "scps": ["FullAWSAccess"], "children": [
                   {"account": "222222222222", "name": "prod", "scps": ["FullAWSAccess"]}]}]}
    }

Documents are objects or JSON text. A node names its policies; each level of
an account's path (root first, the account last) must allow, as SEMANTICS §1
says; SCPs and RCPs do not apply to the management account.

RCPs (docs/readings.md A8): AWS attaches RCPFullAWSAccess to the root, every
OU and every account when RCPs are enabled, and it cannot be detached
(AWS Organizations User Guide, "Resource control policies (RCPs)"). So an
organization whose tree names no RCP anywhere has RCPs disabled (no RCP
level applies), and once any node names one, every level holds
RCPFullAWSAccess whether the node lists it or not: a node that lists none
is not a level allowing nothing. ``implied`` says which nodes got it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..inputs import MAX_INPUT_BYTES, quote, read_json
from ..translator import Policy, PolicyType
from .documents import BadDocument, read_document


@dataclass
class Node:
    kind: str  # "root" | "ou" | "account"
    id: str
    name: str
    scps: list[str] = field(default_factory=list)
    rcps: list[str] = field(default_factory=list)
    children: list["Node"] = field(default_factory=list)


@dataclass
class Organization:
    id: str | None  # the caller's aws:PrincipalOrgID when its account is in the tree
    root: Node
    management_account: str | None
    scps: dict[str, Policy]
    rcps: dict[str, Policy]
    paths: dict[str, list[Node]] = field(default_factory=dict)  # account → root … account
    # (kind, name) → why it could not be read (or is named but not defined):
    # a level that holds one is not decided without it (fail closed).
    broken: dict[tuple[str, str], str] = field(default_factory=dict)
    implied: list[str] = field(default_factory=list)  # nodes given RCPFullAWSAccess that they do not list

    @property
    def rcps_enabled(self) -> bool:
        """Whether any node of the tree names an RCP (else RCPs are disabled)."""
        def names(node: Node) -> bool:
            return bool(node.rcps) or any(names(c) for c in node.children)
        return names(self.root)

    def accounts(self) -> list[str]:
        return list(self.paths)

    def broken_levels(self, account: str | None, kind: str) -> list[tuple[str, str]]:
        """(layer name, why) for each level of the account's path whose
        SCPs (RCPs) could not all be read."""
        if account is None or account == self.management_account or account not in self.paths:
            return []
        out = []
        for i, node in enumerate(self.paths[account]):
            names = node.scps if kind == "scps" else node.rcps
            why = [self.broken[(kind, n)] for n in names if (kind, n) in self.broken]
            if why:
                out.append((f"{kind[:-1]}/{i}", f"the {kind[:-1].upper()} level {node.kind} {node.name}: "
                                                f"{'; '.join(why)}"))
        return out

    def levels(self, account: str | None, kind: str) -> list[dict] | None:
        """The scenario's ``scps`` / ``rcps`` levels for an account (root
        first), or None where none apply: an account outside the
        organization, or its management account."""
        if account is None or account == self.management_account or account not in self.paths:
            return None
        if kind == "rcps" and not self.rcps_enabled:
            return None
        table = self.scps if kind == "scps" else self.rcps
        out = []
        for node in self.paths[account]:
            names = node.scps if kind == "scps" else node.rcps
            policies = [table[n] for n in names if n in table]
            if kind == "rcps":
                policies.append(RCP_FULL_AWS_ACCESS)  # attached to every node, never detached
            out.append({"name": f"{node.kind} {node.name}", "policies": policies})
        return out


# The AWS managed RCP every node holds while RCPs are enabled.
RCP_FULL_AWS_ACCESS = read_document({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}, PolicyType.RCP,
    "RCPFullAWSAccess (attached by AWS to every node)")


def _strings(raw: dict, key: str, where: str) -> list[str]:
    value = raw.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{where}.{key}: expected a list of policy names")
    return list(value)


def _node(raw: object, where: str, kind: str, depth: int = 0) -> Node:
    if not isinstance(raw, dict):
        raise InputError(f"{where}: expected an object")
    if depth > 100:
        raise InputError(f"{where}: the tree is more than 100 levels deep (AWS allows 5 levels of OUs)")
    ident = raw.get("id") if kind == "root" else raw.get(kind)
    if not isinstance(ident, str) or not ident:
        raise InputError(f"{where}: missing {'id' if kind == 'root' else kind!r}")
    name = raw.get("name") or ident
    if not isinstance(name, str):
        raise InputError(f"{where}.name: expected a string")
    node = Node(kind, ident, name, _strings(raw, "scps", where), _strings(raw, "rcps", where))
    children = raw.get("children") or []
    if not isinstance(children, list):
        raise InputError(f"{where}.children: expected a list")
    for i, child in enumerate(children):
        child_kind = "account" if isinstance(child, dict) and "account" in child else "ou"
        if kind == "account":
            raise InputError(f"{where}: an account has no children")
        node.children.append(_node(child, f"{where}.children[{i}]", child_kind, depth + 1))
    return node


def read_organization(path: Path, skipped: list) -> Organization:
    from .inventory import Skipped

    raw = read_json(path, str(path), MAX_INPUT_BYTES)
    if not isinstance(raw, dict) or "root" not in raw:
        raise InputError(f"{path}: expected an object with a \"root\"")
    root = _node(raw["root"], f"{path}: root", "root")
    for key in ("id", "management_account"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise InputError(f"{path}: {key}: expected a string")
    tables: dict[str, dict[str, Policy]] = {}
    broken: dict[tuple[str, str], str] = {}
    for kind, ptype in (("scps", PolicyType.SCP), ("rcps", PolicyType.RCP)):
        tables[kind] = {}
        documents = raw.get(kind) or {}
        if not isinstance(documents, dict):
            raise InputError(f"{path}: {kind}: expected an object of name → document")
        for name, document in documents.items():
            label = f"{kind[:-1].upper()} {name if len(name) <= 200 else quote(name)}"
            try:
                tables[kind][name] = read_document(document, ptype, label)
            except BadDocument as e:
                skipped.append(Skipped(str(path), label, str(e)))
                broken[(kind, name)] = f"{label} could not be read ({e})"
    org = Organization(raw.get("id"), root, raw.get("management_account"), tables["scps"], tables["rcps"],
                       broken=broken)

    def walk(node: Node, trail: list[Node]) -> None:
        trail = trail + [node]
        for kind, names in (("scps", node.scps), ("rcps", node.rcps)):
            for name in names:
                if name not in tables[kind] and (kind, name) not in broken:
                    label = f"{kind[:-1].upper()} {name if len(name) <= 200 else quote(name)}"
                    skipped.append(Skipped(str(path), f"{node.kind} {node.name}",
                                           f"{label} is not defined (or was skipped)"))
                    broken[(kind, name)] = f"{label} is not defined"
        if node.kind == "account":
            org.paths[node.id] = trail
        for child in node.children:
            walk(child, trail)

    walk(root, [])
    if org.rcps_enabled:
        every: list[Node] = []

        def nodes(node: Node) -> None:
            every.append(node)
            for child in node.children:
                nodes(child)

        nodes(root)
        org.implied = [f"{n.kind} {n.name}" for n in every if not n.rcps]
    return org
