"""A proof's answer as SARIF or in Access Analyzer's shape (--format sarif,
--format aws), for the proof commands of cli.py."""

from __future__ import annotations

import json
import sys

import click

from . import __version__
from .aws_format import check_text
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
