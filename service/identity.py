"""Who made a call, as authentication found it (service/sigv4.py builds it;
the authorizer turns it into a policy set and a request context)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Caller:
    account: str
    arn: str                        # the principal's ARN (a session's: arn:aws:sts::A:assumed-role/R/S)
    kind: str                       # "root" | "user" | "role_session" | "federated_session"
    # The user's name; for a role session the ROLE's name (the authorizer reads the role's policies
    # by it; the session name is in ``arn``); the federated user's name; "" for root.
    name: str
    user_id: str                    # aws:userid (AIDA…, AROA…:session, account id for root)
    access_key_id: str | None = None
    # Temporary credentials (STS): the session's policies and state.
    session_policies: tuple[str, ...] = ()      # inline Policy and PolicyArns' documents, JSON text
    session_tags: tuple[tuple[str, str], ...] = ()
    mfa_authenticated_at: float | None = None   # epoch seconds of the MFA sign-in, if any
    source_identity: str | None = None
    role_arn: str | None = None                 # a role session's role
    temporary: bool = False
    # "federating_user": the IAM user who called GetFederationToken (its policies are the session's).
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def is_root(self) -> bool:
        return self.kind == "root"
