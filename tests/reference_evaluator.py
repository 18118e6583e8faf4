"""A deliberately plain reference evaluator for the differential test.

Slow and obvious on purpose: it reads the scenario's raw JSON (not the
policy model), matches with its own recursive glob (no regexes), loops over
every statement of every policy (no index, no cache) and writes SEMANTICS
§1–3 as nested ifs (no Datalog). It supports the subset of IAM the
differential generator produces; anything else raises ``Unsupported``.
"""

from __future__ import annotations

import ipaddress


class Unsupported(Exception):
    pass


# ---------------------------------------------------------------- glob

def glob(pattern: list[tuple[str, str]], text: str) -> bool:
    """``pattern`` is a list of (kind, char): lit, any (* over anything),
    seg (* inside a segment: no colon), one (? any char), one_seg (? no colon)."""
    memo: dict[tuple[int, int], bool] = {}

    def go(i: int, j: int) -> bool:
        if (i, j) in memo:
            return memo[(i, j)]
        if i == len(pattern):
            result = j == len(text)
        else:
            kind, ch = pattern[i]
            if kind == "lit":
                result = j < len(text) and text[j] == ch and go(i + 1, j + 1)
            elif kind == "one":
                result = j < len(text) and go(i + 1, j + 1)
            elif kind == "one_seg":
                result = j < len(text) and text[j] != ":" and go(i + 1, j + 1)
            else:  # any / seg
                result = go(i + 1, j)
                k = j
                while not result and k < len(text) and (kind == "any" or text[k] != ":"):
                    k += 1
                    result = go(i + 1, k)
            memo[(i, j)] = result
        return result

    return go(0, 0)


def simple_glob(pattern: str, text: str, ignore_case: bool = False) -> bool:
    if ignore_case:
        pattern, text = pattern.lower(), text.lower()
    return glob([("any", "") if c == "*" else ("one", "") if c == "?" else ("lit", c) for c in pattern], text)


def substitute(text: str, ctx: dict, version: str | None):
    """Pieces of (char, is_literal) with variables replaced; None if a
    variable is absent without default."""
    if version != "2012-10-17" or "${" not in text:
        return [(c, False) for c in text]
    out = []
    i = 0
    while i < len(text):
        if text.startswith("${", i):
            end = text.index("}", i)
            inner = text[i + 2:end]
            if inner in ("*", "?", "$"):
                out.append((inner, True))
            else:
                key, _, default = inner.partition(",")
                value = ctx.get(key.strip().lower())
                if isinstance(value, str):
                    out.extend((c, True) for c in value)
                elif default:
                    out.extend((c, True) for c in default.strip().strip("'"))
                else:
                    return None
            i = end + 1
        else:
            out.append((text[i], False))
            i += 1
    return out


def arn_matches(pattern: str, resource: str, ctx: dict, version: str | None) -> bool:
    if pattern == "*":
        return True
    pieces = substitute(pattern, ctx, version)
    if pieces is None:
        return False
    tokens = []
    colons = 0
    for n, (c, literal) in enumerate(pieces):
        if literal:
            tokens.append(("lit", c))
            continue
        in_resource_part = colons >= 5
        if c == ":":
            colons += 1
            tokens.append(("lit", c))
        elif c == "*":
            segment_end = n + 1 == len(pieces) or pieces[n + 1] == (":", False)
            tokens.append(("any", "") if in_resource_part or segment_end else ("seg", ""))
        elif c == "?":
            tokens.append(("one", "") if in_resource_part else ("one_seg", ""))
        else:
            tokens.append(("lit", c))
    return glob(tokens, resource)


# ---------------------------------------------------------------- callers

def read_caller(principal):
    if principal is None:
        return {"kind": "anonymous", "account": None}
    if principal.endswith(".amazonaws.com"):
        return {"kind": "service", "account": None, "service": principal.lower()}
    parts = principal.split(":")
    account = parts[4]
    rest = parts[5]
    if rest == "root":
        return {"kind": "root", "account": account, "arn": principal}
    if rest.startswith("user/"):
        return {"kind": "user", "account": account, "arn": principal, "name": rest.split("/")[-1]}
    if rest.startswith("role/"):
        return {"kind": "role_session", "account": account, "arn": principal, "role": principal, "session": None,
                "role_name": rest.split("/")[-1]}
    if rest.startswith("assumed-role/"):
        _, role, _session = rest.split("/")
        role_arn = f"arn:aws:iam::{account}:role/{role}"
        return {"kind": "role_session", "account": account, "arn": role_arn, "role": role_arn, "session": principal,
                "role_name": role}
    if rest.startswith("federated-user/"):
        return {"kind": "federated_session", "account": account, "arn": principal}
    raise Unsupported(principal)


def derived_context(c) -> dict:
    if c["kind"] == "anonymous":
        return {"aws:principaltype": "Anonymous", "aws:userid": "anonymous"}
    if c["kind"] == "service":
        return {"aws:principalservicename": c["service"]}
    out = {"aws:principalarn": c["arn"], "aws:principalaccount": c["account"]}
    if c["kind"] == "user":
        out["aws:username"] = c["name"]
    return out


def is_callers_role(value: str, c) -> bool:
    """A role ARN names the role whatever path it writes: the account and the
    role's (unique) name decide (SEMANTICS §7)."""
    parts = value.split(":")
    return (c["kind"] == "role_session" and len(parts) == 6 and parts[2] == "iam" and parts[4] == c["account"]
            and parts[5].startswith("role/") and parts[5].split("/")[-1] == c["role_name"])


def names(value: str, c) -> str | None:
    """How an AWS principal value names the caller: itself / role / account / None."""
    if value == "*":
        return "everyone"
    if c["account"] is None:
        return None
    if value == c["account"] or value == f"arn:aws:iam::{c['account']}:root":
        return "itself" if c["kind"] == "root" else "account"
    if c["kind"] == "role_session":
        if c["session"] and value == c["session"]:
            return "itself"
        return "role" if is_callers_role(value, c) else None
    return "itself" if value == c.get("arn") else None


def identities(c) -> list:
    if c["kind"] == "role_session":
        return [c["account"], c["role"]] + ([c["session"]] if c["session"] else [])
    return [c["account"], c["arn"]] if c["kind"] != "root" else [c["account"]]


def listed(entry_values: list, identity: str, c) -> bool:
    for v in entry_values:
        if v == "*" or v == identity:
            return True
        if c["kind"] == "role_session" and identity == c["role"] and is_callers_role(v, c):
            return True
        if identity == c["account"] and v == f"arn:aws:iam::{c['account']}:root":
            return True
    return False


# ---------------------------------------------------------------- conditions

NEGATED = ("StringNotEquals", "StringNotLike", "StringNotEqualsIgnoreCase", "NumericNotEquals", "DateNotEquals",
           "NotIpAddress", "ArnNotEquals", "ArnNotLike")

def as_list(x):
    return x if isinstance(x, list) else [x]


def text(v):
    return ("true" if v else "false") if isinstance(v, bool) else str(v)


class Unreadable(Exception):
    """A value that does not read as its operator's type: the clause is false."""


def read_number(text: str):
    from decimal import Decimal
    import re
    if not re.fullmatch(r"-?\d+(\.\d+)?", text):
        raise Unreadable(text)
    return Decimal(text)


def read_date(text: str):
    from datetime import datetime, timezone
    if text.isdigit():
        return datetime.fromtimestamp(int(text), tz=timezone.utc)
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise Unreadable(text) from None


def read_arn(text: str):
    parts = text.split(":", 5)
    if len(parts) != 6:
        raise Unreadable(text)
    return parts


def condition_holds(op: str, key: str, values, ctx: dict, version) -> bool:
    try:
        return _condition_holds(op, key, values, ctx, version)
    except Unreadable:
        return False


def _condition_holds(op: str, key: str, values, ctx: dict, version) -> bool:
    qualifier = None
    if ":" in op:
        qualifier, op = op.split(":")
    if_exists = op.endswith("IfExists")
    base = op[: -len("IfExists")] if if_exists else op
    raw = ctx.get(key.lower())
    if raw == []:
        raw = None  # an empty list is an absent key
    substitutes = base.startswith("String") or base.startswith("Arn") or base == "Bool"
    policy_values = []
    for v in as_list(values):
        pieces = substitute(text(v), ctx, version) if substitutes else [(c, False) for c in text(v)]
        if pieces is None:
            continue
        policy_values.append(pieces)
    if base == "Null":
        absent = raw is None
        return any(("".join(c for c, _ in p).lower() == "true") == absent for p in policy_values)
    if raw is None:
        if qualifier == "ForAnyValue":
            return False  # IfExists or not (docs/readings.md)
        if if_exists or qualifier == "ForAllValues":
            return True
        return base in NEGATED

    def positive(value: str, pieces) -> bool:
        policy = "".join(c for c, _ in pieces)
        if base in ("StringEquals", "StringNotEquals"):
            return value == policy
        if base in ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"):
            # One character against one (docs/readings.md): "ß" is not "ss".
            return len(value) == len(policy) and all(_same_ignoring_case(a, b) for a, b in zip(value, policy))
        if base.startswith("Numeric") or base.startswith("Date"):
            read = read_number if base.startswith("Numeric") else read_date
            a, b = read(value), read(policy)
            comparison = base.removeprefix("Numeric").removeprefix("Date")
            return {"Equals": a == b, "NotEquals": a == b, "LessThan": a < b, "LessThanEquals": a <= b,
                    "GreaterThan": a > b, "GreaterThanEquals": a >= b}[comparison]
        if base.startswith("Arn"):
            # Six parts, each a glob in which substituted text is literal.
            parts, colons = [[]], 0
            for c, lit in pieces:
                if c == ":" and colons < 5:
                    colons += 1
                    parts.append([])
                else:
                    parts[-1].append(("lit", c) if lit or c not in "*?" else ("any", "") if c == "*" else ("one", ""))
            if policy == "*":
                parts = [[("any", "")]] * 6
            if len(parts) != 6:
                raise Unreadable(policy)
            return all(glob(p, r) for p, r in zip(parts, read_arn(value)))
        if base in ("StringLike", "StringNotLike"):
            return glob([("lit", c) if lit else ("any", "") if c == "*" else ("one", "") if c == "?" else ("lit", c)
                         for c, lit in pieces], value)
        if base == "Bool":
            if policy.lower() not in ("true", "false") or value.lower() not in ("true", "false"):
                raise Unreadable(policy)
            return value.lower() == policy.lower()
        if base in ("IpAddress", "NotIpAddress"):
            try:
                return ipaddress.ip_address(value) in ipaddress.ip_network(policy, strict=False)
            except ValueError:
                raise Unreadable(value) from None
        raise Unsupported(base)

    negated = base in NEGATED

    def satisfies(value: str) -> bool:
        hits = [positive(value, p) for p in policy_values]  # every value read: an unreadable one is noticed
        hit = any(hits)
        return not hit if negated else hit

    if qualifier is None:
        if isinstance(raw, list):
            if len(raw) != 1:
                return False
            raw = raw[0]
        return satisfies(raw)
    values_in_request = raw if isinstance(raw, list) else [raw]
    if qualifier == "ForAnyValue":
        return any(satisfies(v) for v in values_in_request)
    return all(satisfies(v) for v in values_in_request)


# ---------------------------------------------------------------- statements

def statements(policy: dict):
    s = policy["Statement"]
    return s if isinstance(s, list) else [s]


def statement_match(st: dict, policy: dict, layer: str, c, action: str, resource: str, ctx: dict,
                    has_boundary: bool):
    """None if the statement does not match; else how it names the caller
    ('' where no Principal element)."""
    version = policy.get("Version")
    if "Action" in st:
        if not any(simple_glob(p, action, True) for p in as_list(st["Action"])):
            return None
    elif any(simple_glob(p, action, True) for p in as_list(st["NotAction"])):
        return None
    if "Resource" in st:
        if not any(arn_matches(p, resource, ctx, version) for p in as_list(st["Resource"])):
            return None
    elif "NotResource" in st:
        if any(arn_matches(p, resource, ctx, version) for p in as_list(st["NotResource"])):
            return None
    how = ""
    if "Principal" in st:
        how = principal_named(st["Principal"], c)
        if how is None:
            return None
    elif "NotPrincipal" in st:
        np = st["NotPrincipal"]
        values = ["*"] if np == "*" else as_list(np.get("AWS", []))
        if c["account"]:
            ids = identities(c)
            any_listed = any(listed(values, i, c) for i in ids)
            all_listed = all(listed(values, i, c) for i in ids)
        else:  # anonymous, a service: only "*" lists them
            any_listed = all_listed = "*" in values
        if st["Effect"] == "Allow":
            if any_listed:
                return None
            how = "everyone"
        elif all_listed and not (layer == "resource" and has_boundary):
            return None
    for op, block in st.get("Condition", {}).items():
        for key, values in block.items():
            if not condition_holds(op, key, values, ctx, version):
                return None
    if how == "everyone" and any(k.lower() == "aws:principalarn" for block in st.get("Condition", {}).values()
                                 for k in block):
        how = "itself"  # "*" narrowed by aws:PrincipalArn names the caller (SEMANTICS §1.4)
    return how


def principal_named(principal, c):
    if principal == "*":
        return "everyone"
    best = None
    for kind, values in principal.items():
        for v in as_list(values):
            if kind == "Service":
                how = "itself" if c["kind"] == "service" and v.lower() == c["service"] else None
            elif kind == "AWS":
                how = names(v, c)
            else:
                raise Unsupported(kind)
            if how == "itself":
                return how
            if how in ("role", "everyone") or (how == "account" and best is None):
                best = how
    return best


# ---------------------------------------------------------------- the decision

def decide(scenario: dict) -> tuple[str, set]:
    """(decision, the layers with a matching Deny)."""
    pol = scenario["policies"]
    req = scenario["request"]
    c = read_caller(req["principal"])
    ctx = derived_context(c) if req.get("derive_context", True) else {}
    for k, v in req.get("context", {}).items():
        ctx[k.lower()] = [text(x) for x in v] if isinstance(v, list) else text(v)
    action, resource = req["action"], req["resource"]

    kind = c["kind"]
    has_identity = kind in ("user", "role_session", "federated_session")
    layers = []  # (name, [policies])
    if pol.get("identity") is not None and has_identity:
        layers.append(("identity", pol["identity"]))
    if pol.get("resource") is not None:
        layers.append(("resource", [pol["resource"]]))
    has_boundary = pol.get("boundary") is not None and has_identity
    if has_boundary:
        layers.append(("boundary", pol["boundary"]))
    if pol.get("session") is not None and kind in ("role_session", "federated_session"):
        layers.append(("session", [pol["session"]]))
    if pol.get("vpc_endpoint") is not None:
        layers.append(("vpc_endpoint", pol["vpc_endpoint"]))
    # A service-linked role is outside SCPs and RCPs (SEMANTICS §1.2, §1.3).
    service_linked = kind == "role_session" and (c["role_name"].startswith("AWSServiceRoleFor")
                                                 or ":role/aws-service-role/" in c["arn"])
    scp_levels = []
    if pol.get("scps") is not None and kind in ("user", "role_session", "federated_session", "root") \
            and not service_linked:
        for i, level in enumerate(pol["scps"]):
            layers.append((f"scp/{i}", level))
            scp_levels.append(f"scp/{i}")
    rcp_levels = []
    if pol.get("rcps") is not None and not service_linked:
        for i, level in enumerate(pol["rcps"]):
            layers.append((f"rcp/{i}", level))
            rcp_levels.append(f"rcp/{i}")

    allows, denies, grants = set(), set(), set()
    for name, policies in layers:
        for policy in policies:
            for st in statements(policy):
                how = statement_match(st, policy, name, c, action, resource, ctx, has_boundary)
                if how is None:
                    continue
                if st["Effect"] == "Deny":
                    denies.add(name)
                else:
                    allows.add(name)
                    if name == "resource":
                        grants.add(how)

    # Callers that cannot call an action at all (STS API Reference).
    lowered = action.lower()
    refused = ((kind == "root" and lowered == "sts:assumerole")
               or (kind in ("role_session", "federated_session") and lowered == "sts:getsessiontoken")
               or (kind == "federated_session" and lowered.split(":")[0] in ("iam", "sts")
                   and lowered != "sts:getcalleridentity"))
    if lowered in ("sts:getcalleridentity", "sts:getsessiontoken") and kind != "anonymous" and not refused:
        return "allow", denies  # no policy controls them (SEMANTICS §7)
    if denies:
        return "explicit_deny", denies
    if refused:
        return "implicit_deny", denies
    for level in rcp_levels + scp_levels:
        if level not in allows:
            return "implicit_deny", denies
    if pol.get("vpc_endpoint") is not None and "vpc_endpoint" not in allows:
        return "implicit_deny", denies

    boundary_ok = not has_boundary or "boundary" in allows
    session_applies = any(n == "session" for n, _ in layers)
    session_ok = "session" in allows if session_applies else kind != "federated_session"
    limits_ok = boundary_ok and session_ok
    principal_ok = (kind == "root" or "identity" in allows) and limits_ok

    trust = action.lower() in ("sts:assumerole",) and ":iam::" in resource and ":role/" in resource
    key = action.lower().startswith("kms:") and ":kms:" in resource and ":key/" in resource
    must_allow = trust or key

    if kind in ("anonymous", "service"):
        allowed = bool(grants)
    else:
        resource_account = req.get("resource_account")
        if resource_account is None:
            parts = resource.split(":")
            resource_account = parts[4] if len(parts) > 5 and parts[4].isdigit() else c["account"]
        if resource_account == c["account"]:
            alone = "itself" in grants or (("role" in grants or "everyone" in grants) and limits_ok)
            if must_allow:
                allowed = alone or ("account" in grants and principal_ok)
            else:
                allowed = alone or principal_ok
        else:
            allowed = principal_ok and bool(grants)
    return ("allow" if allowed else "implicit_deny"), denies


def _same_ignoring_case(a: str, b: str) -> bool:
    """Two characters under Unicode simple case folding: a character's fold
    is its full fold when that is one character, else its lower case when
    that is one character, else itself."""
    def fold(c: str) -> str:
        for candidate in (c.casefold(), c.lower()):
            if len(candidate) == 1:
                return candidate
        return c
    return fold(a) == fold(b)
