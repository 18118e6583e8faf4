"""The ASGI application: one ``POST /`` endpoint for IAM and STS, routed by
``Version``, every call authenticated, authorized by the kernel and answered
in AWS's XML.

    from iamlogic.service import Store, create_app
    app = create_app(Store("iam.db"), decision_log="decisions.jsonl")

The request path: read the form (body limit, then the query string of a
presigned request) → route by Version and Action to the registry's operation
→ ``authenticate(request, store) -> Caller`` → parse the input shape →
authorize (kernel) → run the handler (one transaction if it mutates) →
paginate → serialize. Every failure is an AWS error document; an unexpected
exception is InternalFailure with a generic message (its type goes to the
server's stderr, never its arguments, which could hold a secret).
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import authz, protocol
from .identity import Caller
from .registry import (DUPLICATE_TAG_KEYS, AccessDenied, Call, InvalidAction, InvalidInput, MissingAction, RequestEntityTooLarge, ServiceError, find)
from .store import Store

# IAM's and STS's documents fit well within this (a policy is at most 131,072 characters,
# form-encoded up to three times that); past it the answer is 413, as AWS's front end gives.
MAX_BODY = 1024 * 1024
VERSIONS = protocol.SERVICES


def create_app(store: Store, decision_log: str | None = None,
               authenticate: Callable[[Request, dict, Store], Caller] | None = None) -> Starlette:
    """The ASGI app over ``store``. ``authenticate(request, form, store)``
    returns the Caller or raises ServiceError (default: service/auth.py,
    SigV4 verified)."""
    from .auth import authenticate as verified  # noqa: PLC0415
    log = authz.DecisionLog(decision_log)
    auth = authenticate or verified
    # Importing the operation modules registers them.
    from . import operations  # noqa: F401,PLC0415
    store.ensure_schema()

    async def endpoint(request: Request) -> Response:
        request_id = str(uuid.uuid4())
        service = "iam"
        try:
            body = b""
            if request.method == "POST":
                length = request.headers.get("content-length")
                if length is not None and length.isdigit() and int(length) > MAX_BODY:
                    raise RequestEntityTooLarge("Request entity too large")
                chunks = []
                size = 0
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > MAX_BODY:
                        raise RequestEntityTooLarge("Request entity too large")
                    chunks.append(chunk)
                body = b"".join(chunks)
            try:
                form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
            except UnicodeDecodeError:
                raise ServiceError("The request body is not UTF-8 form data.", "MalformedQueryString", 400,
                                   True) from None
            for k, v in request.query_params.items():
                form.setdefault(k, v)
            request.state.body = body
            version = form.get("Version", "2010-05-08")
            service = VERSIONS.get(version, "iam")
            action = form.get("Action")
            if not action:
                raise MissingAction("Missing Action")
            model = protocol.operation_model(service, action) if version in VERSIONS else None
            op = find(service, action) if model is not None else None
            if op is None:
                raise InvalidAction(f"Could not find operation {action} for version {version}")
            store.fresh()  # the memo holds what the file held at the start of this request
            caller = auth(request, form, store) if op.authenticated else None
            params = protocol.parse(model, form)
            result = run(store, op, params, caller, request_id, request, log)
            result = protocol.paginate(service, model, params, result)
            return Response(protocol.response(service, model, result, request_id), 200,
                            media_type="text/xml", headers={"x-amzn-RequestId": request_id})
        except ServiceError as e:
            return Response(protocol.error(service, e, request_id), e.status, media_type="text/xml",
                            headers={"x-amzn-RequestId": request_id})
        except Exception as e:  # noqa: BLE001 - the client gets AWS's shape, never a traceback
            print(f"iamlogic serve: internal error {type(e).__name__} in request {request_id}", file=sys.stderr)
            err = ServiceError("We encountered an internal error. Please try again.", "InternalFailure", 500, False)
            return Response(protocol.error(service, err, request_id), 500, media_type="text/xml")

    from .signin import routes as signin_routes  # noqa: PLC0415 - console sign-in (service/signin.py)
    app = Starlette(routes=[Route("/", endpoint, methods=["GET", "POST"]), *signin_routes()])
    app.state.store = store
    app.state.log = log
    return app


def run(store: Store, op, params: dict, caller: Caller | None, request_id: str, request: Request,
        log: authz.DecisionLog) -> dict | None:
    source_ip = request.client.host if request.client else None
    # The scheme from the ASGI scope: building request.url for it cost a sixteenth of a GetUser.
    secure = request.scope.get("scheme") == "https"

    def authorizer(call: Call, action: str, resource: str, context: dict, extra_layers: dict):
        return authz.authorize(call.db, call.caller, action, resource, context, extra_layers,
                               source_ip, secure, log, request_id, call.memo)

    if op.service == "sts":
        from .sessions import refused_sts_call  # noqa: PLC0415 - imported with the operations
        refused = refused_sts_call(caller, op.name)
        if refused:
            raise AccessDenied(refused)

    def go(db):
        call = Call(op, params, caller, store, db, request_id, source_ip, secure, authorizer)
        if not op.mutating:
            call.memo = store.memo
        if op.authorize == "before" and caller is not None:
            resource = op.resource(call) if op.resource else "*"
            context = request_keys(call, resource)
            if op.context:
                context.update(op.context(call))
            call.authorize(op.action, resource, context)
        return op.handler(call)

    if op.mutating:
        with store.transaction() as db:
            return go(db)
    return go(store.connection())


# Service Authorization Reference, IAM: the actions whose requests carry iam:PolicyARN.
_POLICY_ARN_ACTIONS = {f"{verb}{kind}Policy" for verb in ("Attach", "Detach") for kind in ("User", "Group", "Role")}


def request_keys(call: Call, resource: str) -> dict:
    """The keys a request carries from its parameters and its resource:
    aws:RequestTag/* and aws:TagKeys (Tags, TagKeys), iam:PolicyARN,
    iam:PermissionsBoundary, aws:ResourceTag/* of the user or role acted on."""
    p = call.params
    out: dict = {}
    if p.get("Tags"):
        if len({t["Key"].lower() for t in p["Tags"]}) != len(p["Tags"]):
            # before the request's keys clash (aws:RequestTag/team and /Team are one key to the kernel)
            raise InvalidInput(DUPLICATE_TAG_KEYS)
        for t in p["Tags"]:
            out[f"aws:RequestTag/{t['Key']}"] = t.get("Value", "")
        out["aws:TagKeys"] = [t["Key"] for t in p["Tags"]]
    if p.get("TagKeys"):
        out["aws:TagKeys"] = list(p["TagKeys"])
    if call.operation.name in _POLICY_ARN_ACTIONS and p.get("PolicyArn"):
        out["iam:PolicyARN"] = p["PolicyArn"]
    if p.get("PermissionsBoundary"):
        out["iam:PermissionsBoundary"] = p["PermissionsBoundary"]
    if resource.startswith("arn:aws:iam::"):
        def resource_tags():
            row = call.store.entity_by_arn(resource, call.db)
            if row is None or row["kind"] not in ("user", "role"):
                return []
            return authz.tag_rows(call.db, row["account"], row["kind"], row["name"])

        for k, v in call.memo(("resource_tags", resource), resource_tags):
            out[f"aws:ResourceTag/{k}"] = v
            out[f"iam:ResourceTag/{k}"] = v
    return out
