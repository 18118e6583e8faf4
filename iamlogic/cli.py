"""The ``iamlogic`` command.

Exit codes (ExitCode): 0 nothing blocking, 1 usage or tool error, 2 blocking
findings, 3 could not decide. Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import json
from functools import partial

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from . import __version__
from .errors import ExitCode, IamlogicError, InputError, one_line
from .inputs import MAX_EXPORT_BYTES, MAX_INPUT_BYTES, parse_json, quote, read_bytes, read_stdin, write_text
from .report import FileResult, JsonReport, SarifReport, TextReport, json_indented
from .scenario import decisions_of, policy_root_of
from .simulator import is_simulator_request
from .kernel.catalogue import CATALOGUE
from .translator import FindingType, PolicyType
from .translator.findings import finding_count
from .sources import read_sources, truncated_note, truncated_warnings
from .typos import request_names, warnings_for
from .source_checks import (load_policies, parameter_option, parameter_values, policy_type_of, proof_document,
                            located, prove_each, prove_versions, single, validate_named, warn_typos)

stderr = Console(stderr=True, highlight=False, soft_wrap=True)



def read_input(name: str, truncate: bool = False) -> bytes:
    """The bytes of a regular file, or of stdin for ``-``, at most
    MAX_INPUT_BYTES (``truncate``: the first MAX_INPUT_BYTES, for the
    validator, which reports an oversized document itself); InputError names
    the file."""
    if name == "-":
        return read_stdin(MAX_INPUT_BYTES, truncate)
    return read_bytes(name, name, MAX_INPUT_BYTES, truncate)


def engine_options(command):
    """--engine and --address, for the commands that can run on a Ray cluster."""
    command = click.option("--address", metavar="ADDR",
                           help="With --engine ray: the cluster to join (what `ray start --head` prints); "
                                "default: a local Ray runtime on this machine's cores.")(command)
    return click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True,
                        help="local: this process (and --jobs processes); ray: shards over the actors of a Ray "
                             "cluster (pip install 'iamlogic[ray]').")(command)


def untyped_option(command):
    return click.option("--untyped", is_flag=True,
                        help="Do not warn about actions, condition keys and services the catalogue does not "
                             "know.")(command)


def _typo_warnings(typed: bool, actions=(), keys=(), resources=()) -> None:
    """Typed mode: a name the catalogue does not know is a warning (typos.py), never a silent answer."""
    if typed:
        for warning in warnings_for(actions, keys, resources):
            error_line(f"warning: {warning}")


def _engine(engine: str, address: str | None, workers: int | None = None, batch: bool = True):
    """A context giving the Ray cluster (iamlogic/scale.py) for --engine ray, else None."""
    from contextlib import nullcontext

    if engine != "ray":
        if address is not None:
            raise click.UsageError("--address is for --engine ray")
        return nullcontext()
    if not batch:
        raise click.UsageError("--engine ray is for --batch")
    from .scale import Cluster

    return Cluster(address, workers)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="iamlogic")
def app() -> None:
    """Decide and prove things about AWS IAM policies, offline."""


POLICY_TYPES = click.Choice([t.value for t in PolicyType])
# Rows `actions` lists at most: the whole catalogue several times over.
MAX_ACTION_ROWS = 100_000


@app.command()
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("--policy-type", "-t", type=POLICY_TYPES, default="identity", show_default=True,
              help="What the policies are.")
@click.option("--format", "-f", "output", type=click.Choice(["text", "json", "sarif", "aws"]), default="text",
              show_default=True, help="aws: what `aws accessanalyzer validate-policy` prints; for several "
                                      "policies one JSON array of {file, policy, response}.")
@click.option("--treat-as-blocking", default="ERROR", show_default=True, metavar="TYPES",
              help="Finding types that fail the run (exit 2), comma-separated.")
@click.option("--catalogue/--no-catalogue", " /--untyped", default=True, show_default=True,
              help="Also check actions and condition keys against the AWS service catalogue.")
@parameter_option
def validate(files: tuple[str, ...], policy_type: str, output: str, treat_as_blocking: str, catalogue: bool,
             parameters: tuple[str, ...]) -> int:
    """Check policies against the IAM policy grammar, as Access Analyzer's
    ValidatePolicy does. FILE: a policy, an AWS CLI output holding policies,
    a CloudFormation template (JSON or YAML), a Terraform plan (terraform
    show -json), or a folder of them (read recursively); each policy is read
    with the type its place implies. Exit 0: nothing blocking; 2: blocking
    findings; 1: an input could not be read."""
    blocking = finding_types(treat_as_blocking)
    values = parameter_values(parameters)
    # Each input's result is written as soon as it is found (report.py), then
    # dropped: only the counts the exit code and the summary need are kept.
    if output == "json":
        report = JsonReport(sys.stdout, blocking)
    elif output == "sarif":
        report = SarifReport(sys.stdout, __version__)
    elif output == "aws":
        from .report import AwsReport

        report = AwsReport(sys.stdout)
    else:
        report = TextReport(sys.stdout)
    unreadable = read = total = failed = 0
    files_read: set[str] = set()
    explicit = click.get_current_context().get_parameter_source("policy_type").name != "DEFAULT"
    for name in files:
        # A file or folder: each policy it holds (sources.py), with its type.
        try:
            found = read_sources(name, MAX_INPUT_BYTES, read_stdin(MAX_EXPORT_BYTES, True) if name == "-" else None,
                                 parameters=values)
        except InputError as e:
            error_line(str(e))
            unreadable += 1
            continue
        for message in found.unreadable:
            error_line(message)
            unreadable += 1
        for skipped in found.skipped:
            error_line(f"{skipped.file}: skipped: {skipped.why}")
        for warning in truncated_warnings(found.policies):
            error_line(f"warning: {warning}")
        if not found.policies and not found.unreadable and name != "-" and Path(name).is_dir():
            error_line(f"{name}: holds no policy")
            unreadable += 1
        for policy in found.policies:
            kind = policy_type_of(policy, PolicyType(policy_type), explicit)
            findings = validate_named(policy, kind, catalogue)
            given = name == "-" or policy.file == name
            named = policy.name or (None if given else "")  # a folder's files are each named
            result = FileResult(policy.file, kind, findings, CATALOGUE.version if catalogue else None, named)
            report.write(result)
            read += 1
            files_read.add(policy.file)
            total += finding_count(findings)
            failed += bool(result.blocking(blocking))
    report.close()
    if output == "text" and read:
        _summary(len(files_read), total, failed, read)

    if unreadable:
        return ExitCode.TOOL_ERROR
    return ExitCode.BLOCKING if failed else ExitCode.OK


@app.command()
@click.argument("scenario", metavar="SCENARIO.json")
@click.option("--explain", is_flag=True, help="Print the derivation: which rule decided, with which statements.")
@click.option("--format", "-f", "output", type=click.Choice(["text", "json", "simulator"]), default="text",
              show_default=True, help="simulator: the IAM Policy Simulator's SimulateCustomPolicy response shape.")
@click.option("--batch", is_flag=True, help="SCENARIO is JSON lines (scenarios, or named policy sets and requests "
                                           "against them), streamed; print one JSON result per line, in order.")
@click.option("--brief", is_flag=True, help="With --batch: only the decision and blocked_by of each line.")
@click.option("--policy-root", metavar="DIR", help="Policy paths in the scenario may lead anywhere under DIR "
                                                   "(default: only under the scenario's own folder).")
@untyped_option
@engine_options
def simulate(scenario: str, explain: bool, output: str, batch: bool, brief: bool, policy_root: str | None,
             untyped: bool, engine: str, address: str | None) -> int:
    """Decide a request against the policies that apply (identity, resource,
    boundary, SCPs, RCPs, session, VPC endpoint), as AWS would.

    SCENARIO is {"policies": {...}, "request": {...}} or a SimulateCustomPolicy
    request; - reads standard input. Exit 0 when decided (whatever the
    decision), 1 for a bad scenario, 2 for a policy with blocking findings."""
    root = policy_root_of(policy_root)
    if batch and (explain or output != "text"):
        # A batch writes JSON lines, each with its decision and explanation: asking for another
        # form is refused, not quietly ignored.
        raise click.UsageError(f"--batch writes one JSON line per input line; {'--explain' if explain else '--format'} "
                         "does not apply to it")
    if brief and not batch:
        raise click.UsageError("--brief applies to --batch only")
    if batch:
        with _engine(engine, address) as cluster:
            return _simulate_batch(scenario, root, brief, cluster)
    _engine(engine, address, batch=False)
    data = read_input(scenario)
    raw = _json(data, scenario)
    _typo_warnings(not untyped, *request_names(raw))
    base = None if scenario == "-" else Path(scenario).parent
    # Up to MAX_REQUESTS decisions: each written as it is made (the JSON as
    # json.dumps(indent=2) would print it whole), never all held at once.
    decisions = decisions_of(raw, base, root)
    i = -1
    if output == "simulator":
        from .simulator import evaluation_result

        sys.stdout.write('{\n  "EvaluationResults": [')
        for i, d in enumerate(decisions):
            sys.stdout.write(("\n" if i == 0 else ",\n") + json_indented(evaluation_result(d), 2))
        sys.stdout.write(("\n  ]" if i >= 0 else "]") + ',\n  "IsTruncated": false\n}\n')
    elif output == "json" and is_simulator_request(raw):
        sys.stdout.write("[")
        for i, d in enumerate(decisions):
            sys.stdout.write(("\n" if i == 0 else ",\n") + json_indented(d.to_dict(), 1))
        sys.stdout.write("\n]\n" if i >= 0 else "]\n")
    elif output == "json":
        sys.stdout.write(json.dumps(next(decisions).to_dict(), indent=2) + "\n")
    else:
        for d in decisions:
            sys.stdout.write((d.explain() if explain else _decision_line(d)) + "\n")
    return ExitCode.OK


@app.command()
@click.argument("patterns", nargs=-1, required=True, metavar="PATTERN...")
@click.option("--format", "-f", "output", type=click.Choice(["text", "json"]), default="text", show_default=True)
def actions(patterns: tuple[str, ...], output: str) -> int:
    """List the actions of the AWS service catalogue an Action pattern
    matches (s3:Get*, *:Describe*, ...), with their access level."""
    # Patterns × the catalogue: bounded before a row is built (each "*" is
    # every action of the catalogue).
    expansions = [(pattern, CATALOGUE.expand(pattern)) for pattern in patterns]
    listed = sum(len(found) for _, found in expansions)
    if listed > MAX_ACTION_ROWS:
        raise InputError(f"PATTERN...: {len(patterns):,} patterns match {listed:,} actions in all, more than the "
                         f"{MAX_ACTION_ROWS:,} one listing holds")
    rows = []
    for pattern, found in expansions:
        for full in found:
            service, _, name = full.partition(":")
            details = CATALOGUE.action(service, name) or {}
            rows.append({"pattern": pattern, "action": full, "access_level": details.get("accessLevel"),
                         "resource_types": [r["name"] for r in details.get("resourceTypes", [])]})
    if output == "json":
        sys.stdout.write(json.dumps({"catalogue": CATALOGUE.version, "actions": rows}, indent=2) + "\n")
    else:
        for row in rows:
            sys.stdout.write(f"{row['action']}\t{row['access_level'] or ''}\n")
        stderr.print(f"{len(rows)} action(s) from {CATALOGUE.version}", markup=False)
    empty = [p for p in patterns if not any(r["pattern"] == p for r in rows)]
    if empty:
        error_line(f"no action in {CATALOGUE.version} matches {', '.join(map(quote, empty))}")
        return ExitCode.BLOCKING
    return ExitCode.OK


def _json(data: bytes | str, where: str):
    return parse_json(data, where)


def _explicit(parameter: str) -> bool:
    """Whether the user gave the option (not its default)."""
    return click.get_current_context().get_parameter_source(parameter).name != "DEFAULT"


def _report_check(check, output: str, headlines: dict | None = None, principals: bool = False,
                  question: str = "", files: dict | None = None, access=((), ())) -> int:
    """The check as text (witness, the statements that grant it or the layers
    that forbid it), JSON, SARIF or Access Analyzer's shape (check_formats.py);
    ``principals``: the witness's caller matters."""
    if output in ("aws", "sarif"):
        from .check_formats import write_check

        return write_check(check, output, question, files or {}, access)
    if output == "json":
        sys.stdout.write(json.dumps(check.to_dict(), indent=2) + "\n")
    else:
        line = (headlines or {}).get(check.result, check.result)
        classes = [w for w in check.witnesses if "actions" in w]
        if classes:  # --all
            line += (f" ({len(classes)} action class(es), {sum(len(w['actions']) for w in classes)} action(s) "
                     "newly allowed)")
        if check.note:
            line += f": {check.note}"
        sys.stdout.write(line + "\n")
        for w in check.witnesses or ([{"request": check.witness, "reasons": check.reasons}] if check.witness else []):
            if "direction" in w:
                sys.stdout.write(f"  {w['direction']}:\n")
            if "actions" in w:  # --all: the class the witness stands for
                shown = ", ".join(w["actions"][:8]) + (", ..." if len(w["actions"]) > 8 else "")
                sys.stdout.write(f"  newly allowed: {len(w['actions'])} action(s): {shown}\n")
            r = w["request"]
            sys.stdout.write(f"  witness: {r['action']} on {r['resource']}"
                             + (f" with {json.dumps(r['context'])}" if r["context"] else "") + "\n")
            if principals:
                sys.stdout.write(f"  by: {_caller(r.get('principal'))}\n")
            for reason in w["reasons"]:
                sys.stdout.write(f"  granted by: {_cite(reason)}\n")
        if check.result == "PASS":
            for reason in check.reasons:
                sys.stdout.write(f"  forbidden by: {reason['label']} ({reason['why']})\n")
        stderr.print(", ".join(filter(None, (f"{check.mode} mode", check.catalogue, f"{check.elapsed_ms:.0f} ms"))),
                     markup=False)  # an answer no proof ran for names no catalogue
    return {"PASS": ExitCode.OK, "FAIL": ExitCode.BLOCKING}.get(check.result, ExitCode.UNDECIDED)


def _caller(principal: str | None) -> str:
    """The witness's caller in IAM's words. A Principal of an account's root
    ARN (or its id) names the account, not the root user alone: any of its
    users and roles whose own policies allow it may send the request."""
    if not principal:
        return "an anonymous caller"
    if principal.endswith(":root") and principal.count(":") == 5:
        account = principal.split(":")[4]
        return (f"a principal of account {account} ({principal}: the account's root user, or any user or role "
                "of it whose identity policies allow the action)")
    return principal


CHECK_TYPES = click.Choice([t.value for t in PolicyType])


def every_option(command):
    """--all: every action class newly allowed, not the first."""
    return click.option("--all", "every", is_flag=True,
                        help="On FAIL, every action class newly allowed, each with a witness the kernel confirms "
                             "and the statements that grant it (not only the first found).")(command)


def proof_options(command):
    """The options every proof question takes."""
    for option in reversed([
        click.option("--timeout", type=click.IntRange(1), default=30, show_default=True,
                     help="Seconds for the whole question, once its policies are read, before UNKNOWN."),
        click.option("--catalogue/--untyped", "typed", default=True, show_default=True,
                     help="Typed (default): actions range over the service catalogue, each on its resource "
                          "types' ARN formats. Untyped: any action and resource strings."),
        click.option("--format", "-f", "output", type=click.Choice(["text", "json", "sarif", "aws"]),
                     default="text", show_default=True,
                     help="sarif: SARIF 2.1.0, a FAIL located at the granting statements; aws: what `aws "
                          "accessanalyzer` prints (check-no-new-access, check-access-not-granted, "
                          "check-no-public-access); for several policies one JSON array of {file, policy, "
                          "response}."),
    ]):
        command = option(command)
    return command


@app.command("check-no-new-access")
@click.option("--existing", metavar="OLD.json", help="The policy as it is.")
@click.option("--new", "new", metavar="NEW.json", help="The policy as proposed.")
@click.option("--policy-type", "-t", type=CHECK_TYPES, default="identity", show_default=True)
@click.option("--batch", metavar="PAIRS.jsonl", help='Instead of --existing/--new: JSON lines {"new": {...}, '
              '"existing": {...}, "policy_type": T}, streamed; one JSON result per line, in order.')
@every_option
@parameter_option
@proof_options
@engine_options
def check_no_new_access_command(existing: str | None, new: str | None, policy_type: str, batch: str | None,
                                every: bool, parameters: tuple, timeout: int, typed: bool, output: str, engine: str,
                                address: str | None) -> int:
    """PASS iff everything NEW allows, OLD allows too (IAM Access Analyzer's
    CheckNoNewAccess). FAIL comes with a witness request the kernel confirms.
    Exit 0 PASS, 2 FAIL, 3 UNKNOWN (with the reason), 1 bad input; with
    --batch the worst line decides (1 if any line has an error)."""
    from .proofs import check_no_new_access

    if batch is not None:
        if existing is not None or new is not None:
            raise click.UsageError("--batch reads its pairs from the file: leave out --existing and --new")
        with _engine(engine, address) as cluster:
            return _prove_batch("check-no-new-access", batch, timeout, typed, True, cluster)
    _engine(engine, address, batch=False)
    if existing is None or new is None:
        raise click.UsageError("give --existing and --new (or --batch)")
    # Each policy of NEW against the one of OLD with its key (two versions of
    # a template: logical id and property path), within one time limit.
    values = parameter_values(parameters)
    return prove_versions(check_no_new_access, load_policies(new, "--new", values),
                          load_policies(existing, "--existing", values), PolicyType(policy_type),
                          _explicit("policy_type"), timeout * 1000, typed, every, output,
                          partial(_report_check, question="check-no-new-access",
                                  files={"new": new, "existing": existing}))


@app.command("equivalent")
@click.argument("a", metavar="A.json")
@click.argument("b", metavar="B.json")
@click.option("--policy-type", "-t", type=CHECK_TYPES, default="identity", show_default=True)
@every_option
@parameter_option
@proof_options
def equivalent_command(a: str, b: str, policy_type: str, every: bool, parameters: tuple, timeout: int, typed: bool,
                       output: str) -> int:
    """PASS iff A and B allow exactly the same requests; otherwise a witness
    request for each direction that differs. Exit 0 PASS, 2 FAIL, 3 UNKNOWN."""
    from .proofs import equivalent

    values = parameter_values(parameters)
    return prove_versions(equivalent, load_policies(a, "A", values), load_policies(b, "B", values),
                          PolicyType(policy_type), _explicit("policy_type"), timeout * 1000, typed, every, output,
                          partial(_report_check, question="equivalent", files={"a": a, "b": b}), ("A", "B"),
                          removed_is_new=True)


@app.command("check-access-not-granted")
@click.argument("policy", metavar="POLICY.json")
@click.option("--actions", "-a", multiple=True, metavar="ACTION", help="An action (pattern); repeat for more.")
@click.option("--resources", "-r", multiple=True, metavar="ARN", help="A resource (pattern); repeat for more.")
@click.option("--policy-type", "-t", type=CHECK_TYPES, default="identity", show_default=True)
@proof_options
def check_access_not_granted_command(policy: str, actions: tuple, resources: tuple, policy_type: str, timeout: int,
                                     typed: bool, output: str) -> int:
    """PASS iff POLICY allows none of the actions on none of the resources
    (IAM Access Analyzer's CheckAccessNotGranted; give --actions, --resources
    or both). Exit 0 PASS, 2 FAIL (with a witness), 3 UNKNOWN, 1 bad input."""
    from .proofs import check_access_not_granted

    if not actions and not resources:
        raise click.UsageError("give --actions, --resources, or both")
    _typo_warnings(typed, actions, (), resources)
    # Each policy the file holds (a template's: each with its type), within one time limit.
    return prove_each(check_access_not_granted, load_policies(policy, "POLICY"), PolicyType(policy_type),
                      _explicit("policy_type"), timeout * 1000, output,
                      partial(_report_check, question="check-access-not-granted", files={"policy": policy},
                              access=(actions, resources)), actions=list(actions),
                      resources=list(resources), typed=typed)


@app.command("check-no-public-access")
@click.argument("policy", metavar="POLICY.json")
@click.option("--resource-type", "-r", required=True, metavar="TYPE",
              help="The resource the policy is attached to, e.g. AWS::S3::Bucket, AWS::KMS::Key.")
@proof_options
def check_no_public_access_command(policy: str, resource_type: str, timeout: int, typed: bool, output: str) -> int:
    """PASS iff the resource policy grants nothing to anonymous callers or to
    callers of accounts it does not name, whatever they choose to send
    (conditions on aws:PrincipalOrgID, aws:SourceVpce, aws:SourceIp... an
    outsider cannot meet restrict; aws:Referer does not). Exit 0 PASS, 2 FAIL
    (with a witness), 3 UNKNOWN, 1 bad input."""
    from .proofs import check_no_public_access

    report = partial(_report_check, question="check-no-public-access", files={"policy": policy})
    policies = load_policies(policy, "POLICY")
    if len(policies) == 1 and not policies[0].variants and policies[0].kind not in ("cloudformation",
                                                                                    "terraform-plan"):
        warn_typos(policies, PolicyType.RESOURCE, False, typed)
        check = check_no_public_access(proof_document(single(policies, policy, "POLICY"), "POLICY"), resource_type,
                                       timeout_ms=timeout * 1000, typed=typed)
        located(check, policies[0], None)
        return report(check, output, principals=True)
    # A template or plan: its policies attached to resources of that type.
    attached = [p for p in policies if (p.resource_type or "").lower() == resource_type.lower()]
    if not attached:
        raise InputError(f"{policy} (POLICY): holds no policy of a {resource_type} "
                         f"(its {len(policies)} policies: {', '.join(p.name for p in policies[:5])})")
    return prove_each(lambda document, policy_type, timeout_ms, **kw: check_no_public_access(
        document, resource_type, timeout_ms=timeout_ms, **kw), attached, PolicyType.RESOURCE, False,
        timeout * 1000, output, report, typed=typed)


@app.command("can-be-allowed")
@click.argument("scenario", metavar="SCENARIO.json")
@click.option("--policy-root", metavar="DIR", help="Policy paths in the scenario may lead anywhere under DIR "
                                                   "(default: only under the scenario's own folder).")
@click.option("--batch", is_flag=True, help="SCENARIO is JSON lines, one question each, streamed; "
                                            "one JSON result per line, in order.")
@proof_options
@engine_options
def can_be_allowed_command(scenario: str, policy_root: str | None, batch: bool, timeout: int, typed: bool,
                           output: str, engine: str, address: str | None) -> int:
    """Can any request the scenario leaves open be allowed by its whole policy
    set? Leave the request's principal, action or resource out (any), or give
    patterns ("arn:aws:s3:::prod-*"); context keys given are fixed. Exit 0
    PROVEN NEVER (with the layers that forbid it), 2 ALLOWED (with a witness
    request the kernel confirms), 3 UNKNOWN, 1 bad input; with --batch the
    worst line decides (1 if any line has an error)."""
    from .proofs import can_be_allowed

    if batch:
        with _engine(engine, address) as cluster:
            return _prove_batch("can-be-allowed", scenario, timeout, typed, policy_root_of(policy_root), cluster)
    _engine(engine, address, batch=False)

    data = read_input(scenario)
    where = "<stdin>" if scenario == "-" else scenario
    # The scenario is read here, bounded; its policy paths are relative to its folder.
    raw = _json(data, where)
    _typo_warnings(typed, *request_names(raw))
    base = Path.cwd() if scenario == "-" else Path(scenario).parent
    if typed:
        _scenario_policy_warnings(raw, base, policy_root, where)
    check = can_be_allowed(raw, timeout_ms=timeout * 1000, typed=typed, base_dir=base,
                           policy_root=policy_root)
    return _report_check(check, output, {"PASS": "PROVEN NEVER", "FAIL": "ALLOWED"}, principals=True,
                         question="can-be-allowed", files={"": where})


def _scenario_policy_warnings(raw, base: Path, policy_root: str | None, where: str) -> None:
    """Typed mode inside a scenario's policies (typos.policy_warnings); a
    scenario the question refuses is left for it to refuse, with its message."""
    from .scenario import compile_policies
    from .typos import policy_warnings

    try:
        engine = compile_policies(raw["policies"], base, policy_root_of(policy_root))
    except (IamlogicError, KeyError, TypeError):
        return
    for layer in engine.layers:
        for name, model in layer.policies:
            def place(finding, name=name):
                # by its path: an inline document's line is not the scenario file's
                from .grammar.source import json_path

                return f"{where}: {name}" + (f" at {json_path(finding.locations[0].path)}" if finding.locations else "")

            for warning in policy_warnings(model, place, f"{where}: {name}"):
                error_line(f"warning: {warning}")


def account_data_options(command):
    """The options every account-data question takes."""
    command = click.option("--policy-version", "policy_versions", multiple=True, metavar="ARN=VERSION",
                           help="Read this version of a managed policy instead of its default one.")(command)
    return click.option("--account-data", "-d", required=True, metavar="DIR",
                        help="authorization/*.json exports, organization.json, resources/*.json "
                             "(see the README).")(command)


def _account_data(folder: str, policy_versions: tuple[str, ...]):
    """The data, with what was skipped of it reported on stderr."""
    from .accounts import load_account_data

    versions = {}
    for item in policy_versions:
        arn, sep, version = item.rpartition("=")
        if not sep or not arn or not version:
            raise click.BadParameter(f"{quote(item)}: expected ARN=VERSION", param_hint="--policy-version")
        versions[arn] = version
    data = load_account_data(folder, versions)
    for skipped in data.skipped:
        stderr.print(f"skipped: {skipped}", markup=False)
    for file in data.truncated:
        # who-can lists only the callers the exports hold; what-can, reach and privesc miss
        # the groups and policies after the page (a principal they leave out is incomplete).
        error_line(f"warning: {file}: {truncated_note()}; an answer about who can is about the "
                   "entities exported only")
    return data


@app.command("who-can")
@click.argument("action")
@click.argument("resource", metavar="RESOURCE_ARN")
@account_data_options
@click.option("--context", "-c", "context", default="{}", metavar="JSON",
              help='The request\'s context keys, e.g. \'{"aws:RequestedRegion": "eu-west-1"}\'; others are absent.')
@click.option("--all", "show_all", is_flag=True, help="List the callers denied too, with why.")
@click.option("--conditional", is_flag=True,
              help="For each caller the context does not allow, ask the proofs whether some values of the other "
                   "keys would, and list it with that context.")
@click.option("--timeout", type=click.IntRange(1), default=30, show_default=True,
              help="Seconds per --conditional question before it is reported undecided.")
@click.option("--jobs", "-j", type=click.IntRange(1), default=1, show_default=True,
              help="Worker processes (the principals in shards by account); with --engine ray, actors "
                   "(default: one per CPU of the cluster).")
@click.option("--format", "-f", "output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@untyped_option
@engine_options
def who_can_command(action: str, resource: str, account_data: str, policy_versions: tuple, context: str,
                    show_all: bool, conditional: bool, timeout: int, jobs: int, output: str, untyped: bool,
                    engine: str, address: str | None) -> int:
    """Every caller allowed ACTION on RESOURCE_ARN: each user, any session of
    each role, the callers from elsewhere the resource policy names, and an
    anonymous caller — each decided by the kernel, with the statements that
    grant it. Exit 0; 1 bad input; 3 when some answer is UNDECIDED because a
    policy it depends on could not be read. What was skipped of the data is
    reported on stderr."""
    from .accounts import who_can

    keys = _context_option(context)
    _typo_warnings(not untyped, [action], keys, [resource])
    data = _account_data(account_data, policy_versions)
    bar = Progress(TextColumn("who-can"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=stderr,
                   transient=True, disable=len(data.principals) < 1000 and not conditional)
    with _engine(engine, address, jobs if jobs > 1 else None) as cluster, bar:
        task = bar.add_task("", total=None)
        step = lambda done, total: bar.update(task, completed=done, total=total)  # noqa: E731
        if jobs > 1 or cluster is not None:
            from .accounts.shards import parallel_who_can

            answers = parallel_who_can(data, account_data, action, resource, keys, conditional, timeout * 1000,
                                       jobs, step, cluster and cluster.run)
        else:
            answers = [a.to_dict() for a in who_can(data, action, resource, keys, conditional, timeout * 1000,
                                                    progress=step)]
    if output == "json":
        sys.stdout.write(json.dumps({"action": action, "resource": resource, "summary": data.summary(),
                                     "skipped": [vars(s) for s in data.skipped], "answers": answers},
                                    indent=2) + "\n")
        return ExitCode.UNDECIDED if any(a["decision"] == "undecided" for a in answers) else ExitCode.OK
    for answer in answers:
        if "allowed_with_context" in answer:
            sys.stdout.write(f"CONDITIONAL: {answer['who']}\n"
                             f"  allowed with context {json.dumps(answer['allowed_with_context'])}\n")
            continue
        if "undecided" in answer:
            sys.stdout.write(f"UNDECIDED: {answer['who']}\n  {answer['undecided']}\n")
            continue
        allowed = answer["decision"] == "allow"
        if not (allowed or show_all):
            continue
        sys.stdout.write(f"{answer['decision'].upper()}: {answer['who']}\n")
        # The statements that grant it; the limits that let it through (SCPs,
        # RCPs, boundaries) are in the JSON output's explanation.
        cites = ", ".join(_cite(ref) for ref in answer["matched_statements"]
                          if ref["layer"] in ("identity", "resource"))
        if allowed and cites:
            sys.stdout.write(f"  granted by: {cites}\n")
        elif not allowed:
            lines = answer["explanation"].splitlines()[1:]
            why = next((line for line in lines if "explicit deny in" in line or "implicit deny:" in line),
                       lines[0] if lines else "")
            sys.stdout.write(f"  {why.lstrip('├└─ ')}\n")
    allowed = sum(a["decision"] == "allow" for a in answers)
    more = f", {sum('allowed_with_context' in a for a in answers)} only with other context" if conditional else ""
    unread = sum(a["decision"] == "undecided" for a in answers)
    if unread:
        more += f", {unread} UNDECIDED (a policy they depend on could not be read)"
    stderr.print(f"{allowed} of {len(answers)} callers allowed{more}; {data.summary()}", markup=False)
    return ExitCode.UNDECIDED if unread else ExitCode.OK


def _cite(ref: dict) -> str:
    """A statement as explanations name it (StatementRef.label), from its dictionary."""
    at = f" ({ref['at']})" if ref.get("at") else ""  # sources.py: where the statement is written
    return f"{ref['policy']} {'Sid ' + ref['sid'] if ref['sid'] else 'statement ' + str(ref['statement_index'])}{at}"


def _context_option(context: str) -> dict:
    try:
        keys = json.loads(context)
    except json.JSONDecodeError as e:
        raise click.BadParameter(f"not JSON: {e.msg}", param_hint="--context") from None
    except (RecursionError, ValueError):
        raise click.BadParameter("not readable JSON (nested too deeply, or a number of too many digits)",
                                 param_hint="--context") from None
    if not isinstance(keys, dict):
        raise click.BadParameter("expected a JSON object of condition keys", param_hint="--context")
    return keys


@app.command("organization-from-cli")
@click.argument("folder", metavar="DIR")
@click.option("--output", "-o", "target", metavar="FILE", help="Write here (whole or not at all); default stdout.")
def organization_from_cli_command(folder: str, target: str | None) -> int:
    """organization.json (the account-data format) from the AWS CLI's
    organizations outputs saved in DIR: list-roots.json,
    list-organizational-units-for-parent/ID.json, list-accounts-for-parent/ID.json,
    list-policies-for-target/ID*.json, describe-policy/POLICY-ID.json and
    describe-organization.json. Exit 0; 1 when a file is missing or unreadable."""
    from .accounts.convert import organization_from_cli

    text = json.dumps(organization_from_cli(folder), indent=1) + "\n"
    if target is None:
        sys.stdout.write(text)
        return ExitCode.OK
    write_text(target, text, f"{target} (--output)")
    return ExitCode.OK


@app.command("what-can")
@click.argument("principal", metavar="PRINCIPAL_ARN")
@account_data_options
@click.option("--context", "-c", "context", default="{}", metavar="JSON",
              help="The request's context keys; others are absent.")
@click.option("--format", "-f", "output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@engine_options
def what_can_command(principal: str, account_data: str, policy_versions: tuple, context: str, output: str,
                     engine: str, address: str | None) -> int:
    """Every action of the service catalogue that PRINCIPAL_ARN (a user, or
    any session of a role) is allowed on each resource the account data
    knows (those with a resource policy, every user, role and group, every
    managed policy the exports hold), each decided by the kernel. Exit 0; 1
    bad input."""
    from .accounts.queries import what_can

    data = _account_data(account_data, policy_versions)
    undecided: list = []
    with _engine(engine, address) as cluster:
        if cluster is not None:
            from .accounts.shards import parallel_what_can

            allowed = parallel_what_can(data, account_data, principal, _context_option(context), undecided,
                                        cluster.run)
        else:  # the matched statements as the shards give them: dictionaries
            allowed = [(r, a, [ref.to_dict() for ref in d.matched_statements])
                       for r, a, d in what_can(data, principal, _context_option(context), undecided)]
    by_resource: dict[str, list[str]] = {}
    for resource, action, _ in allowed:
        by_resource.setdefault(resource, []).append(action)
    if output == "json":
        sys.stdout.write(json.dumps({"principal": principal, "allowed": [
            {"resource": r, "action": a, "matched_statements": refs} for r, a, refs in allowed],
            "undecided": [{"resource": r, "action": a, "why": why} for r, a, why in undecided]}, indent=2) + "\n")
    else:
        for resource, actions in by_resource.items():
            sys.stdout.write(f"{resource}: {', '.join(actions)}\n")
        for resource, action, why in undecided:
            sys.stdout.write(f"UNDECIDED: {resource}: {action}\n  {why}\n")
        more = f", {len(undecided)} UNDECIDED (a policy they depend on could not be read)" if undecided else ""
        stderr.print(f"{len(allowed)} actions allowed on {len(by_resource)} resources{more}; {data.summary()}",
                     markup=False)
    return ExitCode.UNDECIDED if undecided else ExitCode.OK


@app.command("reach")
@click.argument("principal", metavar="PRINCIPAL_ARN")
@account_data_options
@click.option("--to", "to", metavar="ROLE_ARN", help="Only this role: its chain, with each hop's proof.")
@click.option("--jobs", "-j", type=click.IntRange(1), default=1, show_default=True,
              help="Worker processes deciding who can assume each role (shards of roles).")
@click.option("--context", "-c", "context", default="{}", metavar="JSON",
              help="The context keys of every AssumeRole request (aws:MultiFactorAuthPresent...).")
@click.option("--format", "-f", "output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@engine_options
def reach_command(principal: str, account_data: str, policy_versions: tuple, to: str | None, jobs: int, context: str,
                  output: str, engine: str, address: str | None) -> int:
    """Every role PRINCIPAL_ARN (a user or role of the data) can become
    through chains of sts:AssumeRole — each hop decided by the kernel (the
    role's trust policy, the caller's permission, its boundary and SCPs), the
    closure derived by Datalog recursion — with the shortest chain to each.
    Exit 0; with --to, 0 reachable, 2 not reachable; 1 bad input."""
    from .accounts.reach import reach

    data = _account_data(account_data, policy_versions)
    keys = _context_option(context)
    roles = sum(p.kind == "role" for p in data.principals.values())
    label = "reach: shards of roles" if jobs > 1 or engine == "ray" else "reach: roles"
    bar = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=stderr,
                   transient=True, disable=roles < 1000)
    with _engine(engine, address, jobs if jobs > 1 else None) as cluster, bar:
        task = bar.add_task("", total=None)
        chains = reach(data, principal, keys, jobs, account_data,
                       lambda done, total: bar.update(task, completed=done, total=total),
                       cluster and cluster.run)
    if to is not None:
        data.principal(to)
        chains = [c for c in chains if c.role == to]
    if output == "json":
        sys.stdout.write(json.dumps({"principal": principal, "reachable": [
            {"role": c.role, "chain": [{"assumes": role, "by": answer.principal,
                                        "matched_statements": [r.to_dict() for r in answer.decision.matched_statements]}
                                       for role, answer in c.hops]} for c in chains]}, indent=2) + "\n")
    else:
        for chain in chains:
            sys.stdout.write(f"{chain.role}: {' -> '.join([principal] + [role for role, _ in chain.hops])}\n")
            if to is not None:
                for role, answer in chain.hops:
                    cites = ", ".join(ref.label for ref in answer.decision.matched_statements
                                      if ref.layer in ("identity", "resource"))
                    sys.stdout.write(f"  {answer.principal} assumes {role}: allowed by {cites}\n")
        if to is not None and not chains:
            sys.stdout.write(f"{to}: not reachable from {principal}\n")
        stderr.print(f"{len(chains)} roles reachable; {data.summary()}", markup=False)
    return ExitCode.BLOCKING if to is not None and not chains else ExitCode.OK


def _decision_line(d) -> str:
    head = d.decision + (f" (blocked by {d.blocked_by}: {', '.join(d.blocked_layers)})" if d.blocked_by else "")
    cites = ", ".join(ref.label for ref in d.matched_statements)
    lines = [f"{head}: {d.request.action} on {d.request.resource}"]
    if cites:
        lines.append(f"  matched: {cites}")
    lines.extend(f"  warning: {w.statement.label}: {w.message}" for w in d.warnings)
    return "\n".join(lines)


def _prove_batch(question: str, source: str, timeout: int, typed: bool, root, cluster=None) -> int:
    """A proof question per input line (iamlogic/batch.py), streamed."""
    from .batch import BatchCounts, open_stream, prove_stream

    stream = open_stream(source)
    base = Path.cwd() if source == "-" else Path(source).parent
    counts = BatchCounts()
    try:
        prove_stream(question, stream, sys.stdout, counts, timeout * 1000, typed, base, root, cluster)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    sys.stdout.flush()
    error_line(counts.summary())
    if counts.errors:
        return ExitCode.TOOL_ERROR
    if counts.by_kind.get("FAIL"):
        return ExitCode.BLOCKING
    return ExitCode.UNDECIDED if counts.by_kind.get("UNKNOWN") else ExitCode.OK


def _simulate_batch(source: str, root=True, brief: bool = False, cluster=None) -> int:
    """One JSON result per input line, in order, streamed (iamlogic/batch.py);
    a bad line is reported in its result line (and makes the exit code 1),
    the others still run. The summary counts lines in and out."""
    from .batch import BatchCounts, open_stream, simulate_stream

    stream = open_stream(source)
    base = None if source == "-" else Path(source).parent
    counts = BatchCounts()
    try:
        simulate_stream(stream, sys.stdout, counts, base, root, brief, cluster)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    sys.stdout.flush()
    error_line(counts.summary())
    return ExitCode.TOOL_ERROR if counts.errors else ExitCode.OK


def error_line(message: str) -> None:
    """One plain line on stderr, never wrapped: scripts grep it."""
    click.echo(f"iamlogic: {one_line(message)}", err=True)


def finding_types(text: str) -> frozenset[FindingType]:
    chosen = set()
    for word in filter(None, (w.strip().upper() for w in text.split(","))):
        try:
            chosen.add(FindingType(word))
        except ValueError:
            kinds = ", ".join(t.value for t in FindingType)
            raise click.BadParameter(f"{quote(word)} is not a finding type ({kinds})", param_hint="--treat-as-blocking")
    return frozenset(chosen)


def _summary(files: int, total: int, failed: int, policies: int | None = None) -> None:
    style = "red" if failed else "green"
    held = f", {policies} policies" if policies is not None and policies != files else ""
    stderr.print(f"[{style}]{files} file(s){held}, {total} finding(s), {failed} with blocking findings[/{style}]")


from .changes import check_changes_command  # noqa: E402  (the pre-commit hook's and the Action's command)

app.add_command(check_changes_command)

# `iamlogic serve` and `iamlogic account`: IAM and STS over HTTP (service/cli.py).
from .service.cli import account as _account, serve as _serve  # noqa: E402

app.add_command(_serve)
app.add_command(_account)


from .privesc_cli import privesc_command  # noqa: E402  (it reads the account-data options above)

app.add_command(privesc_command)


def main(argv: list[str] | None = None) -> None:
    from .help_examples import add_examples

    add_examples(app)
    """Entry point: maps every failure to an exit code and one line on stderr."""
    try:
        code = app(args=argv, prog_name="iamlogic", standalone_mode=False)
    except click.exceptions.Abort:
        error_line("aborted")
        code = ExitCode.TOOL_ERROR
    except click.exceptions.ClickException as e:
        # Usage errors are exit code 1 here (click's own default is 2, which
        # this tool keeps for blocking findings).
        e.show(file=sys.stderr)
        code = ExitCode.TOOL_ERROR
    except IamlogicError as e:
        error_line(str(e))
        code = e.exit_code
    except KeyboardInterrupt:
        code = ExitCode.TOOL_ERROR
    except BrokenPipeError:
        code = ExitCode.OK
    except RecursionError:
        error_line("an input nests too deeply to be read")
        code = ExitCode.TOOL_ERROR
    except MemoryError:
        error_line("out of memory")
        code = ExitCode.TOOL_ERROR
    except Exception as e:  # a bug: still one line, never a traceback
        error_line(f"internal error: {type(e).__name__}: {e}")
        code = ExitCode.TOOL_ERROR
    sys.exit(int(code or 0))


if __name__ == "__main__":
    main()
