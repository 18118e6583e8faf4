"""Rendering validation results: text for people, JSON for programs, SARIF
2.1.0 for code-scanning tools."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from .translator import AwsError, Finding, FindingType, PolicyType, aws_error_for


@dataclass
class FileResult:
    """What validate found in one input."""

    file: str
    policy_type: PolicyType
    findings: list[Finding] = field(default_factory=list)
    catalogue: str | None = None  # the catalogue version the checks used

    @property
    def aws_error(self) -> AwsError | None:
        return aws_error_for(self.findings)

    def blocking(self, blocking_types: frozenset[FindingType]) -> list[Finding]:
        return [f for f in self.findings if f.finding_type in blocking_types]

    def to_dict(self, blocking_types: frozenset[FindingType]) -> dict:
        aws = self.aws_error
        return {
            "file": self.file,
            "policyType": str(self.policy_type),
            "blocking": bool(self.blocking(blocking_types)),
            "awsError": aws.to_dict() if aws else None,
            "catalogue": self.catalogue,
            "findings": [f.to_dict() for f in self.findings],
        }


def render_text(results: list[FileResult]) -> str:
    lines = []
    for result in results:
        for f in result.findings:
            where = f"{result.file}:{f.span.line}:{f.span.column}" if f.span else result.file
            path = f.locations[0].to_dict()["path"] if f.locations else "$"
            lines.append(f"{where}: {f.finding_type} {f.issue_code} at {path}: {f.message}")
        aws = result.aws_error
        if aws is not None:
            lines.append(f"{result.file}: AWS would answer {aws.code}: {aws.message}")
    return "\n".join(lines) + ("\n" if lines else "")


def render_json(results: list[FileResult], blocking_types: frozenset[FindingType]) -> str:
    return json.dumps([r.to_dict(blocking_types) for r in results], indent=2) + "\n"


_SARIF_LEVEL = {
    FindingType.ERROR: "error",
    FindingType.SECURITY_WARNING: "error",
    FindingType.WARNING: "warning",
    FindingType.SUGGESTION: "note",
}


def render_sarif(results: list[FileResult], tool_version: str) -> str:
    rules: dict[str, dict] = {}
    sarif_results = []
    for result in results:
        for f in result.findings:
            rules.setdefault(f.issue_code, {"id": f.issue_code, "name": _rule_name(f.issue_code),
                                            "shortDescription": {"text": f.issue_code.replace("_", " ").lower()}})
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
                location["logicalLocations"] = [{"fullyQualifiedName": f.locations[0].to_dict()["path"],
                                                 "kind": "element"}]
            properties = {"findingType": str(f.finding_type), "policyType": str(result.policy_type)}
            if f.aws_error is not None:
                properties["awsError"] = f.aws_error.to_dict()
            sarif_results.append({
                "ruleId": f.issue_code,
                "level": _SARIF_LEVEL[f.finding_type],
                "message": {"text": f.message},
                "locations": [location],
                "properties": properties,
            })
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "iamlogic", "version": tool_version, "rules": list(rules.values()),
                                "properties": {"catalogue": next((r.catalogue for r in results if r.catalogue), None)}}},
            "results": sarif_results,
        }],
    }
    return json.dumps(log, indent=2) + "\n"


def _rule_name(code: str) -> str:
    return "".join(word.capitalize() for word in code.split("_"))
