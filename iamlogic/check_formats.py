"""A proof's answer as SARIF or in Access Analyzer's shape (--format sarif,
--format aws), for the proof commands of cli.py."""

from __future__ import annotations

import json
import sys

import click

from . import __version__
from .aws_format import check_response, check_text, element_text
from .errors import ExitCode
from .report import check_sarif

# The questions Access Analyzer asks too: --format aws is theirs.
AWS_QUESTIONS = ("check-no-new-access", "check-access-not-granted", "check-no-public-access")


def write_check(check, output: str, question: str, files: dict[str, str], access=((), ())) -> int:
    code = {"PASS": ExitCode.OK, "FAIL": ExitCode.BLOCKING}.get(check.result, ExitCode.UNDECIDED)
    if output == "sarif":
        sys.stdout.write(json.dumps(check_sarif(check, question, files, __version__), indent=2) + "\n")
        return code
    if question not in AWS_QUESTIONS:
        raise click.UsageError(f"--format aws: Access Analyzer has no {question} check "
                               f"(it has {', '.join(AWS_QUESTIONS)})")
    if check.result not in ("PASS", "FAIL"):
        # Access Analyzer answers PASS or FAIL only: an undecided proof is no PASS.
        click.echo(f"iamlogic: {check.result}: {check.note or 'could not be decided'} "
                   "(Access Analyzer's shape has no such result)", err=True)
        return code
    sys.stdout.write(check_text(check, question, *access))
    return code


def write_checks(results: list, question: str, access=((), ())) -> int:
    """--format aws over several policies (a template's, an export's): one
    JSON array, each element {"file", "policy" (or "new" and "existing"),
    "response"} with the response exactly Access Analyzer's for that policy
    (aws_format.py); an undecided one has "result": "UNKNOWN" and "note"
    instead, and an error line. The worst result decides the exit code."""
    if question not in AWS_QUESTIONS:
        raise click.UsageError(f"--format aws: Access Analyzer has no {question} check "
                               f"(it has {', '.join(AWS_QUESTIONS)})")
    elements = []
    for key, new, existing, check, _kind in results:
        shown = new or existing
        element: dict = {"file": shown.file if shown is not None else ""}
        if existing is not None or new is None:
            element.update(new=new.name if new is not None else None,
                           existing=existing.name if existing is not None else None)
        else:
            element["policy"] = new.name
        if check.result in ("PASS", "FAIL"):
            element["response"] = check_response(check, question, *access)
        else:
            click.echo(f"iamlogic: {key}: {check.result}: {check.note or 'could not be decided'} "
                       "(Access Analyzer's shape has no such result)", err=True)
            element.update(result=check.result, note=check.note or "could not be decided")
        elements.append(element)
    sys.stdout.write("[\n" + ",\n".join(element_text(e) for e in elements) + "\n]\n")
    worst = {r[3].result for r in results}
    return ExitCode.BLOCKING if "FAIL" in worst else ExitCode.UNDECIDED if worst - {"PASS"} else ExitCode.OK
