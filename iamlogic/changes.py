"""``iamlogic check-changes``: what a pre-commit hook and a CI job ask of a
change to policy files — validate each changed policy, and prove that its
new version grants nothing its version at the base revision did not
(check-no-new-access). The hook (.pre-commit-hooks.yaml) and the GitHub
Action (action.yml, ci/iamlogic-action.sh) both run it.

A CloudFormation template, Terraform plan or AWS CLI output has each policy
it holds checked against the one with its key (logical id and property path)
at the base; a file that holds no policy is skipped and said so; a policy the base revision does not have is validated
only. A proof that is UNKNOWN fails the run (exit 3): a change nobody could
decide is not let through as if it were proven.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import click

from . import __version__
from .errors import ExitCode, InputError
from .inputs import MAX_INPUT_BYTES, decode_text, read_bytes
from .report import FileResult, TextReport, check_sarif, sarif_result
from .translator import FindingType, PolicyType

# Longest a changed-file list from git may be read for.
GIT_TIMEOUT_S = 60


@dataclass
class Outcome:
    """What the run found, for the exit code and the SARIF log."""

    sarif_results: list = field(default_factory=list)
    rules: dict = field(default_factory=dict)
    blocking: int = 0
    unknown: int = 0
    errors: int = 0


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=GIT_TIMEOUT_S)


def changed_files(base: str, cwd: Path) -> list[str]:
    """Files added, copied, modified or renamed between ``base`` and the working tree."""
    proc = _git(["diff", "--name-only", "--diff-filter=ACMR", base, "--"], cwd)
    if proc.returncode != 0:
        raise InputError(f"--base {base}: git diff failed: {proc.stderr.decode(errors='replace').strip()}")
    return [line for line in proc.stdout.decode().splitlines() if line]


def renamed_from(base: str, cwd: Path) -> dict[str, str]:
    """new path -> its path at ``base``, for the files git sees renamed since
    (a renamed policy is compared with what it was, not let through as new)."""
    proc = _git(["diff", "-M", "--name-status", "--diff-filter=R", base, "--"], cwd)
    out = {}
    for line in proc.stdout.decode(errors="replace").splitlines() if proc.returncode == 0 else []:
        parts = line.split("\t")
        if len(parts) == 3:
            out[parts[2]] = parts[1]
    return out


def base_version(path: str, base: str, cwd: Path) -> str | None:
    """The file's text at ``base``, or None when it did not exist there."""
    top = _git(["rev-parse", "--show-prefix"], cwd)
    prefix = top.stdout.decode().strip() if top.returncode == 0 else ""
    proc = _git(["show", f"{base}:{prefix}{path}"], cwd)
    if proc.returncode != 0:
        return None
    return decode_text(proc.stdout[:MAX_INPUT_BYTES], f"{path} at {base}")


def policy_type_of(document, given: str) -> PolicyType:
    """``auto``: a document whose statements name a Principal is a resource
    policy (a trust policy when it only governs sts:AssumeRole*), else an
    identity policy."""
    if given != "auto":
        return PolicyType(given)
    statements = document.get("Statement") if isinstance(document, dict) else None
    statements = statements if isinstance(statements, list) else [statements]
    if not any(isinstance(s, dict) and ("Principal" in s or "NotPrincipal" in s) for s in statements):
        return PolicyType.IDENTITY
    actions = [a for s in statements if isinstance(s, dict)
               for a in ([s.get("Action")] if isinstance(s.get("Action"), str) else s.get("Action") or [])]
    trust = actions and all(isinstance(a, str) and a.lower().startswith("sts:assumerole") for a in actions)
    return PolicyType.TRUST if trust else PolicyType.RESOURCE


def check_changes(files: list[str], base: str, policy_type: str, blocking: frozenset[FindingType],
                  timeout_s: int, out, cwd: Path) -> Outcome:
    from .proofs import check_no_new_access
    from .scenario import PolicyText
    from .validation import validate

    outcome = Outcome()
    text_report = TextReport(out)
    renames = renamed_from(base, cwd)
    for name in files:
        try:
            text = decode_text(read_bytes(str(cwd / name), name, MAX_INPUT_BYTES), name)
        except InputError as e:
            out.write(f"{name}: {e}\n")
            outcome.errors += 1
            continue
        try:
            document = json.loads(text)
        except (ValueError, RecursionError):
            document = None  # a .json file that is not JSON: validate says where; YAML: a template?
        if document is None and not name.endswith(".json") or document is not None and not (
                isinstance(document, dict) and "Statement" in document):
            # A file that holds policies (a CloudFormation template, a Terraform plan, an AWS CLI
            # output): each checked against its version at the base, paired by its key.
            try:
                held = _held_policies(text, name)
            except InputError as e:  # a template that no longer parses is not let through
                out.write(f"{name}: {e}\n")
                outcome.errors += 1
                continue
            if held:
                _check_held(name, held, base, renames, policy_type, blocking, timeout_s, out, cwd, outcome,
                            text_report)
            else:
                out.write(f"{name}: skipped (holds no policy document)\n")
            continue
        kind = policy_type_of(document, policy_type)
        findings = validate(text, kind, name)
        result = FileResult(name, kind, findings)
        text_report.write(result)
        for f in findings:
            outcome.rules.setdefault(f.issue_code, {"id": f.issue_code})
            outcome.sarif_results.append(sarif_result(result, f))
        if result.blocking(blocking):
            outcome.blocking += 1
            out.write(f"{name}: blocking findings\n")
            continue
        old = base_version(renames.get(name, name), base, cwd)
        if old is None:
            out.write(f"{name}: new at {base}: validated only\n")
            continue
        check = check_no_new_access(PolicyText(text, name), PolicyText(old, f"{name} at {base}"), kind,
                                    timeout_ms=timeout_s * 1000)
        if _tell(check, name, base, out, outcome, context=True) == "PASS":
            continue
        log = check_sarif(check, "check-no-new-access", {"new": name, "": name}, __version__)
        outcome.rules.setdefault("check-no-new-access", log["runs"][0]["tool"]["driver"]["rules"][0])
        outcome.sarif_results.extend(log["runs"][0]["results"])
    return outcome


def _held_policies(text: str, name: str) -> list:
    """The policies a template, plan or CLI output holds ([] for a file that is none of them)."""
    from .sources import policies_in

    held, _ = policies_in(text.encode(), name, given=False)  # InputError: a template that does not parse
    return [p for p in held if p.kind != "policy"]


def _check_held(name: str, held: list, base: str, renames: dict, policy_type: str, blocking, timeout_s: int, out,
                cwd: Path, outcome: Outcome, text_report: TextReport) -> None:
    """check_changes for a file of several policies: each validated (located in the file), and each
    proven to grant nothing its version at ``base`` (same key) did not; a policy new at the base
    is compared with none (validated only)."""
    from .proofs import check_no_new_access
    from .source_checks import (allows_nothing, deployments, pairs, policy_type_of as implied_type, proof_document,
                                removed_widens, same_unread, validate_named)

    old_text = base_version(renames.get(name, name), base, cwd)
    try:
        old = _held_policies(old_text, name) if old_text is not None else []
    except InputError:
        old = []  # the base version did not parse: every policy is compared with one that allows nothing
    new_file = old_text is None
    default = PolicyType.IDENTITY if policy_type == "auto" else PolicyType(policy_type)
    for key, new_policy, existing_policy in pairs(held, old):
        if new_policy is None and removed_widens(existing_policy):
            outcome.unknown += 1
            out.write(f"{existing_policy.label}: UNKNOWN compared to {base}: the permissions boundary is removed\n")
            continue
        if new_policy is None:
            continue  # removed: grants nothing
        kind = implied_type(new_policy, default, policy_type != "auto")
        result = FileResult(name, kind, validate_named(new_policy, kind, True), policy=new_policy.name)
        text_report.write(result)
        for f in result.findings:
            outcome.rules.setdefault(f.issue_code, {"id": f.issue_code})
            outcome.sarif_results.append(sarif_result(result, f))
        if result.blocking(blocking):
            outcome.blocking += 1
            out.write(f"{new_policy.label}: blocking findings\n")
            continue
        if new_file:
            out.write(f"{new_policy.label}: new at {base}: validated only\n")
            continue
        # Each deployment of the new version against each of the base it may be deployed with
        # (a template's Fn::If and Fn::FindInMap: source_checks.deployments).
        for suffix, new, existing, why in deployments(new_policy, existing_policy):
            shown = new.label if not suffix or new.valuation else new.label + suffix
            if same_unread(new, existing):
                out.write(f"{shown}: no new access compared to {base} (the same policy, not read)\n")
                continue
            if why is None and new.problem is not None:
                why = new.problem  # more deployments than are read, a SAM managed policy: undecided
            if why is not None:
                outcome.unknown += 1
                out.write(f"{shown}: UNKNOWN compared to {base}: {why}\n")
                continue
            if existing is not None and suffix and existing.valuation and existing.valuation != new.valuation:
                shown += f" (base [{existing.valuation}])"
            # A policy the base version of the file does not hold (a new resource, a renamed key,
            # another shape) is new access from nothing: compared with a policy that allows nothing.
            before = (proof_document(existing, f"at {base}") if existing is not None and existing.problem is None
                      else allows_nothing(kind))
            check = check_no_new_access(proof_document(new, "new"), before, kind, timeout_ms=timeout_s * 1000)
            _tell(check, shown, base, out, outcome)


def _tell(check, shown: str, base: str, out, outcome: Outcome, context: bool = False) -> str:
    """One proof's line of the run, counted in ``outcome``; its result."""
    if check.result == "PASS":
        out.write(f"{shown}: no new access compared to {base}\n")
    elif check.result == "FAIL":
        outcome.blocking += 1
        r = check.witness
        out.write(f"{shown}: NEW ACCESS compared to {base}: {r['action']} on {r['resource']}"
                  + (f" with {json.dumps(r['context'])}" if context and r.get("context") else "") + "\n")
    else:
        outcome.unknown += 1
        out.write(f"{shown}: UNKNOWN compared to {base}: {check.note}\n")
    return check.result


def sarif_log(outcome: Outcome) -> dict:
    driver = {"name": "iamlogic", "version": __version__, "rules": list(outcome.rules.values())}
    return {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
            "runs": [{"results": outcome.sarif_results, "tool": {"driver": driver}}]}


@click.command("check-changes")
@click.argument("files", nargs=-1, metavar="FILE...")
@click.option("--base", default="HEAD", show_default=True, metavar="REV",
              help="The revision to compare with: each changed policy may grant nothing its version there did not.")
@click.option("--policy-type", "-t", default="auto", show_default=True,
              type=click.Choice(["auto"] + [t.value for t in PolicyType]),
              help="auto: resource (or trust) policy when a statement names a Principal, else identity.")
@click.option("--treat-as-blocking", default="ERROR", show_default=True, metavar="TYPES",
              help="Finding types that fail the run, comma-separated.")
@click.option("--timeout", type=click.IntRange(1), default=30, show_default=True,
              help="Seconds per file's check-no-new-access before UNKNOWN (which fails the run).")
@click.option("--sarif", "sarif_path", metavar="FILE", help="Also write the findings and new access as SARIF 2.1.0.")
def check_changes_command(files: tuple[str, ...], base: str, policy_type: str, treat_as_blocking: str,
                          timeout: int, sarif_path: str | None) -> int:
    """Validate each changed policy FILE and prove it grants nothing new
    compared with its version at --base (check-no-new-access): what the
    pre-commit hook and the GitHub Action run. Without FILEs, the files git
    says changed since --base. Exit 0: nothing blocking, no new access; 2:
    blocking findings or new access; 3: a proof undecided; 1: bad input."""
    from .cli import finding_types

    cwd = Path.cwd()
    names = list(files) or changed_files(base, cwd)
    outcome = check_changes(names, base, policy_type, finding_types(treat_as_blocking), timeout, sys.stdout, cwd)
    if sarif_path:
        from .inputs import write_text

        write_text(sarif_path, json.dumps(sarif_log(outcome), indent=2) + "\n", f"{sarif_path} (--sarif)")
    if outcome.errors:
        return ExitCode.TOOL_ERROR
    if outcome.blocking:
        return ExitCode.BLOCKING
    return ExitCode.UNDECIDED if outcome.unknown else ExitCode.OK
