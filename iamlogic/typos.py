"""Typed mode's check of the names a command is given: an action, a
condition key or a resource's service the service catalogue does not know
is most often a typo (``s3:GetObjekt``), and a question about it answers
PASS — or lists every caller — for the wrong reason. Each is a warning on
standard error, with the closest names the catalogue has; ``--untyped``
silences them. They never change an answer: the catalogue can lag AWS (a new
action is still one a request can name), which is also why validate's
findings about them are WARNINGs.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping

from .errors import quote
from .kernel.catalogue import CATALOGUE, Catalogue


def action_warnings(actions: Iterable[str], catalogue: Catalogue = CATALOGUE) -> list[str]:
    out = []
    for action in actions:
        if not isinstance(action, str) or action == "*":
            continue
        service, colon, name = action.partition(":")
        if not colon or not service or not name:
            continue  # not an action's shape at all: the command refuses it as bad input
        if not catalogue.has_service(service):
            near = difflib.get_close_matches(service.lower(), catalogue.services(), n=3)
            out.append(f"{quote(action)}: the service {quote(service)} is not in {catalogue.version}" + _near(near))
        elif "*" in name or "?" in name:
            if not catalogue.expand(action):
                out.append(f"{quote(action)} matches no action of {service} in {catalogue.version}")
        elif catalogue.action(service, name) is None:
            names = [f"{service.lower()}:{d['name']}" for d in catalogue.actions(service).values()]
            near = difflib.get_close_matches(action, names, n=3, cutoff=0.75)
            out.append(f"{quote(action)} is not an action of {service} in {catalogue.version}" + _near(near))
    return out


def key_warnings(keys: Iterable[str], catalogue: Catalogue = CATALOGUE) -> list[str]:
    out = []
    for key in keys:
        prefix, colon, _ = key.partition(":")
        if not colon or "." in prefix:
            continue  # an identity provider's key (accounts.google.com:aud): not the catalogue's
        if catalogue.condition_key_type(key) is not None:
            continue
        if prefix.lower() == "aws":
            from .kernel.catalogue import GLOBAL_KEYS

            near = difflib.get_close_matches(key, list(GLOBAL_KEYS), n=3, cutoff=0.75)
            out.append(f"{quote(key)} is not a global condition key" + _near(near))
        elif catalogue.has_service(prefix):
            out.append(f"{quote(key)} is not a condition key of {prefix} in {catalogue.version}")
        else:
            out.append(f"{quote(key)}: the service {quote(prefix)} is not in {catalogue.version}")
    return out


def resource_warnings(resources: Iterable[str], catalogue: Catalogue = CATALOGUE) -> list[str]:
    """A resource ARN whose service the catalogue does not know, or (an ARN
    without wildcards) that no resource type of its service has the format of."""
    out = []
    for arn in resources:
        parts = arn.split(":", 5) if isinstance(arn, str) else []
        if len(parts) < 6 or parts[0] != "arn" or "*" in parts[2] or "?" in parts[2] or not parts[2]:
            continue
        if not catalogue.has_service(parts[2]):
            near = difflib.get_close_matches(parts[2].lower(), catalogue.services(), n=3)
            out.append(f"{quote(arn)}: the service {quote(parts[2])} is not in {catalogue.version}" + _near(near))
        elif "*" not in arn and "?" not in arn and "${" not in arn:
            formats = [t["arn"] for t in catalogue.resource_types(parts[2]).values() if t.get("arn")]
            if formats and not any(_format_regex(f).fullmatch(arn) for f in formats):
                out.append(f"{quote(arn)} has the format of no resource type of {parts[2]} in {catalogue.version}")
    return out


# The catalogue's ARN formats' placeholders: the head's are one segment each.
_SEGMENT = {"${Partition}": "[^:]+", "${Region}": "[^:]*", "${Account}": "[^:]*"}


def _format_regex(arn_format: str) -> re.Pattern:
    pieces = re.split(r"(\$\{[^}]*\})", arn_format)
    return re.compile("".join(_SEGMENT.get(p, ".+") if p.startswith("${") else re.escape(p) for p in pieces))


def policy_warnings(model, place, label: str) -> list[str]:
    """Typed mode inside a policy (a translator Policy): validate's catalogue
    checks (translator/catalogue_checks.py) and resource_warnings over its
    Resource and NotResource ARNs, one line each; ``place(finding)`` says
    where a finding is (file:line:column)."""
    from .translator.catalogue_checks import catalogue_findings

    out = [f"{place(f.with_spans(model.source))}: {f.issue_code}: {f.message}" for f in catalogue_findings(model)]
    arns = [r.text for st in model.statements for r in (st.resource or ()) + (st.not_resource or ())]
    return out + [f"{label}: {w}" for w in resource_warnings(dict.fromkeys(arns))]


def request_names(raw: object) -> tuple[list[str], list[str], list[str]]:
    """(actions, condition keys, resources) a scenario's or a
    SimulateCustomPolicy request's request names."""
    actions: list[str] = []
    keys: list[str] = []
    resources: list[str] = []
    if not isinstance(raw, Mapping):
        return actions, keys, resources
    request = raw.get("request")
    if isinstance(request, Mapping):
        if isinstance(request.get("action"), str):
            actions.append(request["action"])
        if isinstance(request.get("resource"), str):
            resources.append(request["resource"])
        if isinstance(request.get("context"), Mapping):
            keys.extend(k for k in request["context"] if isinstance(k, str))
    for name, into in (("ActionNames", actions), ("ResourceArns", resources)):
        if isinstance(raw.get(name), list):
            into.extend(v for v in raw[name] if isinstance(v, str))
    for entry in raw.get("ContextEntries") or () if isinstance(raw.get("ContextEntries"), list) else ():
        if isinstance(entry, Mapping) and isinstance(entry.get("ContextKeyName"), str):
            keys.append(entry["ContextKeyName"])
    return actions, keys, resources


def warnings_for(actions: Iterable[str] = (), keys: Iterable[str] = (), resources: Iterable[str] = ()) -> list[str]:
    return action_warnings(actions) + key_warnings(keys) + resource_warnings(resources)


def _near(names: list[str]) -> str:
    return f" (did you mean {', '.join(names)}?)" if names else ""
