"""The commands over the input layer (sources.py): each policy a file holds
validated with the type its place implies, its findings moved to the file's
own lines; the proofs over the policy a file holds, or over each pair of
policies two versions of a template hold (paired by their key: the logical
id and property path, or the plan's address and attribute)."""

from __future__ import annotations

import sys
from dataclasses import replace

from .errors import ExitCode, IamlogicError, InputError, PolicyError, UsageError, quote
from .inputs import MAX_INPUT_BYTES
from .scenario import PolicyText
from .sources import UNDECIDED_CODES, NamedPolicy, read_sources, truncated_warnings, where
from .translator import Finding, FindingType, PolicyType
from .translator.findings import Location
from .validation import validate as validate_document


def allows_nothing(policy_type: PolicyType) -> dict:
    """A policy of the type that allows nothing (IAM refuses an empty
    Statement list): what a version without the policy grants."""
    from .proofs.questions import ENCODED_TYPES  # the types whose statements name no principal

    statement: dict = {"Effect": "Deny", "Action": "*"}
    if policy_type not in ENCODED_TYPES:
        statement["Principal"] = "*"
    if policy_type is not PolicyType.TRUST:
        statement["Resource"] = "*"
    return {"Version": "2012-10-17", "Statement": [statement]}


def policy_type_of(policy: NamedPolicy, default: PolicyType, explicit: bool) -> PolicyType:
    """The type a policy is read as: the one its place implies (a role's
    AssumeRolePolicyDocument is a trust policy, a bucket policy a resource
    policy), else the command's --policy-type. An explicit --policy-type
    overrides what a file implies only for bare documents."""
    if policy.policy_type is None or (explicit and policy.kind == "policy"):
        return default
    return policy.policy_type


def validate_named(policy: NamedPolicy, policy_type: PolicyType, catalogue: bool) -> list[Finding]:
    """validate's findings for one policy of a file, each located in the file.
    A template's policy whose deployments differ: every deployment's
    findings; one that not all of them have names the deployments that do."""
    if policy.variants:
        each = [_validate_one(v, policy_type, catalogue) for v in policy.variants]
        seen: dict = {}
        for variant, findings in zip(policy.variants, each):
            for f in findings:
                seen.setdefault(_same_finding(f), (f, []))[1].append(variant.valuation)
        return [f if len(where_) == len(policy.variants) else
                replace(f, message=f"{f.message} (when {'; or '.join(where_)})")
                for f, where_ in seen.values()]
    return _validate_one(policy, policy_type, catalogue)


def _same_finding(f: Finding) -> tuple:
    """What makes two deployments' findings one: the same finding at the same place of the file."""
    return (f.finding_type, f.issue_code, f.message,
            tuple((loc.span.line, loc.span.column) if loc.span else tuple(loc.path) for loc in f.locations))


def _validate_one(policy: NamedPolicy, policy_type: PolicyType, catalogue: bool) -> list[Finding]:
    if policy.problem is not None:
        kind = FindingType.WARNING if policy.problem_code in UNDECIDED_CODES else FindingType.ERROR
        return [Finding(kind, policy.problem_code, policy.problem,
                        (Location(policy.problem_at, policy.problem_span()),), None, policy.file)]
    findings = validate_document(policy.document, policy_type, policy.label, catalogue=catalogue)
    if policy.places is None:
        return [replace(f, file=policy.file) for f in findings]
    # What the file repeats: in the document an ERROR as in a bare one; around it a WARNING (cfn.duplicates_in)
    around = [Finding(FindingType.ERROR, "DUPLICATE_KEYS", message, (Location(path, span, True),), None, policy.file)
              for message, path, span in policy.duplicates]
    around += [Finding(FindingType.WARNING, code, message, (Location((), span, True),), None, policy.file)
               for code, message, span in policy.notes]
    return around + [relocated(f, policy) for f in findings]


def catalogue_warnings(policies, default: PolicyType, explicit: bool, typed: bool = True) -> list[str]:
    """Typed mode over the policies a proof reads: what validate's catalogue
    checks find in each (an action, a condition key, a service the catalogue
    does not know; typos.py for a resource ARN no resource type has the format
    of), one line each with the file's line and column. They are warnings: a
    proof over ``s3:GetObjekt`` answers about a name no request sends, and
    says so, but the answer is not changed (the catalogue can lag AWS)."""
    from .translator.reader import read_policy
    from .typos import policy_warnings

    out: list[str] = []
    for policy in policies if typed else ():
        if policy is None or policy.problem is not None:
            continue
        model, _ = read_policy(policy.document, policy_type_of(policy, default, explicit), policy.label)
        if model is None:
            continue

        def place(finding, policy=policy):
            finding = relocated(finding, policy) if policy.places is not None else finding
            span = finding.locations[0].span if finding.locations else None
            return (f"{policy.file}:{span.line}:{span.column}" if span else policy.file) + \
                (f": {policy.name}" if policy.name else "")

        out.extend(policy_warnings(model, place, policy.label))
    return out


def warn_typos(policies, default: PolicyType, explicit: bool, typed: bool) -> None:
    """catalogue_warnings on standard error, one ``iamlogic: warning:`` line each."""
    import click

    from .errors import one_line

    for warning in catalogue_warnings(policies, default, explicit, typed):
        click.echo(f"iamlogic: warning: {one_line(warning)}", err=True)


def relocated(finding: Finding, policy: NamedPolicy) -> Finding:
    """The finding with each location's span in the file the policy is in."""
    locations = tuple(replace(loc, span=policy.span(loc.path, loc.on_key)) for loc in finding.locations)
    return replace(finding, locations=locations, file=policy.file)


def parameter_values(items: tuple[str, ...]) -> dict[str, str]:
    """--parameter NAME=VALUE options as a dict (a template's Parameters)."""
    values = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--parameter {quote(item)}: expected NAME=VALUE")
        values[name] = value
    return values


def parameter_option(command):
    import click

    return click.option("--parameter", "parameters", multiple=True, metavar="NAME=VALUE",
                        help="A value for a CloudFormation template's parameter (default: its Default); "
                             "repeat for more.")(command)


def read_for_proof(name: str, option: str, stdin: bytes | None = None,
                   parameters: dict | None = None) -> list[NamedPolicy]:
    """The policies of a command-line file, for a proof: every one readable
    (a problem is an InputError naming file, line and why)."""
    found = read_sources(name, MAX_INPUT_BYTES, stdin, False, parameters)
    for message in found.unreadable:
        raise InputError(f"{message} ({option})")
    if not found.policies:
        raise InputError(f"{name} ({option}): holds no policy")
    for policy in found.policies:
        if policy.problem is not None and policy.problem_code not in UNDECIDED_CODES:
            raise InputError(f"{where(policy)} ({option})")
        for code, message, span in policy.notes:  # deployed all the same: said, not refused
            sys.stderr.write(f"{policy.file}:{span.line}:{span.column}: WARNING {code}: {message}\n")
    import click

    for warning in truncated_warnings(found.policies):
        click.echo(f"iamlogic: warning: {warning} ({option})", err=True)
    return found.policies


def known(policy: NamedPolicy | None, option: str) -> None:
    """A policy known only after apply cannot be one question's policy."""
    if policy is not None and policy.problem_code in UNDECIDED_CODES and policy.problem is not None:
        raise UnknownUntilApply(f"UNKNOWN: {where(policy)} ({option})")


def same_unread(new: NamedPolicy | None, existing: NamedPolicy | None) -> bool:
    """Both versions name the very same policy that is not read (a SAM
    managed policy or policy template with the same arguments): it grants
    the same in both, whatever it grants."""
    return (new is not None and existing is not None and new.problem_code == existing.problem_code == "POLICY_NOT_READ"
            and new.problem == existing.problem)


def removed_widens(existing: NamedPolicy) -> bool:
    """A template's permissions boundary the new version no longer holds (cfn.attachments): removing
    a policy grants nothing, removing a boundary lifts a cap."""
    return existing.kind == "cloudformation" and existing.policy_type is PolicyType.BOUNDARY


def unknown_check(policies, typed: bool):
    """The answer for a policy a plan knows only after apply: UNKNOWN, with why (None: it is known)."""
    from .proofs.questions import Check

    if len(policies) == 2 and same_unread(*policies):
        return Check("PASS", mode="typed" if typed else "untyped",
                     note="the same policy in both versions, not read: it grants nothing new")
    for policy in policies:
        if policy is not None and policy.problem is not None:
            return Check("UNKNOWN", mode="typed" if typed else "untyped", note=where(policy))
    return None


class UnknownUntilApply(IamlogicError):
    """A policy a plan knows only after apply: the question is undecided
    (exit 3), never answered on a guess."""

    exit_code = ExitCode.UNDECIDED


def proof_document(policy: NamedPolicy, option: str):
    """What the proofs read: the document, its text kept as text (never a
    path). A policy of a template, plan or CLI output that IAM would refuse
    is refused here, its findings at the file's own lines (the proofs would
    cite the lines of the document re-serialised)."""
    label = f"{policy.label} ({option})"
    document = policy.document
    if policy.places is not None and policy.problem is None:
        blocking = [f for f in validate_named(policy, policy.policy_type or PolicyType.IDENTITY, False)
                    if f.finding_type is FindingType.ERROR]
        if blocking:
            error = PolicyError(blocking, policy.file)  # file:line:column: the finding, then which policy
            error.args = (f"{error} ({policy.name + ', ' if policy.name else ''}{option})",)
            raise error
    if isinstance(document, (bytes, bytearray)):
        from .inputs import decode_text

        return PolicyText(decode_text(bytes(document), label), label)
    if isinstance(document, str):
        return PolicyText(document, label)
    return document


def pairs(new: list[NamedPolicy], existing: list[NamedPolicy]) -> list[tuple[str, NamedPolicy | None,
                                                                             NamedPolicy | None]]:
    """(key, new, existing) for every key either version holds, in the new
    version's order, then what only the existing one has. A file of one
    policy pairs with a file of one policy whatever their keys — but not a
    template or plan, where the key is the resource: another resource
    holding the same document is another grant (a renamed logical id is
    compared with a policy that allows nothing)."""
    keyed = ("cloudformation", "terraform-plan")
    if len(new) == 1 and len(existing) == 1 and not (new[0].kind in keyed and existing[0].kind in keyed):
        return [(new[0].key or new[0].name or new[0].file, new[0], existing[0])]
    old = {p.key: p for p in existing}
    out = [(p.key, p, old.pop(p.key, None)) for p in new]
    return out + [(k, None, p) for k, p in old.items()]


def deployments(new: NamedPolicy | None, existing: NamedPolicy | None) -> list[tuple[str, NamedPolicy | None,
                                                                                NamedPolicy | None, str | None]]:
    """(key suffix, new, existing, why undecided) for each comparison a
    pair of versions asks: a template's policy whose deployments differ
    (cfn.py) is compared deployment by deployment — each deployment of the
    new version with every deployment of the existing one the same
    parameter values may give (the same condition valuation, when the
    conditions are unchanged). A new deployment no existing one can be
    paired with is undecided, not compared with a guess."""
    from .deployments import compatible

    if new is not None and existing is not None and existing.exists_when is not None and \
            new.exists_when != existing.exists_when:
        # The existing version's resource exists only where its Condition holds; the new one's in other
        # deployments (always, or by another condition): there the new policy has nothing to be compared
        # with, and which deployments those are is not worked out here (readings I9).
        was = existing.exists_when[0]
        now = f"when {new.exists_when[0]}" if new.exists_when is not None else "in every deployment"
        return [(_shown(new), new, None, f"the existing version's resource exists only when {was}, the new "
                                         f"one's {now}: the deployments only the new one exists in are not "
                                         "compared")]
    if new is not None and existing is not None and new.attached_to is not None and \
            not set(new.attached_to) <= set(existing.attached_to or ()):
        # A policy resource attached to principals it was not attached to (Roles, Users, Groups): for
        # them it is new from nothing, whatever the document was (readings I11).
        more = ", ".join(sorted(set(new.attached_to) - set(existing.attached_to or ())))
        return [(f"{_shown(v)} [attached to {more}]", v, None, None) for v in new.each()]
    if new is None or existing is None or not (new.variants or existing.variants):
        return [(_shown(new), v, existing, None) for v in (new.each() if new is not None else [None])]
    out = []
    for n in new.each():
        matched = [o for o in existing.each()
                   if any(compatible(a, b) for a in n.deployments or ({},) for b in o.deployments or ({},))]
        if not matched:
            out.append((_shown(n), n, None, f"no deployment of the existing version has the parameter values of "
                                            f"the new one's [{n.valuation}]: nothing to compare it with"))
        for o in matched:
            suffix = _shown(n) if o.valuation in ("", n.valuation) else \
                f"{_shown(n) or ' [every deployment]'} vs existing [{o.valuation}]"
            out.append((suffix, n, o, None))
    return out


def _shown(policy: NamedPolicy | None) -> str:
    return f" [{policy.valuation}]" if policy is not None and policy.valuation else ""


def describe(policy: NamedPolicy | None) -> str | None:
    return policy.label if policy is not None else None




def _stdin(name: str) -> bytes | None:
    if name != "-":
        return None
    from .inputs import MAX_EXPORT_BYTES, read_stdin

    return read_stdin(MAX_EXPORT_BYTES)


def load_policies(name: str, option: str, parameters: dict | None = None) -> list[NamedPolicy]:
    """read_for_proof for a command-line argument (``-``: standard input)."""
    return read_for_proof(name, option, _stdin(name), parameters)


def single(policies: list[NamedPolicy], name: str, option: str) -> NamedPolicy:
    """The one policy a question about one policy reads."""
    if len(policies) != 1:
        shown = ", ".join(p.name for p in policies[:5]) + (", ..." if len(policies) > 5 else "")
        raise InputError(f"{name} ({option}): holds {len(policies)} policies ({shown}); this question reads one")
    known(policies[0], option)
    return policies[0]


def prove_versions(question, new: list[NamedPolicy], old: list[NamedPolicy], default: PolicyType, explicit: bool,
                   timeout_ms: int, typed: bool, every: bool, output: str, report, labels=("--new", "--existing"),
                   removed_is_new: bool = False) -> int:
    """``question`` (check_no_new_access or equivalent) of each policy of
    ``new`` and the policy of ``old`` with its key: one pair, reported as
    the question reports it; several (two versions of a template), each
    pair under one Deadline for them all, then the worst result. A policy
    only the new version has is compared with one that allows nothing; one
    only the old version has is removed (``removed_is_new``: compared the
    same way, for equivalent)."""
    from .proofs.deadline import Deadline
    from .proofs.questions import Check

    warn_typos(new + old, default, explicit, typed)
    rows = [(key + suffix, n, o, why) for key, new_policy, old_policy in pairs(new, old)
            for suffix, n, o, why in deployments(new_policy, old_policy)]
    if len(rows) == 1 and rows[0][1] is not None and rows[0][2] is not None and rows[0][3] is None and \
            not same_unread(rows[0][1], rows[0][2]):
        _, n, o, _ = rows[0]
        known(n, labels[0]), known(o, labels[1])
        kind = _pair_type(n, o, default, explicit)
        check = question(proof_document(n, labels[0]), proof_document(o, labels[1]), kind, timeout_ms=timeout_ms,
                         typed=typed, every=every)
        located(check, n, o)
        return report(check, output, principals=kind is not PolicyType.IDENTITY)
    deadline = Deadline(timeout_ms)
    results = []
    for key, n, o, why in rows:
        kind = _pair_type(n, o, default, explicit)
        if n is None and o is not None and removed_widens(o):
            check = Check("UNKNOWN", mode="typed" if typed else "untyped",
                          note=f"{o.label}: only in the existing version: a permissions boundary removed widens "
                               "what the principal may do, by what its policies allow")
        elif n is None and not removed_is_new:
            check = Check("PASS", mode="typed" if typed else "untyped",
                          note="only in the existing version: removed, it grants nothing new")
        elif why is not None:
            check = Check("UNKNOWN", mode="typed" if typed else "untyped", note=why)
        elif unknown_check((n, o), typed) is not None:
            check = unknown_check((n, o), typed)
        elif deadline.remaining_ms() <= 0:  # the time is the whole question's: UNKNOWN for what is left
            check = Check("UNKNOWN", mode="typed" if typed else "untyped", note=deadline.why)
        else:
            check = question(proof_document(n, labels[0]) if n else allows_nothing(kind),
                             proof_document(o, labels[1]) if o else allows_nothing(kind), kind,
                             timeout_ms=max(1, deadline.remaining_ms()), typed=typed, every=every)
            if o is None:
                check.note = "; ".join(filter(None, ["only in the new version: compared with a policy that "
                                                     "allows nothing", check.note]))
            located(check, n, o)
        results.append((key, n, o, check, kind))
    return report_many(results, output, report, "compared")


def report_many(results: list, output: str, report, verb: str = "checked") -> int:
    """(key, new, existing, check, policy type) for each policy a question
    read: each reported as one question is, then the worst result (FAIL
    before UNKNOWN before PASS) decides the exit code."""
    import json
    import sys

    if output == "aws":
        from .check_formats import write_checks

        # ``report`` is _report_check with the question (and the listed
        # actions and resources) bound: the array needs them too.
        bound = getattr(report, "keywords", {})
        return write_checks(results, bound.get("question", ""), bound.get("access", ((), ())))
    order = {"FAIL": 2, "UNKNOWN": 1, "PASS": 0}
    worst = max((r[3].result for r in results), key=order.get, default="PASS")
    if output == "json":
        sys.stdout.write(json.dumps({"result": worst, "policies": [
            {"key": key, **({"new": describe(n), "existing": describe(o)} if o is not None or n is None else
                            {"policy": describe(n)}), "policy_type": str(kind), **c.to_dict()}
            for key, n, o, c, kind in results]}, indent=2) + "\n")
    else:
        for key, n, o, c, kind in results:
            sys.stdout.write(f"== {key}\n")
            report(c, output, principals=kind is not PolicyType.IDENTITY)
        counts = {r: sum(x[3].result == r for x in results) for r in ("FAIL", "UNKNOWN", "PASS")}
        sys.stdout.write(f"{worst}: {len(results)} policies {verb}, "
                         + ", ".join(f"{n} {r}" for r, n in counts.items() if n) + "\n")
    return {"PASS": 0, "FAIL": 2}.get(worst, 3)


def prove_each(question, policies: list[NamedPolicy], default: PolicyType, explicit: bool, timeout_ms: int,
               output: str, report, option: str = "POLICY", **arguments) -> int:
    """``question(document, policy_type=..., timeout_ms=..., **arguments)``
    of each policy (a template's, a CLI output's): one policy is reported as
    before; several, each within one Deadline for them all, then the worst."""
    from .proofs.deadline import Deadline
    from .proofs.questions import Check

    warn_typos(policies, default, explicit, arguments.get("typed", True))
    policies = [v for p in policies for v in p.each()]  # a template's policy: each deployment's
    if len(policies) == 1:
        known(policies[0], option)
        kind = policy_type_of(policies[0], default, explicit)
        check = question(proof_document(policies[0], option), policy_type=kind, timeout_ms=timeout_ms, **arguments)
        located(check, policies[0], None)
        return report(check, output, principals=kind is not PolicyType.IDENTITY)
    deadline = Deadline(timeout_ms)
    results = []
    for policy in policies:
        kind = policy_type_of(policy, default, explicit)
        if unknown_check([policy], arguments.get("typed", True)) is not None:
            check = unknown_check([policy], arguments.get("typed", True))
        elif deadline.remaining_ms() <= 0:  # the time is the whole question's: UNKNOWN for what is left
            check = Check("UNKNOWN", mode="typed" if arguments.get("typed", True) else "untyped", note=deadline.why)
        else:
            check = question(proof_document(policy, option), policy_type=kind,
                             timeout_ms=max(1, deadline.remaining_ms()), **arguments)
            located(check, policy, None)
        results.append(((policy.key or policy.name) + _shown(policy), policy, None, check, kind))
    return report_many(results, output, report)


def _pair_type(n: NamedPolicy | None, o: NamedPolicy | None, default: PolicyType, explicit: bool) -> PolicyType:
    kinds = {policy_type_of(p, default, explicit) for p in (n, o) if p is not None}
    if len(kinds) > 1:
        raise InputError(f"{(n or o).key}: the two versions are different kinds of policy "
                         f"({', '.join(sorted(map(str, kinds)))})")
    return kinds.pop()


def located(check, new: NamedPolicy | None, existing: NamedPolicy | None) -> None:
    """Each granting statement of a witness with its place in the file that
    holds it (``at``: file:line:column), for a reviewer to open — for the
    policies a template, plan or CLI output holds (a bare document's
    statements are where its own text has them)."""
    by_name = {p_name: p for p_name, p in (("new", new), ("a", new), ("policy", new), ("existing", existing),
                                           ("b", existing))
               if p is not None and p.places is not None}
    for reasons in [check.reasons] + [w.get("reasons", []) for w in check.witnesses]:
        for reason in reasons:
            policy = by_name.get(reason.get("policy"))
            if policy is not None and "at" not in reason:
                span = statement_span(policy, reason.get("statement_index"))
                if span is not None:
                    reason["at"] = f"{policy.file}:{span.line}:{span.column}"


def statement_span(policy: NamedPolicy, index):
    """The file position of statement ``index`` of the policy."""
    if not isinstance(index, int):
        return None
    if isinstance(policy.document, dict):
        return policy.span(("Statement", index)) if isinstance(policy.document.get("Statement"), list) \
            else policy.span(("Statement",))
    # JSON text in a string: the statement's characters in it, else the string
    return policy.span(("Statement", index)) or policy.span(("Statement",)) or policy.span(())
