"""Read a policy document into the model, collecting findings on the way.

The document is decoded and parsed by ``json.loads`` (the fast reader); the
structure of SEMANTICS §6 is then walked element by element. Nothing here
raises on bad input: every problem becomes a ``Finding`` with its JSON path,
and spans are resolved from the grammar's positioned parse only when there are
findings to place (grammar/source.py).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from ..errors import quote
from ..grammar import parse_action, parse_operator, parse_resource, parse_template
from ..grammar.source import JsonPath, Source
from ..kernel import values
from ..kernel.operators import OPERATORS, ValueType
from .dates import iam_reads_date
from .findings import (
    LEGACY_PARSING,
    SYNTAX_ERRORS,
    VERSION_TOO_OLD,
    AwsError,
    AwsStage,
    CappedFindings,
    Finding,
    FindingType,
    Location,
    malformed,
)
from .model import (
    ActionPattern,
    ConditionClause,
    ConditionOperator,
    ConditionValue,
    Effect,
    Escape,
    Policy,
    PolicyType,
    PrincipalEntry,
    PrincipalKind,
    ResourcePattern,
    Statement,
    Template,
    Variable,
)

ERROR, WARNING, SUGGESTION = FindingType.ERROR, FindingType.WARNING, FindingType.SUGGESTION
SECURITY_WARNING = FindingType.SECURITY_WARNING

# Far above every IAM quota (the largest is 20,480): a document this big is
# refused before it is parsed.
MAX_DOCUMENT_CHARS = 1_048_576

CURRENT_VERSION = "2012-10-17"
VERSIONS = ("2008-10-17", CURRENT_VERSION)
POLICY_KEYS = ("Version", "Id", "Statement")
STATEMENT_KEYS = ("Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition")

# The policy types whose documents IAM itself parses (CreatePolicy, CreateRole,
# PutRolePolicy...): for these the exact IAM error is known.
IAM_TYPES = frozenset({PolicyType.IDENTITY, PolicyType.BOUNDARY, PolicyType.TRUST, PolicyType.SESSION})
# Managed policies: CreatePolicy rejects a missing or 2008-10-17 Version.
MANAGED_TYPES = frozenset({PolicyType.IDENTITY, PolicyType.BOUNDARY})
NO_PRINCIPAL_TYPES = frozenset({PolicyType.IDENTITY, PolicyType.BOUNDARY, PolicyType.SESSION, PolicyType.SCP})
PRINCIPAL_TYPES = frozenset({PolicyType.RESOURCE, PolicyType.TRUST, PolicyType.RCP})

# SEMANTICS §6 size quotas: (characters, whether white space counts).
QUOTAS: dict[PolicyType, tuple[int, bool]] = {
    PolicyType.IDENTITY: (6144, False),
    PolicyType.BOUNDARY: (6144, False),
    PolicyType.SESSION: (2048, False),
    PolicyType.TRUST: (2048, False),
    PolicyType.SCP: (5120, True),
    PolicyType.RCP: (5120, True),
    PolicyType.RESOURCE: (20480, True),
    PolicyType.VPC_ENDPOINT: (20480, True),
}
QUOTA_AWS_NAME = {PolicyType.IDENTITY: "PolicySize", PolicyType.BOUNDARY: "PolicySize", PolicyType.TRUST: "ACLSizePerRole"}

# SEMANTICS §6: tab, LF, CR and U+0020–U+00FF.
_FORBIDDEN_CHARACTER = re.compile(r"[^\t\n\r\x20-\xff]")
_SID = re.compile(r"[0-9A-Za-z]*")
_ACCOUNT_ID = re.compile(r"\d{12}")
_PRINCIPAL_ARN = re.compile(r"arn:[a-z\-]+:(iam|sts)::(\d{12}|aws):\S+")
_UNIQUE_ID = re.compile(r"A[A-Z0-9]{20}")
_SERVICE_PRINCIPAL = re.compile(r"[a-z0-9][a-z0-9.\-]*\.(amazonaws\.com|amazonaws\.com\.cn|amazon\.com)")
PARTITIONS = frozenset({"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"})
IAM_RESOURCE_PREFIXES = (
    "user/", "federated-user/", "role/", "group/", "instance-profile/", "mfa/", "server-certificate/",
    "policy/", "sms-mfa/", "saml-provider/", "oidc-provider/", "report/", "access-report/",
)
IAM_PATH_MESSAGE = (
    'IAM resource path must either be "*", root, or start with ' + ", ".join(IAM_RESOURCE_PREFIXES) + "."
)


class JsonNumber(str):
    """A JSON number, kept as the text it was written in (never a float)."""


def _is_text(value: Any) -> bool:
    """A JSON string (a JsonNumber is a str subclass, and is not one)."""
    return type(value) is str


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _decode(text: str) -> tuple[Any, bool]:
    """The document's values, and whether some object repeats a key (then
    json.loads kept the last value, and positions say which key)."""
    repeated: list[bool] = []

    def members(pairs: list[tuple[str, Any]]) -> dict:
        obj = dict(pairs)
        if len(obj) != len(pairs):
            repeated.append(True)
        return obj

    root = json.loads(text, object_pairs_hook=members, parse_int=JsonNumber, parse_float=JsonNumber,
                      parse_constant=_reject_constant)
    return root, bool(repeated)


def _type_name(value: Any) -> str:
    if isinstance(value, JsonNumber):
        return "number"
    if isinstance(value, bool):
        return "boolean"
    return {str: "string", dict: "object", list: "array", type(None): "null"}.get(type(value), "value")


def read_policy(
    document: str | bytes | dict | list,
    policy_type: PolicyType | str = PolicyType.IDENTITY,
    name: str = "<policy>",
    *,
    aws_managed: bool = False,
) -> tuple[Policy | None, list[Finding]]:
    """The model (None when the document is not a JSON object) and the findings,
    each with its span resolved: at most MAX_FINDINGS of them, then one
    FINDINGS_LEFT_OUT counting the rest (translator/findings.py).

    ``aws_managed``: the document is an AWS managed policy (so is policy type
    ``aws_managed``, read as ``identity``): AWS stores those beyond the
    customer-managed size quota, so the quota is not applied."""
    policy_type = PolicyType(policy_type)
    if policy_type is PolicyType.AWS_MANAGED:
        policy_type, aws_managed = PolicyType.IDENTITY, True
    reader = _Reader(policy_type, name, aws_managed)
    policy = reader.read(document)
    # Spans for the listed findings only (at most MAX_FINDINGS, findings.py).
    findings = [f.with_spans(reader.source) for f in reader.findings.findings()] if reader.findings else []
    return policy, findings


class _Reader:
    def __init__(self, policy_type: PolicyType, name: str, aws_managed: bool = False):
        self.policy_type = policy_type
        self.aws_managed = aws_managed
        self.iam = policy_type in IAM_TYPES
        self.source = Source("", name)
        self.findings = CappedFindings(name)
        self.version: str | None = None

    # ------------------------------------------------------------ reporting

    def report(self, finding_type, code, message, path: JsonPath = (), *, aws: AwsError | None = None,
               on_key=False, span=None) -> None:
        if self.findings.full:  # past the cap: counted, never built (a document may yield a million)
            self.findings.count(finding_type, code, aws)
            return
        self.findings.append(
            Finding(finding_type, code, message, (Location(path, span, on_key),), aws, self.source.name)
        )

    def aws(self, message: str, stage: AwsStage) -> AwsError | None:
        """The IAM error, for the policy types IAM itself parses."""
        return malformed(message, stage) if self.iam else None

    def syntax_error(self, code, message, path, *, on_key=False) -> None:
        self.report(ERROR, code, message, path, aws=self.aws(SYNTAX_ERRORS, AwsStage.SYNTAX), on_key=on_key)

    def type_mismatch(self, path: JsonPath, value: Any, expected: str) -> None:
        self.syntax_error(
            "DATA_TYPE_MISMATCH", f"Expected {expected} at {_where(path)}, found {_type_name(value)}.", path
        )

    # ------------------------------------------------------------ the document

    def read(self, document: str | bytes | dict | list) -> Policy | None:
        text = self.text_of(document)
        if text is None:
            return None
        self.source = Source(text, self.source.name, rendered=not isinstance(document, (str, bytes, bytearray)))
        if len(text) > MAX_DOCUMENT_CHARS:
            self.report(ERROR, "DOCUMENT_TOO_LARGE",
                        f"The document has {len(text):,} characters; no IAM policy may exceed "
                        f"{max(q for q, _ in QUOTAS.values()):,}. It was not parsed.",
                        span=self.source.span_at(0), aws=self._size_error(len(text)))
            return None
        if not text.strip():
            self.report(ERROR, "JSON_SYNTAX_ERROR", "The document is empty.", span=self.source.span_at(0),
                        aws=self.aws(SYNTAX_ERRORS, AwsStage.JSON))
            return None
        try:
            root, repeats_keys = _decode(text)
        except json.JSONDecodeError as e:
            self.report(ERROR, "JSON_SYNTAX_ERROR", f"Not valid JSON: {e.msg}.", span=self.source.span_at(e.pos),
                        aws=self.aws(SYNTAX_ERRORS, AwsStage.JSON))
            return None
        except ValueError as e:  # NaN / Infinity
            self.report(ERROR, "JSON_SYNTAX_ERROR", f"Not valid JSON: {e}.", span=self.source.span_at(0),
                        aws=self.aws(SYNTAX_ERRORS, AwsStage.JSON))
            return None
        except RecursionError:
            offset = _too_deep_offset(text)
            self.report(ERROR, "JSON_SYNTAX_ERROR", "The document nests too deeply to be a policy.",
                        span=self.source.span_at(offset), aws=self.aws(SYNTAX_ERRORS, AwsStage.JSON))
            return None
        self.check_characters(text)
        self.check_size(text)
        if repeats_keys:
            self.report_duplicate_keys()
        return self.policy(root)

    def text_of(self, document: str | bytes | dict | list) -> str | None:
        if isinstance(document, str):
            return document
        if isinstance(document, (bytes, bytearray)):
            if len(document) > 4 * MAX_DOCUMENT_CHARS:
                self.report(ERROR, "DOCUMENT_TOO_LARGE", f"The document has {len(document):,} bytes; it was not read.",
                            aws=self._size_error(len(document)))
                return None
            try:
                return bytes(document).decode("utf-8")
            except UnicodeDecodeError as e:
                prefix = Source(bytes(document[: e.start]).decode("utf-8", "replace"))
                self.report(ERROR, "JSON_SYNTAX_ERROR", f"Not UTF-8: byte 0x{document[e.start]:02x} at offset {e.start}.",
                            span=prefix.span_at(len(prefix.text)), aws=self.aws(SYNTAX_ERRORS, AwsStage.JSON))
                return None
        if isinstance(document, (dict, list)):
            # Positions then refer to this canonical rendering of the document.
            try:
                return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False)
            except (TypeError, ValueError) as e:
                self.report(ERROR, "DATA_TYPE_MISMATCH", f"The document is not JSON data: {e}.",
                            aws=self.aws(SYNTAX_ERRORS, AwsStage.JSON))
                return None
        self.report(ERROR, "DATA_TYPE_MISMATCH", f"A policy is JSON text or a dict, not {type(document).__name__}.")
        return None

    def _size_error(self, size: int) -> AwsError | None:
        quota, _ = QUOTAS[self.policy_type]
        name = QUOTA_AWS_NAME.get(self.policy_type)
        return AwsError("LimitExceeded", f"Cannot exceed quota for {name}: {quota}", AwsStage.SIZE) if name else None

    def check_characters(self, text: str) -> None:
        m = _FORBIDDEN_CHARACTER.search(text)
        if m:
            ch = m.group()
            self.report(ERROR if self.iam else WARNING, "INVALID_CHARACTER",
                        f"Character U+{ord(ch):04X} is outside what IAM policies allow "
                        "(tab, line feed, carriage return and U+0020 to U+00FF).",
                        span=self.source.span_at(m.start(), m.end()), aws=self.aws(SYNTAX_ERRORS, AwsStage.JSON))

    def check_size(self, text: str) -> None:
        if self.aws_managed:
            return  # AWS managed policies are not held to the customer-managed quota (SEMANTICS §7)
        quota, whitespace_counts = QUOTAS[self.policy_type]
        size = len(text) if whitespace_counts else len(text) - sum(map(text.count, " \t\n\r"))
        if size > quota:
            counted = "characters" if whitespace_counts else "characters, not counting white space"
            self.report(ERROR, "POLICY_SIZE_EXCEEDS_QUOTA",
                        f"The policy has {size:,} {counted}; the quota for a {self.policy_type} policy is {quota:,}.",
                        span=self.source.span_at(0, len(text)), aws=self._size_error(size))

    def report_duplicate_keys(self) -> None:
        for dup in self.source.duplicate_keys():
            self.report(ERROR, "DUPLICATE_KEYS",
                        f"The key {quote(dup.key)} appears more than once in {_where(dup.path)}; "
                        "only the last value would be read.", span=dup.span,
                        aws=self.aws(SYNTAX_ERRORS, AwsStage.SYNTAX))

    # ------------------------------------------------------------ policy level

    def policy(self, root: Any) -> Policy | None:
        if not isinstance(root, dict):
            self.type_mismatch((), root, "a JSON object (the policy)")
            return None
        for key in root:
            if key not in POLICY_KEYS:
                self.syntax_error("INVALID_POLICY_ELEMENT", f"The element {quote(key)} is not a policy element "
                                  f"(expected {', '.join(POLICY_KEYS)}).", (key,), on_key=True)
        self.read_version(root)
        policy_id = root.get("Id")
        if "Id" in root:
            if not _is_text(policy_id):
                self.type_mismatch(("Id",), policy_id, "a string")
                policy_id = None
            elif self.policy_type in NO_PRINCIPAL_TYPES:
                self.report(SUGGESTION, "UNSUPPORTED_ID",
                            f"An {self.policy_type} policy has no use for Id; IAM ignores it.", ("Id",), on_key=True)
        statements = self.statements(root)
        self.check_sids(statements)
        return Policy((), self.source, self.policy_type, self.version, policy_id, tuple(statements))

    def read_version(self, root: dict) -> None:
        managed = self.policy_type in MANAGED_TYPES
        if "Version" not in root:
            self.report(ERROR if managed else WARNING, "MISSING_VERSION",
                        'The policy has no Version: policy variables are then literal text. Add "Version": "2012-10-17".',
                        aws=malformed(VERSION_TOO_OLD, AwsStage.VERSION) if managed else None)
            return
        version = root["Version"]
        if not _is_text(version):
            self.type_mismatch(("Version",), version, "a string")
        elif version not in VERSIONS:
            self.report(ERROR, "INVALID_VERSION", f"Version {quote(version)} is not one of {', '.join(VERSIONS)}.",
                        ("Version",), aws=self.aws(SYNTAX_ERRORS, AwsStage.SYNTAX))
        else:
            self.version = version
            if version != CURRENT_VERSION:
                self.report(ERROR if managed else WARNING, "OBSOLETE_VERSION",
                            f'Version {version} treats policy variables as literal text; use "2012-10-17".',
                            ("Version",), aws=malformed(VERSION_TOO_OLD, AwsStage.VERSION) if managed else None)

    def statements(self, root: dict) -> list[Statement]:
        if "Statement" not in root:
            self.syntax_error("MISSING_STATEMENT", "The policy has no Statement element.", ())
            return []
        raw = root["Statement"]
        if isinstance(raw, dict):
            items = [(("Statement",), raw)]
        elif isinstance(raw, list):
            items = [(("Statement", i), s) for i, s in enumerate(raw)]
            if not raw:
                # IAM refuses it (recorded: {"Version": "2012-10-17", "Statement": []}
                # → "Syntax errors in policy.").
                self.report(ERROR if self.iam else WARNING, "EMPTY_STATEMENT",
                            "The Statement list is empty: the policy allows nothing.", ("Statement",),
                            aws=self.aws(SYNTAX_ERRORS, AwsStage.SYNTAX))
        else:
            self.type_mismatch(("Statement",), raw, "a statement object or a list of them")
            return []
        out = []
        for index, (path, item) in enumerate(items):
            if not isinstance(item, dict):
                self.type_mismatch(path, item, "a statement object")
                continue
            out.append(_StatementReader(self, item, path, index).read())
        return out

    def check_sids(self, statements: list[Statement]) -> None:
        seen: set[str] = set()
        for st in statements:
            if not st.sid:
                continue  # several empty Sids are accepted by AWS (corpus valid-49)
            if st.sid in seen:
                self.report(ERROR, "UNIQUE_SIDS_REQUIRED", f"Sid {quote(st.sid)} is used by more than one statement.",
                            st.path + ("Sid",),
                            aws=self.aws("Statement IDs (SID) in a single policy must be unique.",
                                         AwsStage.SIDS_AND_PRINCIPAL))
            seen.add(st.sid)


class _StatementReader:
    """One statement's elements, in the order AWS reports their errors."""

    def __init__(self, reader: _Reader, raw: dict, path: JsonPath, index: int):
        self.r = reader
        self.raw = raw
        self.path = path
        self.index = index
        self.source = reader.source

    def read(self) -> Statement:
        r, raw, path = self.r, self.raw, self.path
        for key in raw:
            if key not in STATEMENT_KEYS:
                r.syntax_error("INVALID_POLICY_ELEMENT", f"The element {quote(key)} is not a statement element "
                               f"(expected {', '.join(STATEMENT_KEYS)}).", path + (key,), on_key=True)
        for a, b in (("Action", "NotAction"), ("Resource", "NotResource"), ("Principal", "NotPrincipal")):
            if a in raw and b in raw:
                r.syntax_error("UNSUPPORTED_ELEMENT_COMBINATION", f"A statement may have {a} or {b}, not both.",
                               path + (b,), on_key=True)
        sid = self.sid()
        effect = self.effect()
        principal, not_principal = self.principals()
        action, not_action = self.actions()
        resource, not_resource = self.resources()
        condition = self.conditions()
        return Statement(path, self.source, self.index, sid, effect, principal, not_principal,
                         action, not_action, resource, not_resource, condition)

    # -- Sid, Effect

    def sid(self) -> str | None:
        if "Sid" not in self.raw:
            return None
        sid, path = self.raw["Sid"], self.path + ("Sid",)
        if not _is_text(sid):
            self.r.type_mismatch(path, sid, "a string")
            return None
        if not _SID.fullmatch(sid):
            strict = self.r.iam
            self.r.report(ERROR if strict else SUGGESTION, "UNSUPPORTED_SID",
                          f"Sid {quote(sid)} is not alphanumeric" + ("." if strict else "; IAM policies would reject it."),
                          path, aws=self.r.aws("Statement IDs (SID) must be alpha-numeric. Check that your input "
                                               "satisfies the regular expression [0-9A-Za-z]*",
                                               AwsStage.SIDS_AND_PRINCIPAL))
        return sid

    def effect(self) -> Effect | None:
        if "Effect" not in self.raw:
            self.r.syntax_error("MISSING_EFFECT", "The statement has no Effect.", self.path)
            return None
        effect, path = self.raw["Effect"], self.path + ("Effect",)
        if not _is_text(effect):
            self.r.type_mismatch(path, effect, "a string")
            return None
        if effect not in ("Allow", "Deny"):
            # Case matters: "allow", "denY" pass IAM's syntax check and fail its
            # legacy parser (corpus invalid-63, -69, -70); any other word is a
            # syntax error (recorded: "Effect": "invalid" → "Syntax errors in policy.").
            if effect.lower() in ("allow", "deny"):
                aws = self.r.aws(LEGACY_PARSING, AwsStage.LEGACY_EFFECT_AND_DATES)
            else:
                aws = self.r.aws(SYNTAX_ERRORS, AwsStage.SYNTAX)
            self.r.report(ERROR, "INVALID_EFFECT", f'Effect must be "Allow" or "Deny", not {quote(effect)}.', path, aws=aws)
            return None
        return Effect(effect)

    # -- Principal / NotPrincipal

    def principals(self):
        out = []
        ptype = self.r.policy_type
        present = [k for k in ("Principal", "NotPrincipal") if k in self.raw]
        if present and ptype in NO_PRINCIPAL_TYPES:
            code = "SCP_SYNTAX_ERROR_PRINCIPAL" if ptype == PolicyType.SCP else "UNSUPPORTED_PRINCIPAL"
            self.r.report(ERROR, code, f"An {ptype} policy cannot have a {present[0]} element.",
                          self.path + (present[0],), on_key=True,
                          aws=self.r.aws("Policy document should not specify a principal.", AwsStage.SIDS_AND_PRINCIPAL))
        if not present and ptype in PRINCIPAL_TYPES:
            self.r.report(ERROR, "MISSING_PRINCIPAL", f"A {ptype} policy statement needs a Principal.", self.path,
                          aws=self.r.aws("Missing required field Principal", AwsStage.SYNTAX))
        for key in ("Principal", "NotPrincipal"):
            out.append(self.principal(key) if key in self.raw else None)
        return out

    def principal(self, key: str) -> tuple[PrincipalEntry, ...]:
        value, path = self.raw[key], self.path + (key,)
        if _is_text(value) and value == "*":
            return (PrincipalEntry(path, self.source, PrincipalKind.ANY, "*"),)
        if not isinstance(value, dict):
            self.r.type_mismatch(path, value, '"*" or an object of principal kinds')
            return ()
        entries = []
        for kind_name, values in value.items():
            kpath = path + (kind_name,)
            try:
                kind = PrincipalKind(kind_name)
            except ValueError:
                kind = None
            if kind is None or kind is PrincipalKind.ANY:
                self.r.report(ERROR, "INVALID_PRINCIPAL_KEY", f"{quote(kind_name)} is not a principal kind "
                              "(AWS, Service, Federated, CanonicalUser).", kpath, on_key=True,
                              aws=self.r.aws("Invalid principal in policy", AwsStage.SYNTAX))
                continue
            for vpath, text in self.strings(kpath, values):
                self.check_principal_value(kind, text, vpath)
                entries.append(PrincipalEntry(vpath, self.source, kind, text))
        if self.r.policy_type == PolicyType.RCP and key == "Principal":
            self.r.report(ERROR, "RCP_SYNTAX_ERROR_PRINCIPAL", 'An RCP statement\'s Principal must be "*".', path)
        return tuple(entries)

    def check_principal_value(self, kind: PrincipalKind, text: str, path: JsonPath) -> None:
        if kind is PrincipalKind.AWS:
            if text == "*" or _ACCOUNT_ID.fullmatch(text) or _UNIQUE_ID.fullmatch(text):
                return
            if "*" in text or "?" in text:
                self.r.report(ERROR, "UNSUPPORTED_WILDCARD_IN_PRINCIPAL",
                              f"{quote(text)}: a principal cannot hold a partial wildcard; use \"*\" with a condition "
                              "on aws:PrincipalArn instead.", path, aws=self.r.aws("Invalid principal in policy", AwsStage.SYNTAX))
            elif not _PRINCIPAL_ARN.fullmatch(text):
                self.r.report(ERROR, "INVALID_PRINCIPAL_FORMAT", f"{quote(text)} is neither an account id nor an IAM/STS "
                              "principal ARN.", path, aws=self.r.aws("Invalid principal in policy", AwsStage.SYNTAX))
        elif kind is PrincipalKind.SERVICE and text != "*" and not _SERVICE_PRINCIPAL.fullmatch(text):
            self.r.report(WARNING, "INVALID_SERVICE_PRINCIPAL_FORMAT",
                          f"{quote(text)} does not look like a service principal (name.amazonaws.com).", path)

    # -- Action / NotAction

    def actions(self):
        out = []
        for key in ("Action", "NotAction"):
            out.append(self.action_list(key) if key in self.raw else None)
        if not self.has_entries("Action", "NotAction"):
            self.r.report(ERROR, "MISSING_ACTION", "The statement has no Action or NotAction.", self.path,
                          aws=self.r.aws("Policy statement must contain actions.", AwsStage.MISSING_ACTION))
        return out

    def action_list(self, key: str) -> tuple[ActionPattern, ...]:
        patterns = []
        for path, text in self.strings(self.path + (key,), self.raw[key]):
            syntax = parse_action(text)
            if syntax is None:
                self.bad_action(text, path)
                continue
            if not syntax.names_action:
                self.action_naming_nothing(key, text, syntax.name, path)
            service = syntax.service.lower() if syntax.service else None
            patterns.append(ActionPattern(path, self.source, text, service, syntax.name, syntax.names_action))
        return tuple(patterns)

    def action_naming_nothing(self, key: str, text: str, name: str, path: JsonPath) -> None:
        """IAM stores an entry whose name is no action name (a recorded
        CreatePolicy accepted "iam: asdf safdsf af "); it matches no action."""
        effect = ("it excludes nothing: the statement applies to every action" if key == "NotAction"
                  else "it matches no action")
        if "${" in name:
            code, why = "VARIABLE_UNSUPPORTED_IN_ELEMENT", "policy variables are not substituted in Action"
        elif not name:
            code, why = "INVALID_ACTION", "it has no action name after the colon"
        else:
            code, why = "INVALID_ACTION", f"{quote(name)} is not an action name (letters, digits, * and ?)"
        self.r.report(WARNING, code, f"{quote(text)}: {why}. IAM stores it, and {effect}.", path)

    def bad_action(self, text: str, path: JsonPath) -> None:
        stage = AwsStage.ACTION_FORMAT
        if ":" not in text:
            self.r.report(ERROR, "INVALID_ACTION", f"{quote(text)} has no service prefix (service:action).", path,
                          aws=self.r.aws("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.", stage))
        elif text.count(":") > 1:
            # "s3:${aws:username}": the variable's own colon is the second one.
            code, why = (("VARIABLE_UNSUPPORTED_IN_ELEMENT", "policy variables are not allowed in Action, and it has "
                          "more than one colon") if "${" in text else ("INVALID_ACTION", "has more than one colon"))
            self.r.report(ERROR, code, f"{quote(text)} {why}.", path,
                          aws=self.r.aws("Actions/Condition can contain only one colon.", stage))
        else:
            # One colon and the entry did not parse: the vendor is not a name
            # (a name after the colon is always stored, see action.lark).
            vendor, _ = text.split(":")
            self.r.report(ERROR, "INVALID_SERVICE_IN_ACTION", f"{quote(vendor)} is not a service prefix.", path,
                          aws=self.r.aws(f"Vendor {vendor} is not valid", stage))

    # -- Resource / NotResource

    def resources(self):
        ptype = self.r.policy_type
        present = [k for k in ("Resource", "NotResource") if k in self.raw]
        if ptype == PolicyType.TRUST and present:
            self.r.report(ERROR, "INVALID_POLICY_ELEMENT", f"A trust policy cannot have {present[0]}.",
                          self.path + (present[0],), on_key=True,
                          aws=self.r.aws(f"Has prohibited field {present[0]}", AwsStage.SYNTAX))
        out = [self.resource_list(k) if k in self.raw else None for k in ("Resource", "NotResource")]
        if not self.has_entries("Resource", "NotResource") and ptype != PolicyType.TRUST:
            missing_is_error = ptype != PolicyType.RESOURCE  # some resource policies (ECR) omit it
            self.r.report(ERROR if missing_is_error else WARNING, "MISSING_RESOURCE",
                          "The statement has no Resource or NotResource.", self.path,
                          aws=self.r.aws("Policy statement must contain resources.", AwsStage.MISSING_RESOURCE))
        return out

    def resource_list(self, key: str) -> tuple[ResourcePattern, ...]:
        patterns = []
        for path, text in self.strings(self.path + (key,), self.raw[key]):
            pattern = self.resource_pattern(text, path)
            if pattern is not None:
                patterns.append(pattern)
        return tuple(patterns)

    def resource_pattern(self, text: str, path: JsonPath) -> ResourcePattern | None:
        if text == "*":
            return ResourcePattern(path, self.source, text, True, (), None)
        if not self.check_arn(text, path):
            return None
        syntax = parse_resource(text)
        if syntax is None:
            self.bad_variables(text, path)
            return None
        resource = None
        if syntax.resource is not None:
            resource = self.template(syntax.resource, text, path)
        return ResourcePattern(path, self.source, text, False, syntax.parts, resource)

    def check_arn(self, text: str, path: JsonPath) -> bool:
        """The checks IAM makes on a resource ARN; True if none failed."""
        problem = arn_problem(text)
        if problem is None:
            return True
        finding_type, code, message, aws_message, stage = problem
        self.r.report(finding_type, code, message, path,
                      aws=self.r.aws(aws_message, stage) if aws_message else None)
        return finding_type is not ERROR

    # -- Condition

    def conditions(self) -> tuple[ConditionClause, ...]:
        if "Condition" not in self.raw:
            return ()
        block, path = self.raw["Condition"], self.path + ("Condition",)
        if not isinstance(block, dict):
            self.r.type_mismatch(path, block, "an object of condition operators")
            return ()
        clauses = []
        for op_text, keys in block.items():
            opath = path + (op_text,)
            if not isinstance(keys, dict):
                self.r.type_mismatch(opath, keys, "an object of condition keys")
                continue
            operator = self.operator(op_text, opath, empty=not keys)
            for key, raw_values in keys.items():
                clause = self.clause(operator, key, raw_values, opath + (key,))
                if clause is not None:
                    clauses.append(clause)
        return tuple(clauses)

    def operator(self, text: str, path: JsonPath, empty: bool) -> ConditionOperator:
        syntax = parse_operator(text)
        if syntax is None:
            # IAM accepts an unknown operator over an empty block (corpus valid-19):
            # it can never be evaluated, so it constrains nothing.
            self.r.report(WARNING if empty else ERROR, "INVALID_CONDITION_OPERATOR",
                          f"{quote(text)} is not a condition operator." + (" Its block is empty." if empty else ""),
                          path, on_key=True, aws=None if empty else self.r.aws(SYNTAX_ERRORS, AwsStage.SYNTAX))
            return ConditionOperator(text, None, None, False)
        if syntax.base == "Null" and syntax.if_exists:
            self.r.report(ERROR, "NULL_WITH_IF_EXISTS", "Null cannot take the IfExists suffix.", path, on_key=True)
        return ConditionOperator(text, syntax.qualifier, syntax.base, syntax.if_exists)

    def clause(self, operator: ConditionOperator, key: str, raw: Any, path: JsonPath) -> ConditionClause | None:
        items = raw if isinstance(raw, list) else [raw]
        if isinstance(raw, list) and not raw:
            self.r.report(WARNING, "EMPTY_CONDITION_VALUES", f"Condition key {quote(key)} has no values.", path)
        cvalues = []
        op = OPERATORS.get(operator.base) if operator.base else None
        for i, item in enumerate(items):
            vpath = path + (i,) if isinstance(raw, list) else path
            if isinstance(item, bool):
                text, json_type = ("true" if item else "false"), "boolean"
            elif isinstance(item, JsonNumber):
                text, json_type = str(item), "number"
            elif isinstance(item, str):
                text, json_type = item, "string"
            else:
                self.r.type_mismatch(vpath, item, "a string, number or boolean")
                continue
            template = None
            if op is not None:
                self.check_condition_value(op, text, vpath)
                if op.variables and "${" in text:
                    template = self.condition_template(text, vpath)
                elif "${" in text and self.r.version == CURRENT_VERSION and op.value_type is not ValueType.NULL:
                    self.r.report(WARNING, "INVALID_VARIABLE_FOR_OPERATOR", f"{operator.base} does not substitute "
                                  f"policy variables: {quote(text)} is compared as written.", vpath)
            cvalues.append(ConditionValue(vpath, self.source, text, json_type, template))
        if op is not None and op.value_type in (ValueType.BOOL, ValueType.NULL) and len(cvalues) > 1:
            self.r.report(WARNING, "INVALID_CONDITION_MULTIPLE_BOOLEAN",
                          f"{operator.base} on {quote(key)} lists several values; one is enough.", path)
        return ConditionClause(path, self.source, operator, key, tuple(cvalues))

    def check_condition_value(self, op, text: str, path: JsonPath) -> None:
        problem = values.problem(op.value_type, text)
        if problem is None or (op.variables and "${" in text):
            return
        if op.value_type is ValueType.DATE:
            if iam_reads_date(text):
                # IAM's legacy parser reads it (recorded: "01T" is stored), so
                # the document is stored; the kernel reads no date from it.
                self.r.report(WARNING, "INVALID_CONDITION_DATA_TYPE", f"{quote(text)}: IAM stores this date, but this "
                              f"tool reads no date from it ({problem}): the clause is false wherever it is compared "
                              f"({op.name}).", path)
                return
            # A Date IAM's legacy parser cannot read is refused (corpus invalid-64,
            # -73, -74 and translator/dates.py).
            self.r.report(ERROR, "INVALID_CONDITION_DATA_TYPE", f"{quote(text)} is not {problem} ({op.name}).", path,
                          aws=self.r.aws(LEGACY_PARSING, AwsStage.LEGACY_EFFECT_AND_DATES))
            return
        # For other types IAM's answer is not recorded.
        self.r.report(ERROR, "INVALID_CONDITION_DATA_TYPE", f"{quote(text)} is not {problem} ({op.name}).", path)

    # -- policy variables

    def condition_template(self, text: str, path: JsonPath) -> Template | None:
        if self.r.version != CURRENT_VERSION:
            self.variables_are_literal(text, path)
            return None
        pieces = parse_template(text)
        if pieces is None:
            self.bad_variables(text, path)
            return None
        return self.template(pieces, text, path)

    def template(self, pieces, text: str, path: JsonPath) -> Template | None:
        if "${" not in text:
            return pieces  # the grammar's fast path: one literal, already a tuple
        if self.r.version != CURRENT_VERSION:
            self.variables_are_literal(text, path)
            return ("".join(p if isinstance(p, str) else p.text for p in pieces),)
        out: list = []
        for p in pieces:
            if isinstance(p, str):
                out.append(p)
            elif p.escape is not None:
                out.append(Escape(p.escape))
            else:
                out.append(Variable(p.key, p.default))
        return tuple(out)

    def variables_are_literal(self, text: str, path: JsonPath) -> None:
        self.r.report(WARNING, "VARIABLE_UNSUPPORTED_IN_VERSION", f"{quote(text)}: under Version "
                      f"{self.r.version or '(none)'} policy variables are literal text.", path)

    def bad_variables(self, text: str, path: JsonPath) -> None:
        code, why = _variable_problem(text)
        self.r.report(ERROR, code, f"{quote(text)}: {why}", path)

    # -- shared shapes

    def has_entries(self, *keys: str) -> bool:
        """Whether the statement writes one of these elements with something in
        it (an empty list counts as missing: corpus invalid-28)."""
        raw = self.raw
        for k in keys:
            if k in raw and raw[k] != []:
                return True
        return False

    def strings(self, path: JsonPath, raw: Any):
        """The (path, text) entries of an element that is a string or a list of
        strings; anything else is reported."""
        if _is_text(raw):
            return [(path, raw)]
        if isinstance(raw, list):
            out = []
            for i, item in enumerate(raw):
                if _is_text(item):
                    out.append((path + (i,), item))
                else:
                    self.r.type_mismatch(path + (i,), item, "a string")
            return out
        self.r.type_mismatch(path, raw, "a string or a list of strings")
        return []


_PLAIN_ARN = re.compile(r"arn:([a-z\-]+):([A-Za-z0-9\-._]+):([^:$]*):([^:$]*):([^$]*)")

# The services whose ARNs IAM refuses with a region in them, and its words
# (recorded: "IAM resource arn:aws:iam:us-east-1::example_bucket cannot contain
# region information.", "Resource arn:aws:s3:us-east-1::example_bucket can not
# contain region information."; the same S3 answer for
# "arn:aws:s3:us-west-2:847560344714:functest-tenant1/training/*", boto/boto3#1154,
# and for "arn:aws:route53:eu-west-1:<account>:hostedzone/*").
REGIONLESS = {
    "iam": "IAM resource {} cannot contain region information.",
    "s3": "Resource {} can not contain region information.",
    "route53": "Resource {} can not contain region information.",
}
# S3's regional resource types (the service catalogue's ARN formats with a
# ${Region}): an access point ARN carries a region and is accepted (recorded
# valid-50; AWS managed policies store arn:aws:s3:*:*:access-grants/default).
S3_REGIONAL_PREFIXES = ("accesspoint/", "access-grants/", "job/", "storage-lens/", "storage-lens-group/",
                        "async-request/")
# Route 53 ARNs carry no account either ("Resource arn:aws:route53::<account>:
# hostedzone/* cannot contain an account id.").
ACCOUNTLESS = {"route53": "Resource {} cannot contain an account id."}


def _concrete(segment: str) -> bool:
    """A region or account that names one: not empty, not wildcards only.
    Whether IAM refuses a wildcard-only region where it refuses a region is
    not recorded; AWS's own policies write "*" there for regional types, and
    a document IAM might store is not refused here."""
    return bool(segment.strip("*?"))


def _partition_ok(partition: str) -> bool:
    """A partition IAM stores: a known one, or a wildcard pattern matching one
    (AWS's own managed policies write arn:*:, 45 of them)."""
    if partition in PARTITIONS:
        return True
    if "*" in partition or "?" in partition:
        rx = re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in partition))
        return any(rx.fullmatch(p) for p in PARTITIONS)
    return False


def _region_problem(text: str, service: str, region: str, account: str, resource: str):
    if service in REGIONLESS and _concrete(region) and not (
        service == "s3" and (resource.startswith(S3_REGIONAL_PREFIXES) or resource[:1] in ("*", "?"))
    ):
        return ERROR, "INVALID_ARN_REGION", f"{quote(text)}: a {service} resource has no region.", \
            REGIONLESS[service].format(text), AwsStage.RESOURCE_FORMAT
    if service in ACCOUNTLESS and _concrete(account):
        return ERROR, "INVALID_ARN_ACCOUNT", f"{quote(text)}: a {service} resource has no account.", \
            ACCOUNTLESS[service].format(text), AwsStage.RESOURCE_FORMAT
    return None


@lru_cache(maxsize=65536)
def arn_problem(text: str) -> tuple[FindingType, str, str, str | None, AwsStage] | None:
    """What IAM says of a resource ARN, in IAM's order of checks: None, or
    (finding type, issue code, message, AWS message, AWS stage)."""
    plain = _PLAIN_ARN.fullmatch(text)
    if plain and plain.group(1) in PARTITIONS and plain.group(2) not in REGIONLESS and plain.group(2) not in ACCOUNTLESS:
        return None  # the common case: six parts, known partition, plain service
    fmt = AwsStage.RESOURCE_FORMAT
    if ":" not in text:
        return ERROR, "INVALID_ARN_PREFIX", f'{quote(text)} is neither an ARN nor "*".', \
            f'Resource {_verbatim(text)} must be in ARN format or "*".', fmt
    parts = _arn_parts(text)
    if "${" in text and any("${" in part for part in parts[:5]):
        return ERROR, "VARIABLE_UNSUPPORTED_IN_ELEMENT", f"{quote(text)}: policy variables are allowed only in the " \
            "resource part of an ARN (after the fifth colon).", None, fmt
    # IAM reads "aws:s3:::b" as if its first part were "arn" (corpus invalid-24).
    normal = ["arn"] + parts[1:]
    shown = ":".join(normal + ["*"] * (6 - len(normal)))
    if not _partition_ok(normal[1]):
        return ERROR, "INVALID_PARTITION", f"{quote(normal[1])} is not an AWS partition.", \
            f'Partition "{normal[1]}" is not valid for resource "{shown}".', fmt
    if len(normal) < 3 or "*" in normal[2] or "?" in normal[2]:
        return ERROR, "INVALID_SERVICE", f"{quote(text)}: the service part must be a plain service name.", \
            "Resource vendor must be fully qualified and cannot contain regexes.", fmt
    if len(normal) == 6:
        problem = _region_problem(text, normal[2], normal[3], normal[4], normal[5])
        if problem is not None:
            return problem
    if normal[2] == "iam" and len(normal) == 6 and not (
        normal[5] in ("*", "root") or normal[5].startswith(IAM_RESOURCE_PREFIXES)
    ):
        return ERROR, "INVALID_ARN_RESOURCE", f"{quote(normal[5])} is not an IAM resource path.", IAM_PATH_MESSAGE, fmt
    if parts[0] != "arn":
        return ERROR, "INVALID_ARN_PREFIX", f'{quote(text)} does not start with "arn:".', \
            f'Resource {_verbatim(text)} must be in ARN format or "*".', fmt
    if len(parts) == 5 or normal[2] == "":
        # IAM's legacy parser rejects five parts (corpus invalid-36) and an
        # empty service (invalid-68, -77); it accepts "arn:aws:svc" (valid-9).
        return ERROR, "MISSING_ARN_FIELD", f"{quote(text)} has {len(parts)} of the 6 ARN parts" + \
            (" and no service." if normal[2] == "" else "."), LEGACY_PARSING, AwsStage.LEGACY_ARN_PARTS
    if len(parts) < 6 and not text.endswith("*"):
        # Only a * ending the last segment reaches past the colons (§3).
        return WARNING, "MISSING_ARN_FIELD", f"{quote(text)} has {len(parts)} of the 6 ARN parts and does not end " \
            "in *: it matches no resource.", None, fmt
    return None


_VARIABLE_SPAN = re.compile(r"\$\{[^}]*\}")


def _arn_parts(text: str) -> list[str]:
    """Split at the first five colons that are not inside a ``${...}``."""
    if "${" not in text:
        return text.split(":", 5)
    masked = _VARIABLE_SPAN.sub(lambda m: "$" * len(m.group()), text)
    cuts = [i for i, ch in enumerate(masked) if ch == ":"][:5]
    bounds = [-1, *cuts, len(text)]
    return [text[a + 1 : b] for a, b in zip(bounds, bounds[1:])]


def _verbatim(text: str) -> str:
    """A value as IAM's own message echoes it: whole, up to the longest ARN
    IAM takes (2,048 characters); past that (only a document beyond every
    size quota gets here), quoted."""
    return text if len(text) <= 2048 else quote(text)


def _where(path: JsonPath) -> str:
    from ..grammar.source import json_path

    return json_path(path)


def _variable_problem(text: str) -> tuple[str, str]:
    start = text.find("${")
    while start != -1:
        end = text.find("}", start)
        if end == -1:
            return "MISSING_BRACE_IN_VARIABLE", "a policy variable opened with ${ is never closed."
        inner = text[start + 2 : end]
        if not inner.strip():
            return "EMPTY_VARIABLE", "a policy variable ${} names no key."
        key, _, default = inner.partition(",")
        if " " in key.strip(" ") or key != key.strip(" "):
            return "UNSUPPORTED_SPACE_IN_VARIABLE", f"the variable ${{{inner}}} has a space in its key."
        if default and not re.fullmatch(r" *'[^']*'", default):
            return "MISSING_QUOTE_IN_VARIABLE", f"the default of ${{{inner}}} must be in single quotes."
        if default == "" and "," in inner:
            return "MISSING_QUOTE_IN_VARIABLE", f"the variable ${{{inner}}} has a comma but no default."
        if not re.fullmatch(r"[A-Za-z0-9:/_.\-+=@]+|[*?$]", key):
            return "UNSUPPORTED_SYMBOL_IN_VARIABLE", f"the key of ${{{inner}}} holds a character keys cannot."
        start = text.find("${", end)
    return "UNSUPPORTED_SYMBOL_IN_VARIABLE", "a policy variable is malformed."


_BRACKETS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _too_deep_offset(text: str, limit: int = 500) -> int:
    depth = 0
    for m in _BRACKETS.finditer(text):
        ch = m.group()
        if ch in "[{":
            depth += 1
            if depth > limit:
                return m.start()
        elif ch in "]}":
            depth -= 1
    return 0
