"""``iamlogic privesc``: who can become admin (or reach a goal, or become a
principal), by every escalation method, each need decided by the kernel."""

from __future__ import annotations

import json
import sys

import click

from .cli import _account_data, _context_option, _engine, account_data_options, engine_options, stderr
from .errors import ExitCode

SYNTHETIC = {"allowed the goal": "is at the goal", "as changed": "holds the change made to it",
             "is the goal": "is the goal"}


def _goal(to: str | None, goal: str | None):
    from .accounts.escalation import Goal

    if to is not None and goal is not None:
        raise click.UsageError("--to and --goal ask different questions: give one")
    if goal is not None:
        words = goal.split()
        if not 1 <= len(words) <= 2:
            raise click.BadParameter("expected 'ACTION [RESOURCE]'", param_hint="--goal")
        from .errors import ScenarioError
        from .kernel.request import read_request

        goal_ = Goal(words[0], words[1] if len(words) == 2 else "*")
        try:  # the request the goal asks about, read as the kernel reads every request
            read_request({"principal": None, "action": goal_.action, "resource": goal_.resource})
        except ScenarioError as e:
            raise click.BadParameter(str(e).split(": ", 1)[-1], param_hint="--goal") from None
        return goal_
    if to is None or to == "admin":
        return Goal()
    return Goal(principal=to)


def _cites(answer) -> str:
    return ", ".join(ref.label for ref in answer.decision.matched_statements if ref.layer in ("identity", "resource"))


def _need_dict(answer) -> dict:
    request = answer.decision.request
    out = {"action": request.action, "resource": request.resource,
           "decision": "undecided" if answer.failed_closed else answer.decision.decision,
           "granted_by": [ref.to_dict() for ref in answer.decision.matched_statements]}
    if answer.conditional is not None:
        out["allowed_with_context"] = answer.conditional
    if answer.undecided is not None:
        out["undecided"] = answer.undecided
    return out


def _hop_dict(edge) -> dict:
    out = {"actor": edge.source, "method": edge.method, "gets": edge.target, "status": edge.status,
           "needs": [_need_dict(a) for a in edge.answers if a is not None]}
    if edge.assumes:
        out["assumes"] = edge.assumes
    return out


def _text(finding, write) -> None:
    how = "CONDITIONAL" if finding.conditional else "FOUND"
    where = f" with aws:RequestedRegion {finding.region}" if finding.region not in (None, "us-east-1") else ""
    write(f"{how}: {finding.start} reaches {finding.goal.label}{where} "
          f"({len(finding.paths[0])} steps; {len(finding.paths)} shortest path{'s' * (len(finding.paths) != 1)})\n")
    for i, path in enumerate(finding.paths, 1):
        write(f"  path {i}:\n")
        for j, edge in enumerate(path, 1):
            verb = SYNTHETIC.get(edge.method)
            if verb is not None and not edge.answers:
                write(f"    {j}. {edge.source} {verb}: {edge.target}\n")
                continue
            write(f"    {j}. {edge.source} --[{edge.method}]--> {edge.target}\n")
            for answer in edge.answers:
                if answer is None:
                    continue
                request = answer.decision.request
                keys = {k: v for k, v in request.context.items() if k.lower().startswith(("iam:", "sts:"))}
                given = f" with {json.dumps(keys)}" if keys else ""
                if answer.conditional is not None:
                    write(f"         {request.action} on {request.resource}{given}: allowed only with context "
                          f"{json.dumps(answer.conditional)}\n")
                else:
                    write(f"         {request.action} on {request.resource}{given}: allowed by {_cites(answer)}\n")
            if edge.assumes:
                write(f"         assuming {edge.assumes}\n")


def _dot(findings, goal: str, undecided=()) -> str:
    """The paths found, and each UNDECIDED step (red, dotted, its reason as
    the tooltip): a picture of "undecided" is not one of "none"."""
    lines = ["digraph privesc {", "  rankdir=LR;", '  node [shape=box, fontname="Helvetica"];',
             f'  "GOAL" [label={json.dumps(goal)}, shape=doubleoctagon];']
    seen = set()
    for edge in undecided:
        key = (edge.source, edge.method, edge.target)
        if key not in seen:
            seen.add(key)
            lines.append(f"  {json.dumps(edge.source)} -> {json.dumps(edge.target)} "
                         f"[label={json.dumps('UNDECIDED: ' + edge.method)}, style=dotted, color=red, "
                         f"tooltip={json.dumps(edge.why or '')}];")
    for finding in findings:
        for path in finding.paths:
            for edge in path:
                key = (edge.source, edge.method, edge.target)
                if key in seen:
                    continue
                seen.add(key)
                lines.append(f"  {json.dumps(edge.source)} -> {json.dumps(edge.target)} "
                             f"[label={json.dumps(edge.method)}{', style=dashed' if edge.status != 'allowed' else ''}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_svg(dot_text: str) -> str:
    """The picture, drawn by Graphviz's ``dot``; a clear error when it is
    not installed (``--format dot`` needs nothing)."""
    import shutil
    import subprocess

    from .errors import InputError

    binary = shutil.which("dot")
    if binary is None:
        raise InputError("--format svg: Graphviz's dot is not installed (apt-get install graphviz); "
                         "--format dot prints the graph without it")
    done = subprocess.run([binary, "-Tsvg"], input=dot_text, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise InputError(f"--format svg: dot failed: {done.stderr.strip()[:200]}")
    return done.stdout


@click.command("privesc")
@click.argument("principal", metavar="[PRINCIPAL_ARN]", required=False)
@account_data_options
@click.option("--to", "to", metavar="PRINCIPAL_ARN|admin",
              help="The goal: becoming this user, role or session, or admin (the default).")
@click.option("--goal", "goal", metavar="'ACTION [RESOURCE]'",
              help="The goal: being allowed ACTION on RESOURCE (default *), e.g. 's3:GetObject arn:aws:s3:::secret/x'.")
@click.option("--all", "every", is_flag=True, help="Every principal and named session that reaches the goal.")
@click.option("--conditional", is_flag=True,
              help="A need the context does not allow is asked of the proofs: a context that opens it, replayed by "
                   "the kernel, makes the step CONDITIONAL; a solver that cannot tell makes it UNDECIDED.")
@click.option("--timeout", type=click.IntRange(1), default=30, show_default=True,
              help="Seconds per --conditional question.")
@click.option("--context", "-c", "context", default="{}", metavar="JSON",
              help="The context keys of every request (aws:RequestedRegion names the region of created resources).")
@click.option("--jobs", "-j", type=click.IntRange(1), default=1, show_default=True,
              help="With --all: worker processes expanding the graph (shards of principals).")
@click.option("--format", "-f", "output", type=click.Choice(["text", "json", "dot", "svg"]), default="text",
              show_default=True, help="dot: Graphviz's text (no Graphviz needed); svg: that text drawn by its dot.")
@engine_options
def privesc_command(principal: str | None, account_data: str, policy_versions: tuple, to: str | None,
                    goal: str | None, every: bool, conditional: bool, timeout: int, context: str, jobs: int,
                    output: str, engine: str, address: str | None) -> int:
    """Every shortest path by which PRINCIPAL_ARN (a user, a role, or a role
    session a trust policy names) reaches admin, a goal or a principal —
    each hop an escalation method (accounts/escalation.py), each need of it
    decided by the kernel with the statements that grant it. Exit 0 none,
    2 found, 3 undecided (a step could not be decided); 1 bad input."""
    from .accounts.privesc import privesc, privesc_all

    if every == (principal is not None):
        raise click.UsageError("give a PRINCIPAL_ARN or --all")
    if every and conditional:
        raise click.UsageError("--conditional is for one principal")
    data = _account_data(account_data, policy_versions)
    keys = _context_option(context)
    target = _goal(to, goal)
    if engine == "ray" and not every:
        raise click.UsageError("--engine ray is for --all (one principal's paths are one process's work)")
    if every:
        # With --engine ray the graph's rounds go out as shards to the cluster's actors (iamlogic/scale.py).
        undecided = []
        with _engine(engine, address, jobs if jobs > 1 else None) as cluster:
            findings = privesc_all(data, target, keys, jobs, account_data, cluster and cluster.run,
                                   undecided=undecided)
    else:
        finding = privesc(data, principal, target, keys, conditional, timeout * 1000)
        findings = [finding] if finding.found else []
        undecided = finding.undecided
    write = sys.stdout.write
    if output == "json":
        write(json.dumps({"goal": target.label, "findings": [
            {"principal": f.start, "region": f.region, "paths": [[_hop_dict(e) for e in p] for p in f.paths]}
            for f in findings],
            "undecided": [{"actor": e.source, "method": e.method, "gets": e.target, "why": e.why}
                          for e in undecided]}, indent=2) + "\n")
    elif output == "dot":
        write(_dot(findings, target.label, undecided))
    elif output == "svg":
        write(render_svg(_dot(findings, target.label, undecided)))
    else:
        for finding in findings:
            _text(finding, write)
        for edge in undecided:
            write(f"UNDECIDED: {edge.source} --[{edge.method}]--> {edge.target}\n  {edge.why}\n")
        if not findings:
            write(f"{principal or 'no principal'}: does not reach {target.label}"
                  f"{' (but some steps are UNDECIDED)' if undecided else ''}\n")
    stderr.print(f"{len(findings)} reaching {target.label}; {data.summary()}", markup=False)
    if findings:
        return ExitCode.BLOCKING
    return ExitCode.UNDECIDED if undecided else ExitCode.OK
