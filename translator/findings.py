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
    # On the one FINDINGS_LEFT_OUT finding only: what it stands for, as
    # (finding type, issue code, how many) in order of first occurrence.
    left_out: tuple[tuple[FindingType, str, int], ...] = ()

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
        if self.left_out:
            out["leftOut"] = [{"findingType": str(t), "issueCode": c, "count": n} for t, c, n in self.left_out]
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

# Findings listed per document. Access Analyzer's ValidatePolicy returns its
# findings a page at a time (maxResults, nextToken); a document that yields
# more than this (300,000 empty statements yield 900,000) gets this many, in
# document order, and one FINDINGS_LEFT_OUT finding counting the rest by type
# and issue code — never a silent cut, and never the cost of placing and
# printing every one.
MAX_FINDINGS = 100
FINDINGS_LEFT_OUT = "FINDINGS_LEFT_OUT"
# Most severe first: the left-out finding takes the type of the most severe
# finding it stands for, so a run blocks exactly as it would with all listed.
SEVERITY = (FindingType.ERROR, FindingType.SECURITY_WARNING, FindingType.WARNING, FindingType.SUGGESTION)


class CappedFindings:
    """One document's findings, at most ``limit`` of them kept; the others
    counted (by type and issue code) into one last FINDINGS_LEFT_OUT finding.
    That finding also carries the IAM error of the earliest stage among those
    it stands for, so ``aws_error_for`` answers as it would over them all."""

    def __init__(self, file: str = "<policy>", limit: int = MAX_FINDINGS):
        self.file = file
        self.limit = limit
        self.kept: list[Finding] = []
        self.counts: dict[tuple[FindingType, str], int] = {}
        self.aws: AwsError | None = None

    def append(self, finding: Finding) -> None:
        if finding.left_out:  # another cap's summary: what it counted is left out here too
            for kind, code, n in finding.left_out:
                self._count(kind, code, n, None)
            self._count_aws(finding.aws_error)
        elif len(self.kept) < self.limit:
            self.kept.append(finding)
        else:
            self.count(finding.finding_type, finding.issue_code, finding.aws_error)

    @property
    def full(self) -> bool:
        return len(self.kept) >= self.limit

    def count(self, kind: FindingType, code: str, aws: AwsError | None = None) -> None:
        """A finding past the cap, counted without being built."""
        self._count(kind, code, 1, aws)

    def extend(self, findings) -> None:
        for finding in findings:
            self.append(finding)

    def __len__(self) -> int:
        return len(self.kept) + sum(self.counts.values())

    def _count(self, kind: FindingType, code: str, n: int, aws: AwsError | None) -> None:
        self.counts[kind, code] = self.counts.get((kind, code), 0) + n
        self._count_aws(aws)

    def _count_aws(self, aws: AwsError | None) -> None:
        if aws is not None and (self.aws is None or aws.stage < self.aws.stage):
            self.aws = aws

    def findings(self) -> list[Finding]:
        if not self.counts:
            return list(self.kept)
        total = sum(self.counts.values())
        worst = min((kind for kind, _ in self.counts), key=SEVERITY.index)
        listed = ", ".join(f"{n:,} {kind} {code}" for (kind, code), n in self.counts.items())
        summary = Finding(worst, FINDINGS_LEFT_OUT,
                          f"{total:,} more findings are not listed (at most {self.limit} per document): {listed}.",
                          (Location(()),), self.aws, self.file,
                          tuple((kind, code, n) for (kind, code), n in self.counts.items()))
        return self.kept + [summary]


def finding_codes(finding: Finding):
    """(type, issue code) of each finding a finding stands for: itself, or
    for FINDINGS_LEFT_OUT those it counts."""
    if finding.left_out:
        return [(kind, code) for kind, code, _ in finding.left_out]
    return [(finding.finding_type, finding.issue_code)]


def finding_count(findings: list[Finding]) -> int:
    """How many findings these are, counting those a FINDINGS_LEFT_OUT stands for."""
    return sum(sum(n for _, _, n in f.left_out) if f.left_out else 1 for f in findings)
