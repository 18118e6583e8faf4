"""Who makes the request: the principal string of a scenario read into a
``Caller`` (SEMANTICS §1–3), with the global context keys AWS sets for it.

Accepted principals: an IAM user ARN; a role ARN (a session of that role whose
session name is not given); an assumed-role session ARN; a federated-user
session ARN (GetFederationToken); an account's root (``arn:…:root`` or the
12-digit id); a service principal (``s3.amazonaws.com``); an OIDC/SAML
provider ARN (a web-identity or SAML caller); None for anonymous.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from ..errors import ScenarioError, quote


class CallerKind(StrEnum):
    USER = "user"
    ROLE_SESSION = "role_session"
    FEDERATED_SESSION = "federated_session"
    ROOT = "root"
    ANONYMOUS = "anonymous"
    SERVICE = "service"
    EXTERNAL = "external"  # a web-identity / SAML caller named by its provider


@dataclass(frozen=True, slots=True)
class Caller:
    kind: CallerKind
    arn: str | None  # aws:PrincipalArn (a session's role ARN for role sessions)
    account: str | None
    partition: str = "aws"
    name: str | None = None  # user name, role name, federated user name
    role_arn: str | None = None
    session_arn: str | None = None
    service: str | None = None
    service_linked: bool = False  # a service-linked role: SCPs and RCPs do not apply

    @property
    def identities(self) -> tuple[str, ...]:
        """What AWS may check a NotPrincipal list against, in order (§3)."""
        if self.kind is CallerKind.SERVICE:
            return (self.service,)
        if self.kind is CallerKind.EXTERNAL:
            return (self.arn,)
        out = [f"account:{self.account}"]
        if self.kind is CallerKind.ROLE_SESSION:
            out.append(self.role_arn)
            if self.session_arn:
                out.append(self.session_arn)
        elif self.kind in (CallerKind.USER, CallerKind.FEDERATED_SESSION):
            out.append(self.arn)
        return tuple(out)

    @property
    def display(self) -> str:
        if self.kind is CallerKind.ANONYMOUS:
            return "an anonymous caller"
        if self.kind is CallerKind.SERVICE:
            return f"the service {self.service}"
        if self.kind is CallerKind.ROLE_SESSION and self.session_arn is None:
            return f"a session of {self.role_arn}"
        return self.session_arn or self.arn or "?"

    def derived_context(self) -> dict[str, str]:
        """The global keys AWS sets for this caller, as far as its ARN tells
        them (aws:userid of a user or role session is a unique id the ARN
        does not carry: give it in the context when a policy tests it)."""
        out: dict[str, str] = {}
        if self.kind is CallerKind.ANONYMOUS:
            out["aws:PrincipalType"] = "Anonymous"
            out["aws:userid"] = "anonymous"
            return out
        if self.kind is CallerKind.SERVICE:
            out["aws:PrincipalServiceName"] = self.service
            out["aws:PrincipalIsAWSService"] = "true"
            return out
        out["aws:PrincipalIsAWSService"] = "false"
        if self.arn:
            out["aws:PrincipalArn"] = self.arn
        if self.account:
            out["aws:PrincipalAccount"] = self.account
        if self.kind is CallerKind.USER:
            out["aws:PrincipalType"] = "User"
            out["aws:username"] = self.name
        elif self.kind is CallerKind.ROLE_SESSION:
            out["aws:PrincipalType"] = "AssumedRole"
        elif self.kind is CallerKind.FEDERATED_SESSION:
            out["aws:PrincipalType"] = "FederatedUser"
            out["aws:userid"] = f"{self.account}:{self.name}"  # IAM User Guide, aws:userid for federated users
        elif self.kind is CallerKind.ROOT:
            out["aws:PrincipalType"] = "Account"
            out["aws:userid"] = self.account
        return out


_ARN = re.compile(r"arn:(aws[a-z\-]*):(iam|sts)::(\d{12}):(.+)")
_PROVIDER = re.compile(r"arn:aws[a-z\-]*:iam::[^:]*:(oidc-provider|saml-provider)/.+")
_SERVICE = re.compile(r"[a-z0-9][a-z0-9.\-]*\.amazonaws\.com(\.cn)?", re.IGNORECASE)


def read_caller(principal: str | None, field: str = "request.principal") -> Caller:
    """The Caller for a scenario's principal; ScenarioError names the field."""
    if principal is None:
        return Caller(CallerKind.ANONYMOUS, None, None)
    if not isinstance(principal, str):
        raise ScenarioError(field, f"expected an ARN, a service principal or null, found {type(principal).__name__}")
    if len(principal) == 12 and principal.isdigit():
        return Caller(CallerKind.ROOT, f"arn:aws:iam::{principal}:root", principal)
    if _SERVICE.fullmatch(principal):
        return Caller(CallerKind.SERVICE, None, None, service=principal.lower())
    if _PROVIDER.fullmatch(principal):
        # An identity provider is only ever compared whole with Federated
        # entries, so its account part is not read.
        return Caller(CallerKind.EXTERNAL, principal, None)
    m = _ARN.fullmatch(principal)
    if not m:
        raise ScenarioError(field, f"{quote(principal)} is not a principal ARN (arn:aws:iam::ACCOUNT:user/NAME, "
                                   "…:role/NAME, arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION, …:root), "
                                   "a 12-digit account, a service principal or null")
    partition, service, account, rest = m.groups()
    if service == "iam":
        if rest == "root":
            return Caller(CallerKind.ROOT, principal, account, partition)
        kind, _, path_name = rest.partition("/")
        name = path_name.rsplit("/", 1)[-1]
        if kind == "user" and name:
            return Caller(CallerKind.USER, principal, account, partition, name)
        if kind == "role" and name:
            return Caller(CallerKind.ROLE_SESSION, principal, account, partition, name, role_arn=principal,
                          service_linked=path_name.startswith("aws-service-role/"))
        if kind in ("oidc-provider", "saml-provider") and path_name:
            return Caller(CallerKind.EXTERNAL, principal, account, partition)
    else:
        kind, _, tail = rest.partition("/")
        if kind == "assumed-role":
            role, _, session = tail.partition("/")
            if role and session:
                role_arn = f"arn:{partition}:iam::{account}:role/{role}"
                return Caller(CallerKind.ROLE_SESSION, role_arn, account, partition, role, role_arn=role_arn,
                              session_arn=principal, service_linked=role.startswith("AWSServiceRoleFor"))
        if kind == "federated-user" and tail:
            return Caller(CallerKind.FEDERATED_SESSION, principal, account, partition, tail)
    raise ScenarioError(field, f"{quote(principal)} names no IAM user, role, session or root")
