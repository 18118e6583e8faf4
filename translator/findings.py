"""Validation findings, modelled on IAM Access Analyzer's ValidatePolicy.

A finding has a type (ERROR, SECURITY_WARNING, WARNING, SUGGESTION), a stable
issue code (Access Analyzer's where it has one), a message, and locations.
Where AWS rejects the document, the finding also carries the exact error a
CreatePolicy call returns; ``aws_error_for`` picks the one AWS reports first.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import IntEnum, StrEnum

from ..grammar.source import JsonPath, Source, Span, json_path


class FindingType(StrEnum):
    ERROR = "ERROR"
    SECURITY_WARNING = "SECURITY_WARNING"
    WARNING = "WARNING"
    SUGGESTION = "SUGGESTION"


class AwsStage(IntEnum):
    """The order in which IAM reports errors: when a document has several, the
    error of the earliest stage (then the earliest in the document) is the one
    CreatePolicy returns. Read off the recorded AWS answers in
    corpora/aws_policy_validation.validate.jsonl; each stage is pinned by a case
    in tests/test_aws_validation_corpus.py."""

    SIZE = 0
    JSON = 1
    VERSION = 2
    SYNTAX = 3
    LEGACY_EFFECT_AND_DATES = 4
    SIDS_AND_PRINCIPAL = 5
    RESOURCE_FORMAT = 6
    LEGACY_ARN_PARTS = 7
    MISSING_ACTION = 8
    MISSING_RESOURCE = 9
    ACTION_FORMAT = 10


# The AWS messages, verbatim.
SYNTAX_ERRORS = "Syntax errors in policy."
LEGACY_PARSING = "The policy failed legacy parsing"
VERSION_TOO_OLD = "Policy document must be version 2012-10-17 or greater."


@dataclass(frozen=True, slots=True)
class AwsError:
    code: str
    message: str
    stage: AwsStage = field(compare=False)

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def malformed(message: str, stage: AwsStage) -> AwsError:
    return AwsError("MalformedPolicyDocument", message, stage)


@dataclass(frozen=True, slots=True)
class Location:
    path: JsonPath
    span: Span | None = None
    on_key: bool = False  # the member name rather than its value

    def to_dict(self) -> dict:
        out: dict = {"path": json_path(self.path)}
        if self.span is not None:
            out["span"] = self.span.to_dict()
        return out


@dataclass(frozen=True, slots=True)
class Finding:
    finding_type: FindingType
    issue_code: str
    message: str
    locations: tuple[Location, ...] = ()
    aws_error: AwsError | None = None
    file: str = "<policy>"

    @property
    def span(self) -> Span | None:
        return self.locations[0].span if self.locations else None

    def to_dict(self) -> dict:
        out = {
            "findingType": str(self.finding_type),
            "issueCode": self.issue_code,
            "message": self.message,
            "locations": [loc.to_dict() for loc in self.locations],
        }
        if self.aws_error is not None:
            out["awsError"] = self.aws_error.to_dict()
        return out

    def with_spans(self, source: Source) -> Finding:
        """Resolve each location's span from the document (one lazy parse)."""
        locations = []
        for loc in self.locations:
            if loc.span is None:
                span = source.key_span(loc.path) if loc.on_key else source.span(loc.path)
                loc = replace(loc, span=span)
            locations.append(loc)
        return replace(self, locations=tuple(locations), file=source.name)


def aws_error_for(findings: list[Finding]) -> AwsError | None:
    """The one error AWS returns for the document: earliest stage, then the
    earliest position (findings are produced in document order)."""
    errors = [f.aws_error for f in findings if f.aws_error is not None]
    return min(errors, key=lambda e: e.stage) if errors else None


BLOCKING_DEFAULT = frozenset({FindingType.ERROR})
