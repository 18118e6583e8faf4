"""The operation registry: every IAM and STS operation the server answers.

An operation is a plain function registered under its service and its
botocore operation name::

    from iamlogic.service.registry import operation, Call, NoSuchEntity

    def user_arn(call: Call) -> str:                 # the resource the call is authorized on
        return f"arn:aws:iam::{call.account}:user/{call.params['UserName']}"

    @operation("iam", "GetUser", resource=user_arn)
    def get_user(call: Call) -> dict:
        row = call.store.entity(call.account, "user", call.params["UserName"], call.db)
        if row is None:
            raise NoSuchEntity(f"The user with name {call.params['UserName']} cannot be found.")
        return {"User": {"UserName": row["name"], "Arn": row["arn"], ...}}   # the output shape's members

The contract, which both the IAM and the STS modules follow:

* ``call.params`` is the request parsed into the operation's input shape
  (botocore's model: strings, ints, bools, datetimes, lists and maps already
  typed; protocol.py). The handler returns a dict of the output shape's
  members (or None for an operation with no output); protocol.py serializes
  it into ``<XResponse><XResult>…`` — no handler writes XML.
* Errors are ``ServiceError`` (or a subclass below): code, message, HTTP
  status, and Sender/Receiver. Anything else raised becomes InternalFailure
  (500) with a generic message — never a traceback, never a secret.
* Authorization. ``authorize="before"`` (the default): before the handler
  runs, the app asks the kernel whether ``call.caller`` may perform
  ``action`` (default ``service:Name``) on the ARN ``resource(call)`` returns
  (default ``"*"``) with the request context plus ``context(call)``;
  a denial is AccessDenied in AWS's message form. ``authorize="self"``: the
  handler calls ``call.authorize(action, resource, context=…, extra_layers=…)``
  itself (AssumeRole does, with the role's trust policy as the resource policy).
  ``authorize="none"``: no policy controls the operation (GetCallerIdentity).
* ``authenticated=False`` lets a request without credentials reach the
  handler (``call.caller`` is then None): the console sign-in's helpers.
* ``mutating=True``: the handler runs inside one SQLite transaction
  (``call.db``, BEGIN IMMEDIATE … COMMIT) and the store's generation is bumped
  so every process's engine cache sees the change. Read-only operations read
  through the same connection without a write lock.

Authentication is one function, ``authenticate(request, store) -> Caller``
(service/app.py takes it as a parameter; service/sigv4.py provides the real
one). It raises ServiceError with AWS's authentication codes.

``Caller`` (service/identity.py) is who made the call: the account, the
principal's ARN, its kind, and for temporary credentials the session's
policies, tags, MFA state and source identity.

Other modules add their own tables with ``store.register_schema`` (store.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .identity import Caller
    from .store import Store


class ServiceError(Exception):
    """An AWS error response: ``<ErrorResponse><Error><Type><Code><Message>``."""

    code = "InternalFailure"
    status = 500
    sender = False

    def __init__(self, message: str, code: str | None = None, status: int | None = None,
                 sender: bool | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        if sender is not None:
            self.sender = sender

    @property
    def type(self) -> str:
        return "Sender" if self.sender else "Receiver"


def _error(code: str, status: int, sender: bool = True) -> type[ServiceError]:
    return type(code, (ServiceError,), {"code": code, "status": status, "sender": sender})


NoSuchEntity = _error("NoSuchEntity", 404)
EntityAlreadyExists = _error("EntityAlreadyExists", 409)
DeleteConflict = _error("DeleteConflict", 409)
LimitExceeded = _error("LimitExceeded", 409)
MalformedPolicyDocument = _error("MalformedPolicyDocument", 400)
InvalidInput = _error("InvalidInput", 400)
# IAM's answer to a tag key given twice (in any case: its keys are case-insensitive).
DUPLICATE_TAG_KEYS = "Duplicate tag keys found. Please note that Tag keys are case insensitive."
ValidationError = _error("ValidationError", 400)
AccessDenied = _error("AccessDenied", 403)
InvalidAction = _error("InvalidAction", 400)
MissingParameter = _error("MissingParameter", 400)
InvalidParameterValue = _error("InvalidParameterValue", 400)
MissingAction = _error("MissingAction", 400)
# AWS's own 'The request was rejected because it is too large' answer for a body past the limit.
RequestEntityTooLarge = _error("RequestEntityTooLarge", 413)


@dataclass
class Operation:
    service: str                 # "iam" or "sts"
    name: str                    # botocore's operation name, e.g. "CreateUser"
    handler: Callable[["Call"], dict | None]
    action: str                  # the IAM action authorized, e.g. "iam:CreateUser"
    resource: Callable[["Call"], str] | None = None
    context: Callable[["Call"], dict] | None = None
    authorize: str = "before"    # "before" | "self" | "none"
    mutating: bool = False
    authenticated: bool = True


OPERATIONS: dict[tuple[str, str], Operation] = {}


def operation(service: str, name: str, *, action: str | None = None,
              resource: Callable[["Call"], str] | None = None, context: Callable[["Call"], dict] | None = None,
              authorize: str = "before", mutating: bool = False, authenticated: bool = True):
    """Register the decorated function as ``service``'s operation ``name``."""
    if authorize not in ("before", "self", "none"):
        raise ValueError(f"authorize must be before, self or none, not {authorize!r}")

    def register(fn: Callable[["Call"], dict | None]):
        key = (service, name)
        if key in OPERATIONS:
            raise ValueError(f"{service}:{name} is registered twice")
        OPERATIONS[key] = Operation(service, name, fn, action or f"{service}:{name}", resource, context,
                                    authorize, mutating, authenticated)
        return fn

    return register


def find(service: str, name: str) -> Operation | None:
    return OPERATIONS.get((service, name))


@dataclass
class Call:
    """One request in flight, as handlers see it."""

    operation: Operation
    params: dict[str, Any]
    caller: "Caller | None"
    store: "Store"
    db: Any                       # the sqlite3 connection of this call (in its transaction if mutating)
    request_id: str
    source_ip: str | None = None
    secure: bool = False
    # Set by the app: call.authorize(action, resource, context=None, extra_layers=None) -> Decision
    authorizer: Callable[..., Any] | None = None
    # memo(key, compute): compute() remembered until the next commit, in read-only calls (store.memo);
    # in a mutating call it computes every time.
    memo: Callable[[tuple, Callable[[], Any]], Any] = field(default=lambda key, compute: compute())
    extra: dict = field(default_factory=dict)

    @property
    def account(self) -> str:
        """The account the call acts in: the caller's."""
        return self.caller.account if self.caller else ""

    def arn(self, kind: str, name: str, path: str = "/") -> str:
        """arn:aws:iam::ACCOUNT:kind/path/name for this call's account."""
        return f"arn:aws:iam::{self.account}:{kind}{path}{name}"

    def authorize(self, action: str, resource: str = "*", context: dict | None = None,
                  extra_layers: dict | None = None):
        """Ask the kernel; raises AccessDenied when denied, returns the Decision."""
        if self.authorizer is None:  # pragma: no cover - the app always sets it
            raise ServiceError("no authorizer")
        return self.authorizer(self, action, resource, context or {}, extra_layers or {})
