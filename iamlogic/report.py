"""Rendering validation results: text for people, JSON for programs, SARIF
2.1.0 for code-scanning tools."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TextIO

from .translator import AwsError, Finding, FindingType, PolicyType, aws_error_for


@dataclass
class FileResult:
    """What validate found in one input."""

    file: str
    policy_type: PolicyType
    findings: list[Finding] = field(default_factory=list)
    catalogue: str | None = None  # the catalogue version the checks used
    # Which policy of the file (a template's, a CLI output's); "": the file
    # is one, named as a folder's file is; None: the file is one, given by name.
    policy: str | None = None

    @property
    def aws_error(self) -> AwsError | None:
        return aws_error_for(self.findings)

    def blocking(self, blocking_types: frozenset[FindingType]) -> list[Finding]:
        return [f for f in self.findings if f.finding_type in blocking_types]

    def to_dict(self, blocking_types: frozenset[FindingType]) -> dict:
        aws = self.aws_error
        return {
            "file": self.file,
            **({"policy": self.policy} if self.policy else {}),
            "policyType": str(self.policy_type),
            "blocking": bool(self.blocking(blocking_types)),
            "awsError": aws.to_dict() if aws else None,
            "catalogue": self.catalogue,
            "findings": [f.to_dict() for f in self.findings],
        }


# Each format is written as it is produced, one input at a time: a run over
# many files (or a document with many findings) never holds the whole output
# in memory, and its first results are out before the last file is read.


class TextReport:
    """One line per finding, then AWS's answer, per input."""

    def __init__(self, out: TextIO):
        self.out = out

    def write(self, result: FileResult) -> None:
        if result.policy is not None:  # a policy a file holds, or a file of a folder: named, findings or not
            named = f"{result.file}: {result.policy}" if result.policy else result.file
            self.out.write(f"{named} ({result.policy_type}): {len(result.findings)} finding(s)\n")
        for f in result.findings:
            where = f"{result.file}:{f.span.line}:{f.span.column}" if f.span else result.file
            path = f.locations[0].to_dict()["path"] if f.locations else "$"
            self.out.write(f"{where}: {f.finding_type} {f.issue_code} at {path}: {f.message}\n")
        aws = result.aws_error
        if aws is not None:
            self.out.write(f"{result.file}: AWS would answer {aws.code}: {aws.message}\n")

    def close(self) -> None:
        pass


class JsonReport:
    """A JSON array of one object per input, as ``json.dumps(..., indent=2)``
    prints it, each element written when its input is done."""

    def __init__(self, out: TextIO, blocking_types: frozenset[FindingType]):
        self.out, self.blocking_types, self.count = out, blocking_types, 0

    def write(self, result: FileResult) -> None:
        self.out.write(("[\n" if self.count == 0 else ",\n") + json_indented(result.to_dict(self.blocking_types), 1))
        self.count += 1

    def close(self) -> None:
        self.out.write("\n]\n" if self.count else "[]\n")


class AwsReport:
    """What ``aws accessanalyzer validate-policy`` prints (aws_format.py):
    for one policy, exactly its ValidatePolicyResponse; for several (a
    template, an export, a folder, several files), one JSON array of
    {"file", "policy", "response"}, each response exactly that shape, so the
    output stays one JSON document. The first result is held until a second
    shows which of the two it is."""

    def __init__(self, out: TextIO):
        self.out = out
        self.first: FileResult | None = None
        self.count = 0

    def write(self, result: FileResult) -> None:
        self.count += 1
        if self.count == 1:
            self.first = result
            return
        if self.count == 2:
            self.out.write("[\n" + self._element(self.first))
            self.first = None
        self.out.write(",\n" + self._element(result))

    def _element(self, result: FileResult) -> str:
        from .aws_format import element_text, named, validate_response

        return element_text(named(result.file, result.policy or "", validate_response(result.findings)), sort_keys=True)

    def close(self) -> None:
        from .aws_format import validate_text

        if self.count == 1:
            self.out.write(validate_text(self.first.findings))
        elif self.count:
            self.out.write("\n]\n")


_SARIF_LEVEL = {
    FindingType.ERROR: "error",
    FindingType.SECURITY_WARNING: "error",
    FindingType.WARNING: "warning",
    FindingType.SUGGESTION: "note",
}


class SarifReport:
    """SARIF 2.1.0: one run whose results are written as they come; the
    tool's rules (the issue codes met) follow them, once all are known."""

    def __init__(self, out: TextIO, tool_version: str):
        self.out, self.tool_version = out, tool_version
        self.rules: dict[str, dict] = {}
        self.catalogue: str | None = None
        self.count = 0
        out.write('{\n  "$schema": "https://json.schemastore.org/sarif-2.1.0.json",\n  "version": "2.1.0",\n'
                  '  "runs": [\n    {\n      "results": [')

    def write(self, result: FileResult) -> None:
        self.catalogue = self.catalogue or result.catalogue
        for f in result.findings:
            self.rules.setdefault(f.issue_code, {"id": f.issue_code, "name": _rule_name(f.issue_code),
                                                 "shortDescription": {"text": f.issue_code.replace("_", " ").lower()}})
            self.out.write(("\n" if self.count == 0 else ",\n") + json_indented(sarif_result(result, f), 4))
            self.count += 1

    def close(self) -> None:
        driver = {"name": "iamlogic", "version": self.tool_version, "rules": list(self.rules.values()),
                  "properties": {"catalogue": self.catalogue}}
        self.out.write(("\n      ]" if self.count else "]") + ',\n      "tool": '
                       + json_indented({"driver": driver}, 3).lstrip() + "\n    }\n  ]\n}\n")


def sarif_result(result: FileResult, f: Finding) -> dict:
    location: dict = {"physicalLocation": {"artifactLocation": {"uri": result.file}}}
    if f.span is not None:
        location["physicalLocation"]["region"] = {
            "startLine": f.span.line,
            "startColumn": f.span.column,
            "endLine": f.span.end_line,
            "endColumn": max(f.span.end_column, 1),
            "charOffset": f.span.start,
            "charLength": f.span.end - f.span.start,
        }
    if f.locations:
        path = f.locations[0].to_dict()["path"]
        location["logicalLocations"] = [{"fullyQualifiedName": f"{result.policy} {path}" if result.policy else path,
                                         "kind": "element"}]
    properties = {"findingType": str(f.finding_type), "policyType": str(result.policy_type)}
    if f.aws_error is not None:
        properties["awsError"] = f.aws_error.to_dict()
    return {
        "ruleId": f.issue_code,
        "level": _SARIF_LEVEL[f.finding_type],
        "message": {"text": f.message},
        "locations": [location],
        "properties": properties,
    }


def json_indented(value: object, depth: int) -> str:
    """``value`` as json.dumps(indent=2) prints it ``depth`` levels down."""
    pad = "  " * depth
    return pad + json.dumps(value, indent=2).replace("\n", "\n" + pad)


def _rule_name(code: str) -> str:
    return "".join(word.capitalize() for word in code.split("_"))


# A proof's answer as SARIF: a FAIL (or ALLOWED) is one result per statement
# that grants the witness request, located at that statement in its file; a
# PASS is a log with no results; UNKNOWN one "note" result saying why.
_CHECK_RULES = {
    "check-no-new-access": "The new policy grants access the existing one does not.",
    "equivalent": "The policies do not allow the same requests.",
    "check-access-not-granted": "The policy grants access it must not.",
    "check-no-public-access": "The resource policy grants access to the public.",
    "can-be-allowed": "A request the question leaves open can be allowed.",
}


def check_sarif(check, question: str, files: dict[str, str], tool_version: str) -> dict:
    """``files``: each policy label the reasons use ("new", "policy", "a",
    ...) → the file it was read from; a reason on another label (a policy
    inside a scenario) is located at ``files[""]``, without a region."""
    rule = {"id": question, "name": _rule_name(question.replace("-", "_")),
            "shortDescription": {"text": _CHECK_RULES[question]}}
    results = []
    groups = check.witnesses or ([{"request": check.witness, "reasons": check.reasons}] if check.witness else [])
    if check.result == "FAIL":
        for group in groups:
            request = group["request"]
            witness = f"{request['action']} on {request['resource']}" + (
                f" with {json.dumps(request['context'])}" if request.get("context") else "")
            if "principal" in request:
                witness += f" by {request.get('principal') or 'an anonymous caller'}"
            for reason in group["reasons"]:
                label = reason.get("policy", "")
                uri = files.get(label, files.get("", ""))
                location: dict = {"physicalLocation": {"artifactLocation": {"uri": uri}}}
                span = reason.get("span") if label in files else None
                if span:
                    location["physicalLocation"]["region"] = {
                        "startLine": span["line"], "startColumn": span["column"],
                        "endLine": span["end_line"], "endColumn": max(span["end_column"], 1),
                        "charOffset": span["offset"], "charLength": span["end_offset"] - span["offset"]}
                statement = f"Sid {reason['sid']}" if reason.get("sid") else f"statement {reason['statement_index']}"
                location["logicalLocations"] = [{"fullyQualifiedName": reason.get("path") or label,
                                                 "kind": "element"}]
                direction = f"{group['direction']}: " if "direction" in group else ""
                results.append({"ruleId": question, "level": "error",
                                "message": {"text": f"{direction}{label} {statement} grants {witness} "
                                                    f"(a request the kernel confirms)."},
                                "locations": [location],
                                "properties": {"result": check.result, "witness": request}})
    elif check.result != "PASS":
        results.append({"ruleId": question, "level": "note",
                        "message": {"text": f"UNKNOWN: {check.note or 'could not be decided'}"},
                        "locations": [{"physicalLocation": {"artifactLocation": {"uri": files.get("", "")}}}],
                        "properties": {"result": check.result}})
    driver = {"name": "iamlogic", "version": tool_version, "rules": [rule],
              "properties": {"catalogue": check.catalogue, "mode": check.mode}}
    return {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
            "runs": [{"results": results, "tool": {"driver": driver}}]}
