"""Checks against the AWS service catalogue (kernel/catalogue.py), as Access
Analyzer's ValidatePolicy makes them: actions that do not exist, condition
keys no service defines, condition operators that do not fit a key's type.

These are ``validate``'s, not ``parse_policy``'s: IAM itself accepts an unknown
action (corpus valid-6, -27), so a policy with one still parses, and is still
evaluated by the kernel; the findings carry no IAM error. Nor are they ever
ERRORs (which block): IAM stores these documents — AWS's own managed policies
name retired services (``codestar:*``), actions that never existed
(``s3:ListBuckets``) and keys the catalogue lacks — so a finding here is a
WARNING (or a SECURITY_WARNING), whatever Access Analyzer would call it.
"""

from __future__ import annotations


from ..kernel.catalogue import CATALOGUE, Catalogue
from ..kernel.operators import OPERATORS, ValueType
from ..errors import quote
from .findings import CappedFindings, Finding, FindingType, Location
from .model import Policy

# Which operator value types fit a key type (ArrayOf… keys: the element type).
_FITS = {
    "String": {ValueType.STRING},
    "ARN": {ValueType.ARN, ValueType.STRING},
    "Bool": {ValueType.BOOL},
    "Date": {ValueType.DATE},
    "Numeric": {ValueType.NUMERIC},
    "IPAddress": {ValueType.IP_ADDRESS},
}


def catalogue_findings(policy: Policy, catalogue: Catalogue = CATALOGUE) -> list[Finding]:
    out = CappedFindings(policy.name)

    def report(kind: FindingType, code: str, message: str, path, on_key=False):
        out.append(Finding(kind, code, message, (Location(path, None, on_key),), None, policy.name))

    for st in policy.statements:
        for pattern in (st.action or ()) + (st.not_action or ()):
            if pattern.service is None or not pattern.names_action:
                continue  # "*"; an entry naming no action, which the reader reported
            if not catalogue.has_service(pattern.service):
                report(FindingType.WARNING, "INVALID_SERVICE_IN_ACTION",
                       f"The service {quote(pattern.service)} in {quote(pattern.text)} does not exist.", pattern.path)
            elif "*" in pattern.name or "?" in pattern.name:
                if not catalogue.expand(pattern.text):
                    report(FindingType.WARNING, "INVALID_ACTION", f"{quote(pattern.text)} matches no action of "
                           f"{pattern.service}.", pattern.path)
            elif catalogue.action(pattern.service, pattern.name) is None:
                report(FindingType.WARNING, "INVALID_ACTION", f"The action {quote(pattern.text)} does not exist.",
                       pattern.path)
        for clause in st.condition:
            op = OPERATORS.get(clause.operator.base) if clause.operator.base else None
            prefix, colon, _ = clause.key.partition(":")
            if not colon or "." in prefix:
                continue  # identity-provider keys (accounts.google.com:aud) and the like: not in the catalogue
            kind = catalogue.condition_key_type(clause.key)
            if kind is None:
                if prefix.lower() == "aws":
                    report(FindingType.WARNING, "INVALID_GLOBAL_CONDITION_KEY",
                           f"{quote(clause.key)} is not a global condition key.", clause.path, on_key=True)
                elif catalogue.has_service(prefix):
                    report(FindingType.WARNING, "INVALID_SERVICE_CONDITION_KEY",
                           f"{quote(clause.key)} is not a condition key of {prefix}.", clause.path, on_key=True)
                continue
            if op is None or op.value_type is ValueType.NULL:
                continue
            multi = kind.startswith("ArrayOf")
            element = kind.removeprefix("ArrayOf")
            if op.value_type not in _FITS.get(element, {op.value_type}):
                report(FindingType.WARNING, "TYPE_MISMATCH", f"{clause.operator.base} compares "
                       f"{op.value_type.value} values, but {clause.key} is of type {kind}.", clause.path, on_key=True)
            if multi and clause.operator.qualifier is None:
                report(FindingType.WARNING, "MISSING_QUALIFIER", f"{clause.key} is multi-valued: use ForAnyValue: "
                       f"or ForAllValues: with {clause.operator.base}.", clause.path, on_key=True)
            elif not multi and clause.operator.qualifier == "ForAllValues":
                report(FindingType.SECURITY_WARNING, "FORALLVALUES_WITH_SINGLE_VALUED_KEY",
                       f"ForAllValues on the single-valued key {clause.key} is true when the key is absent; "
                       "this usually allows more than intended.", clause.path, on_key=True)
            elif not multi and clause.operator.qualifier == "ForAnyValue":
                report(FindingType.WARNING, "FORANYVALUE_WITH_SINGLE_VALUED_KEY",
                       f"{clause.key} is single-valued: ForAnyValue is not needed.", clause.path, on_key=True)
    # Spans for the listed findings only.
    return [f.with_spans(policy.source) for f in out.findings()]
