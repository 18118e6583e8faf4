"""``--format aws``: the answers in the shapes ``aws accessanalyzer`` prints
them — ValidatePolicy's findings, CheckNoNewAccess's, CheckAccessNotGranted's
and CheckNoPublicAccess's result — so a script written for the AWS CLI reads
iamlogic's unchanged. The shapes are botocore's accessanalyzer service model
(tests/aws_shapes.py checks every field against it); the messages are Access
Analyzer's own words (the IAM User Guide, the AWS CLI's examples).

What stays iamlogic's: a finding's type and message are iamlogic's (an
action the catalogue lacks is a WARNING here, an ERROR for Access Analyzer:
IAM stores such policies), and so are the issue codes Access Analyzer does
not have (their learnMoreLink is the reference's page). A proof that is
UNKNOWN has no shape there (PASS or FAIL only): it is an error line and exit
3, never a PASS.
"""

from __future__ import annotations

import json

from .access_analyzer_codes import learn_more_link
from .translator import Finding
from .translator.findings import Location

# The AWS CLI prints JSON with four spaces; ValidatePolicy's members come in
# name order (its example output: "end" before "start", "column" first).
INDENT = 4


def validate_response(findings: list[Finding]) -> dict:
    """ValidatePolicyResponse: {"findings": [ValidatePolicyFinding]}."""
    return {"findings": [validate_finding(f) for f in findings]}


def validate_text(findings: list[Finding]) -> str:
    return json.dumps(validate_response(findings), indent=INDENT, sort_keys=True, ensure_ascii=False) + "\n"


# Several policies (a template, an export, a folder, several files): one JSON
# array, each element {"file", "policy", "response"} where "response" is
# exactly the shape Access Analyzer answers for that one policy ("policy" is
# "" for a bare document; a pair of versions has "new" and "existing"). An
# undecided proof has no response: its element has "result": "UNKNOWN" and
# "note" instead (Access Analyzer answers PASS or FAIL only).
def named(file: str, policy: str, response: dict) -> dict:
    return {"file": file, "policy": policy, "response": response}


def element_text(element: dict, sort_keys: bool = False) -> str:
    """One element of the array, indented as the AWS CLI indents, one level
    down (``sort_keys``: ValidatePolicy's members, in name order)."""
    pad = " " * INDENT
    return pad + json.dumps(element, indent=INDENT, sort_keys=sort_keys, ensure_ascii=False).replace("\n", "\n" + pad)


def validate_finding(f: Finding) -> dict:
    return {
        "findingDetails": f.message,
        "findingType": str(f.finding_type),
        "issueCode": f.issue_code,
        "learnMoreLink": learn_more_link(f.issue_code),
        "locations": [_location(loc) for loc in f.locations],
    }


def _location(loc: Location) -> dict:
    """A Location: the path as PathElements — {"value": member name},
    {"index": n}, and {"key": name} when the finding is on a member's name —
    and the span with 0-based columns and offsets, end exclusive (as Access
    Analyzer counts: its example puts "Sid": "" at columns 19 to 21)."""
    path: list[dict] = [{"index": step} if isinstance(step, int) else {"value": step} for step in loc.path]
    if loc.on_key and path and "value" in path[-1]:
        path[-1] = {"key": path[-1]["value"]}
    span = loc.span
    if span is None:  # no position in the text (a document given as an object): its start
        start = end = {"line": 1, "column": 0, "offset": 0}
    else:
        start = {"line": span.line, "column": span.column - 1, "offset": span.start}
        end = {"line": span.end_line, "column": span.end_column - 1, "offset": span.end}
    return {"path": path, "span": {"start": start, "end": end}}


# CheckNoNewAccess, CheckAccessNotGranted, CheckNoPublicAccess: the
# messages of their answers, PASS and FAIL.
_MESSAGES = {
    "check-no-new-access": (
        "The modified permissions do not grant new access compared to your existing policy.",
        "The modified permissions grant new access compared to your existing policy.",
    ),
    "check-no-public-access": (
        "The resource policy does not grant public access for the given resource type.",
        "The resource policy grants public access for the given resource type.",
    ),
}


def _listed(actions, resources) -> str:
    return "actions or resources" if actions and resources else "actions" if actions else "resources"


def check_response(check, question: str, actions=(), resources=()) -> dict:
    """The response of the Access Analyzer check ``question`` names, in its
    member order (result, message, reasons; description, statementIndex,
    statementId). Raises ValueError for an answer that has no such shape."""
    if check.result not in ("PASS", "FAIL"):
        raise ValueError(check.result)
    if question == "check-access-not-granted":
        listed = _listed(actions, resources)
        messages = (f"The policy document does not grant access to perform the listed {listed}.",
                    f"The policy document grants access to perform one or more of the listed {listed}.")
        reason = f"One or more of the listed {listed} in the statement with"
    else:
        messages = _MESSAGES[question]
        reason = ("New access in the statement with" if question == "check-no-new-access"
                  else "Public access granted in the following statement with")
    out: dict = {"result": check.result, "message": messages[check.result == "FAIL"]}
    if check.result == "FAIL":
        reasons = []
        for r in check.reasons:
            entry = {"description": f"{reason} sid: {r['sid']}." if r.get("sid")
                     else f"{reason} index: {r['statement_index']}.",
                     "statementIndex": r["statement_index"]}
            if r.get("sid"):
                entry["statementId"] = r["sid"]
            reasons.append(entry)
        out["reasons"] = reasons
    return out


def check_text(check, question: str, actions=(), resources=()) -> str:
    return json.dumps(check_response(check, question, actions, resources), indent=INDENT, ensure_ascii=False) + "\n"
