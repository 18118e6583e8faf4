"""Who "the public" is for check-no-public-access: every caller of every
account the policy does not name, each choosing every key it can choose.

IAM Access Analyzer counts as external "another AWS account, a root user, an
IAM user or role, a federated user, an AWS service, or an anonymous user", and
trusts what the policy fixes: S3's definition of a public policy names the
fixed (no wildcard, no variable) values of aws:SourceArn, aws:SourceVpc,
aws:SourceVpce, aws:SourceOwner, aws:SourceAccount, aws:userid (outside
``ROLEID:*``), a fixed principal, and a set of CIDRs of aws:SourceIp
(docs/readings.md, "the public"). So an outsider here is:

- a kind of caller (``KINDS``): anonymous, an IAM user, a role session, an
  account's root, a federated user, and a web-identity session of a public
  identity provider the policy trusts (``web_identity_callers``);
- in an account no 12-digit string of the policy names (nor the resource's);
- with every key it can choose free — its own ARN, account, user id and user
  name, its organization's id and paths, its VPC and VPC endpoints, source
  IP (v4 and v6), the claims of a public provider's token — except the values
  the policy fixes: those are the owner's, and ``guards`` turns each into a
  Deny statement the search and the kernel both read.

The search reads the caller's own keys free and apart (their ARN, account and
id are not tied together: that admits more than AWS does, so a PASS holds);
a request found is rebuilt as one caller with those values (``caller_of``)
and replayed through the kernel.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from ..errors import ScenarioError
from ..kernel.conditions import keys_read
from ..kernel.principals import CallerKind, read_caller
from ..translator.model import Policy, PrincipalKind

# The keys an outsider's identity sets; the kernel derives them from the
# principal (principals.Caller.derived_context), the search reads them free.
IDENTITY_KEYS = ("aws:PrincipalArn", "aws:PrincipalAccount", "aws:PrincipalType", "aws:username", "aws:userid",
                 "aws:PrincipalIsAWSService", "aws:PrincipalServiceName", "aws:PrincipalServiceNamesList")

# Keys only a caller with an AWS identity in an organization has: absent for
# the anonymous caller and for a web-identity token before it becomes a session.
ORGANIZATION_KEYS = ("aws:PrincipalOrgID", "aws:PrincipalOrgPaths")


@dataclass(frozen=True)
class Kind:
    """One kind of outsider: its principal in a given account, the keys it
    has fixed whoever it is, and the shape its aws:PrincipalArn has."""

    name: str
    principal: str  # with {account}
    fixed: tuple[tuple[str, object], ...]
    arn_shape: str  # a StringLike pattern of its aws:PrincipalArn
    has_username: bool = False
    userid_derived: bool = False  # the kernel derives aws:userid from the ARN (root, federated user)


KINDS = (
    Kind("an IAM user", "arn:aws:iam::{account}:user/outsider",
         (("aws:PrincipalType", "User"), ("aws:PrincipalIsAWSService", "false")),
         "arn:aws*:iam::????????????:user/*", has_username=True),
    Kind("a role session", "arn:aws:iam::{account}:role/outsider",
         (("aws:PrincipalType", "AssumedRole"), ("aws:PrincipalIsAWSService", "false")),
         "arn:aws*:iam::????????????:role/*"),
    Kind("an account's root", "arn:aws:iam::{account}:root",
         (("aws:PrincipalType", "Account"), ("aws:PrincipalIsAWSService", "false")),
         "arn:aws*:iam::????????????:root", userid_derived=True),
    Kind("a federated user", "arn:aws:sts::{account}:federated-user/outsider",
         (("aws:PrincipalType", "FederatedUser"), ("aws:PrincipalIsAWSService", "false")),
         "arn:aws*:sts::????????????:federated-user/*", userid_derived=True),
)

# Identity providers anyone can hold a token of (IAM User Guide, "OIDC
# federation": GitHub Actions, Login with Amazon, Facebook, Google, Cognito).
# A provider a policy names otherwise (SAML, an EKS cluster, a company's own
# OIDC) is the owner's: its users are not the public.
PUBLIC_PROVIDERS = ("token.actions.githubusercontent.com", "accounts.google.com", "graph.facebook.com",
                    "www.amazon.com", "cognito-identity.amazonaws.com")
GITHUB = "token.actions.githubusercontent.com"
# The claims that say who the token's holder is (or for which application of
# the owner it was issued): a value the policy fixes is the owner's. GitHub's
# aud is the audience the workflow itself asks for (``sts.amazonaws.com`` by
# default): anyone's, so not here; its sub names the repository, whose owner
# is the one part the holder cannot choose (``sub_owners``).
IDENTITY_CLAIMS = ("sub", "aud", "oaud", "id", "user_id", "app_id")

_ACCOUNT = re.compile(r"(?<!\d)\d{12}(?!\d)")
_ORG = re.compile(r"\bo-[a-z0-9]{10,32}\b")
_WILD = re.compile(r"[*?]|\$\{")
_VARIABLE = re.compile(r"\$\{")
# The widest address blocks one owner holds (a /8 of IPv4, a /32 of IPv6 is
# a registry's usual allocation to one network): a wider one names no network.
_NARROWEST_PUBLIC = {4: 8, 6: 32}

# Keys whose fixed values identify the owner (S3's definition of public).
_FIXED_VALUE_KEYS = ("aws:SourceArn", "aws:SourceVpc", "aws:SourceVpce", "aws:SourceVpcArn", "aws:SourceOwner",
                     "aws:SourceAccount", "aws:PrincipalOrgID", "aws:SourceOrgID", "aws:PrincipalAccount",
                     "aws:PrincipalArn", "aws:userid", "s3:DataAccessPointArn", "s3:DataAccessPointAccount",
                     "kms:CallerAccount", "aws:Ec2InstanceSourceVpc")
# Keys whose value is an account, and those whose value is an ARN with one.
_ACCOUNT_KEYS = ("aws:PrincipalAccount", "aws:SourceAccount", "aws:SourceOwner", "kms:CallerAccount",
                 "s3:DataAccessPointAccount", "aws:userid")
_ARN_KEYS = ("aws:PrincipalArn", "aws:SourceArn", "s3:DataAccessPointArn", "aws:SourceVpcArn")
_ARN_KEYS_LOWER = frozenset(k.lower() for k in _ARN_KEYS)
_ORG_KEYS = ("aws:PrincipalOrgID", "aws:SourceOrgID")
_ORG_PATH_KEYS = ("aws:PrincipalOrgPaths", "aws:SourceOrgPaths")
_SHAPES = (("aws:PrincipalOrgID", "o-??????????*"), ("aws:SourceOrgID", "o-??????????*"),
           ("aws:SourceVpce", "vpce-?*"), ("aws:SourceVpc", "vpc-?*"), ("aws:SourceAccount", "????????????"))


@dataclass
class Named:
    """What the policy fixes: accounts, organizations, literal values per key
    (lower-cased key), networks of aws:SourceIp."""

    accounts: set[str]
    orgs: set[str]
    values: dict[str, set[str]]
    texts: dict[str, set[str]]  # every value per key, patterns too
    networks: list[str]
    keys: set[str]  # the keys the policy reads, lower-cased
    # Per ARN key, how the policy reads it: as a string (StringLike), as an
    # ARN (ArnLike) or both. The search reads the two apart (conditions.py),
    # so each reading gets its guard, and no other.
    readings: dict[str, tuple[str, ...]]


def named(policy: Policy, owner: str) -> Named:
    texts, values, every, networks, keys = [], {}, {}, [], set()
    for st in policy.statements:
        for entry in (st.principal or ()) + (st.not_principal or ()):
            texts.append(entry.value)
        for clause in st.condition:
            keys.update(keys_read(clause))
            # StringEquals and its kin read * and ? as themselves.
            literal = (clause.operator.base or "").startswith(("StringEquals", "StringNotEquals"))
            for v in clause.values:
                texts.append(v.text)
                every.setdefault(clause.key.lower(), set()).add(v.text)
                if not (_VARIABLE if literal else _WILD).search(v.text):
                    values.setdefault(clause.key.lower(), set()).add(v.text)
                if clause.key.lower() == "aws:sourceip":
                    networks += _network(v.text)
    accounts = {m for t in texts for m in _ACCOUNT.findall(t)} | {owner}
    orgs = {m for t in texts for m in _ORG.findall(t)}
    for key in _ORG_PATH_KEYS:
        for path in values.get(key.lower(), ()):
            orgs.add(path.split("/", 1)[0])
    readings = {}
    for st in policy.statements:
        for clause in st.condition:
            key = clause.key.lower()
            if key in _ARN_KEYS_LOWER:
                base = clause.operator.base or ""
                reading = "ArnLike" if base.startswith("Arn") else "StringLike" if base.startswith("String") else None
                if reading:
                    readings[key] = tuple(dict.fromkeys(readings.get(key, ()) + (reading,)))
    return Named(accounts, orgs, values, every, networks, keys, readings)


def _network(text: str) -> list[str]:
    try:
        net = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return []
    return [str(net)] if net.prefixlen >= _NARROWEST_PUBLIC[net.version] else []


def outsider_account(names: Named) -> str:
    """An account the policy does not name, for a principal whose account
    no condition reads."""
    return next(a for a in ("999999999999", "999999999998", "999999999997", "999999999996", "999999999995")
                if a not in names.accounts)


def _deny(clauses: dict) -> dict:
    return {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*", "Condition": clauses}


def guards(names: Named, iam: bool) -> list[dict]:
    """Deny statements that take out of the search exactly the requests no
    outsider can make: those carrying a value the policy fixes, and for the
    IAM callers (``iam``: KINDS) a principal type, ARN or account of no such
    caller. Only the keys the policy reads get one."""
    out = []
    reads = names.keys
    accounts = sorted(names.accounts)
    for key in _FIXED_VALUE_KEYS:
        fixed = sorted(names.values.get(key.lower(), ()))
        if key.lower() in reads and fixed:
            out.append(_deny({"StringEquals": {key: fixed}}))
    for key in _ACCOUNT_KEYS:
        if key.lower() in reads:
            out.append(_deny({"StringEquals": {key: accounts}}))
    # An ARN key is read apart as a string and as an ARN (conditions.py): each
    # reading gets its guard.
    for key in _ARN_KEYS:
        for operator in names.readings.get(key.lower(), ()):
            out.append(_deny({operator: {key: [f"arn:*:*:*:{a}:*" for a in accounts]}}))
    if "aws:userid" in reads:
        # A role session's id is ROLEID:SESSION: a role id the policy fixes is the owner's role.
        roles = sorted({v.split(":", 1)[0] + ":*" for v in names.texts.get("aws:userid", ())
                        if ":" in v and v.split(":", 1)[0] and not _WILD.search(v.split(":", 1)[0])})
        if roles:
            out.append(_deny({"StringLike": {"aws:userid": roles}}))
    for key in _ORG_KEYS:
        if key.lower() in reads and names.orgs:
            out.append(_deny({"StringEquals": {key: sorted(names.orgs)}}))
    for key in _ORG_PATH_KEYS:
        if key.lower() in reads and names.orgs:
            out.append(_deny({"ForAnyValue:StringLike": {key: [f"{o}/*" for o in sorted(names.orgs)]}}))
    # When present, an id has the shape AWS gives it (an organization's
    # o- and 10 to 32 characters, an endpoint's vpce-…): witnesses look like one.
    for key, shape in _SHAPES:
        if key.lower() in reads:
            out.append(_deny({"Null": {key: "false"}, "StringNotLike": {key: shape}}))
    if "aws:sourceip" in reads and names.networks:
        out.append(_deny({"IpAddress": {"aws:SourceIp": sorted(set(names.networks))}}))
    if iam:
        shapes = [k.arn_shape for k in KINDS]
        for operator in names.readings.get("aws:principalarn", ()):
            out.append(_deny({operator.replace("Like", "NotLike"): {"aws:PrincipalArn": shapes}}))
    if iam and "aws:principalaccount" in reads:
        out.append(_deny({"StringNotLike": {"aws:PrincipalAccount": "????????????"}}))
    if iam and "aws:principaltype" in reads:
        out.append(_deny({"StringNotEquals": {"aws:PrincipalType": [dict(k.fixed)["aws:PrincipalType"]
                                                                    for k in KINDS]}}))
    for key in sorted(reads):
        provider, _, claim = key.partition(":")
        if provider not in PUBLIC_PROVIDERS or not claim:
            continue
        fixed = sorted(names.values.get(key, ()))
        if provider == GITHUB and claim == "sub":
            owners = sub_owners(names.texts.get(key, ()))
            if owners:
                out.append(_deny({"StringLike": {f"{GITHUB}:sub": [f"repo:{o}/*" for o in owners]}}))
        elif claim in IDENTITY_CLAIMS and not (provider == GITHUB and claim == "aud") and fixed:
            out.append(_deny({"StringEquals": {key: fixed}}))
    return out


def sub_owners(values) -> list[str]:
    """The GitHub owners a sub value fixes: ``repo:OWNER/…`` with no
    wildcard in OWNER (the holder of a token cannot be another owner)."""
    out = set()
    for v in values:
        if v.startswith("repo:") and "/" in v:
            owner = v[len("repo:"):].split("/", 1)[0]
            if owner and not _WILD.search(owner):
                out.add(owner)
    return sorted(out)


def web_identity_callers(policy: Policy, account: str) -> tuple[list[str], list[str]]:
    """The public providers' callers the policy's principals take in — a
    provider ARN its Federated names; for ``*``, ``{"Federated": "*"}`` or a
    NotPrincipal, GitHub's and every public provider whose claims it reads,
    registered in ``account`` — and the Federated values the kernel cannot
    call as (a public provider given by bare name)."""
    callers, unreadable, open_to_all = [], [], False
    for st in policy.statements:
        if st.not_principal is not None:
            open_to_all = True
        for entry in st.principal or ():
            if entry.kind is PrincipalKind.ANY or (entry.value == "*" and entry.kind in (PrincipalKind.AWS,
                                                                                          PrincipalKind.FEDERATED)):
                open_to_all = True
                continue
            if entry.kind is not PrincipalKind.FEDERATED:
                continue
            value = entry.value
            host = value.rsplit("oidc-provider/", 1)[-1] if "oidc-provider/" in value else value
            if host.split("/", 1)[0].lower() not in PUBLIC_PROVIDERS:
                continue  # the owner's own provider
            try:
                caller = read_caller(value)
            except ScenarioError:  # the kernel reads only a provider's ARN as a caller
                unreadable.append(value)
                continue
            if caller.kind is CallerKind.EXTERNAL:
                callers.append(value)
            else:
                unreadable.append(value)
    if open_to_all:
        read = {k.partition(":")[0] for st in policy.statements for c in st.condition for k in keys_read(c)}
        callers += [f"arn:aws:iam::{account}:oidc-provider/{host}" for host in PUBLIC_PROVIDERS
                    if host == GITHUB or host in read]
    return list(dict.fromkeys(callers)), unreadable


def kinds_for(principal: str, context: dict) -> list[Kind]:
    """The kinds a request found for the IAM callers may be made by, the
    likeliest first: the one its aws:PrincipalType names, the one whose ARN
    shape its aws:PrincipalArn has, the one the search asked as, the rest."""
    values = {k.lower(): v for k, v in context.items()}
    first = []
    for kind in KINDS:
        if values.get("aws:principaltype") == dict(kind.fixed)["aws:PrincipalType"]:
            first.append(kind)
    arn = values.get("aws:principalarn")
    if isinstance(arn, str):
        first += [k for k in KINDS if re.fullmatch(k.arn_shape.replace("?", ".").replace("*", ".*"), arn)]
    for kind in KINDS:
        prefix, _, suffix = kind.principal.partition("{account}")
        if principal.startswith(prefix) and principal.endswith(suffix):
            first.append(kind)
    return list(dict.fromkeys(first + list(KINDS)))


# Every partition's callers are outsiders (aws-cn, aws-us-gov, ...).
_ARN_PARTS = re.compile(r"arn:(aws[a-z-]*):(iam|sts)::([^:]{12}):(.+)")


def _digits(text: str, names: Named) -> str | None:
    """An account id for twelve characters the search chose: its digits
    kept, any other character a 0 (a glob that admits the one admits the
    other unless it spells a letter there); None when that is a named one."""
    account = re.sub(r"[^0-9]", "0", text)
    return None if account in names.accounts else account


def caller_of(kind: Kind, context: dict, names: Named) -> tuple[str, str] | None:
    """The principal a request found for this kind is made by — its
    aws:PrincipalArn's account and name when they are an outsider's, else
    aws:PrincipalAccount's, else an account of no one — and that account."""
    arn = context.get("aws:PrincipalArn") or context.get("aws:principalarn")
    account_value = context.get("aws:PrincipalAccount") or context.get("aws:principalaccount")
    name = "outsider"
    account = None
    partition = "aws"
    if isinstance(arn, str):
        m = _ARN_PARTS.fullmatch(arn)
        if m:
            partition = m.group(1)
            tail = m.group(4).split("/", 1)
            if len(tail) == 2 and tail[1] and re.fullmatch(r"[\w+=,.@/-]+", tail[1]):
                name = tail[1]
            account = _digits(m.group(3), names)
    if account is None and isinstance(account_value, str) and len(account_value) == 12:
        account = _digits(account_value, names)
    account = account or outsider_account(names)
    principal = kind.principal.format(account=account).replace("arn:aws:", f"arn:{partition}:", 1)
    if name != "outsider" and principal.endswith("/outsider"):
        principal = principal[:-len("outsider")] + name
    return principal, account
