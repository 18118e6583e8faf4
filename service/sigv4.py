"""AWS Signature Version 4, verified: the Authorization header and presigned query strings.

``verify(method, raw_path, raw_query, headers, body, lookup, service=…)``
recomputes the signature of a request exactly as a client signs it (the
SigV4 steps of the IAM User Guide, "Create a signed AWS API request") and
returns who signed it, or raises ``SigV4Error`` with AWS's code, message and
HTTP status.  Nothing here reads the store: ``lookup(access_key_id)`` returns
a ``SigningKey`` (the secret, its status, for temporary credentials the
session token and expiry, and an opaque ``owner``) or None.

The canonical request is built from exactly the headers the request names in
SignedHeaders — never from the headers it happens to carry.  That matters
because clients leave some headers out on purpose: botocore will not sign
``user-agent``, ``expect``, ``transfer-encoding``, ``x-amzn-trace-id`` and the
other names of ``botocore.auth.SIGNED_HEADERS_BLACKLIST`` (proxies rewrite
them), so a verifier that canonicalized every received header would reject
every SDK request.  ``host`` must be among the signed headers, as AWS requires.

The checks run in the order AWS runs them (observed against AWS and written
down in mhart/dynalite's index.js; dacut/scratchstack-aws-signature follows
it too): no credentials at all → missing components → date format → the
skew window → host signed → algorithm → the credential's five parts → its
scope → the access key → the signature → the security token.  So only a
caller who can sign with the key learns that its session token has expired.

AWS's words, with their sources (tests pin each one):

* MissingAuthenticationToken, 403, "Request is missing Authentication Token"
  (IAM API Reference, Common Errors, gives the code and status;
  scratchstack-aws-signature src/constants.rs MSG_REQUEST_MISSING_AUTH_TOKEN).
* IncompleteSignature, 400, "Authorization header requires 'Credential'
  parameter. … Authorization=<header>" and "AWS query-string parameters must
  include 'X-Amz-Signature'. … Re-examine the query-string parameters."
  (Common Errors: 400; the messages as AWS returns them, quoted in
  aws/aws-sdk-ruby#317, brendanhay/amazonka#316 and scratchstack's constants).
* InvalidClientTokenId, 403, "The security token included in the request is
  invalid." from STS (Common Errors; the AWS CLI's message in
  GetCallerIdentity; aws/aws-sdk-php#1622), the same without the full stop
  from IAM (its raw answer in aws/aws-cli#8918, 99designs/aws-vault#1056).
* SignatureDoesNotMatch, 403, "The request signature we calculated does not
  match the signature you provided. Check your AWS Secret Access Key and
  signing method. Consult the service documentation for details."
  (aws/aws-cli#135; scratchstack MSG_REQUEST_SIGNATURE_MISMATCH).
* Skew: SignatureDoesNotMatch "Signature expired: 20130301T000000Z is now
  earlier than 20130609T094515Z (20130609T100015Z - 15 min.)" and "Signature
  not yet current: 20210502T183640Z is still later than 20210502T175140Z
  (20210502T173640Z + 15 min.)" (dynalite; scratchstack src/error.rs).
* ExpiredToken, 403, "The security token included in the request is expired"
  (aws/aws-sdk-java-v2#1649, pulumi/pulumi-aws#2560: STS's own answer).

A presigned request (``X-Amz-Signature`` in the query) is valid within the
same 15-minute window of its X-Amz-Date: STS does not honour X-Amz-Expires
(aws/aws-sdk-go#2167, kubernetes-sigs/aws-iam-authenticator#160), and
neither do we for STS; a presigned IAM request also ends X-Amz-Expires
seconds after its date (readings S12).

No secret reaches a message: errors name the access key id, dates, the
scope and (as AWS does for IncompleteSignature) the Authorization header,
which holds no secret; never the secret key, never the session token.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any
from urllib.parse import quote, unquote

from botocore.utils import normalize_url_path

from .registry import ServiceError

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"
# AWS's window for X-Amz-Date, both ways (the "- 15 min." of its message).
SKEW_SECONDS = 15 * 60
_BASIC = "%Y%m%dT%H%M%SZ"
_BASIC_RE = re.compile(r"^\d{8}T\d{6}Z$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
# AWS quotes the Authorization header back in IncompleteSignature; a huge
# header is cut so that no error message grows without bound.
_ECHO_LIMIT = 512

MSG_MISSING = "Request is missing Authentication Token"
MSG_INVALID_KEY = "The security token included in the request is invalid."
# IAM words it without the full stop (its raw answer in aws/aws-cli#8918 and 99designs/aws-vault#1056);
# STS with it (aws/aws-sdk-php#1622, the AWS CLI's GetCallerIdentity).
MSG_INVALID_KEY_IAM = "The security token included in the request is invalid"
MSG_MISMATCH = ("The request signature we calculated does not match the signature you provided. "
                "Check your AWS Secret Access Key and signing method. "
                "Consult the service documentation for details.")
MSG_EXPIRED_TOKEN = "The security token included in the request is expired"
MSG_HOST = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."


class SigV4Error(ServiceError):
    """An authentication failure: ``code``, ``message``, ``status`` as AWS answers."""

    sender = True

    def __init__(self, code: str, message: str, status: int):
        super().__init__(message, code=code, status=status, sender=True)


def missing() -> SigV4Error:
    return SigV4Error("MissingAuthenticationToken", MSG_MISSING, 403)


def incomplete(message: str) -> SigV4Error:
    return SigV4Error("IncompleteSignature", message, 400)


def invalid_key(service: str | None = None) -> SigV4Error:
    return SigV4Error("InvalidClientTokenId", MSG_INVALID_KEY_IAM if service == "iam" else MSG_INVALID_KEY, 403)


def mismatch(message: str = MSG_MISMATCH) -> SigV4Error:
    return SigV4Error("SignatureDoesNotMatch", message, 403)


def expired_token() -> SigV4Error:
    return SigV4Error("ExpiredToken", MSG_EXPIRED_TOKEN, 403)


@dataclass(frozen=True)
class SigningKey:
    """What ``lookup`` knows of an access key id."""

    secret: str = field(repr=False)
    status: str = "Active"                 # "Active" | "Inactive"
    # Temporary credentials: the request must carry this X-Amz-Security-Token.
    # A lookup that keeps only a digest of the token passes ``token_digest``
    # (sha256 hex) instead; one of the two is enough.
    session_token: str | None = field(default=None, repr=False)
    token_digest: str | None = field(default=None, repr=False)
    expiration: float | None = None        # epoch seconds; past it → ExpiredToken
    owner: Any = None                      # whatever the lookup attaches (a Caller, a row …)
    # The services the key may sign for (None: every one). GetSessionToken's credentials without MFA
    # are not good for IAM: AWS answers InvalidClientTokenId (STS API Reference, GetSessionToken: "You
    # cannot call any IAM API operations unless MFA authentication information is included").
    services: frozenset[str] | None = None

    @property
    def temporary(self) -> bool:
        return self.session_token is not None or self.token_digest is not None


@dataclass(frozen=True)
class Verified:
    """A request whose signature holds."""

    access_key_id: str
    region: str
    service: str
    signed_at: datetime
    presigned: bool
    key: SigningKey
    session_token_present: bool

    @property
    def owner(self) -> Any:
        return self.key.owner


Lookup = Callable[[str], "SigningKey | None"]


def token_digest(token: str) -> str:
    """The digest under which a session token may be kept (sha256 hex)."""
    return hashlib.sha256(token.encode()).hexdigest()


def verify(method: str, raw_path: str, raw_query: str, headers: Any, body: bytes, lookup: Lookup, *,
           service: str | Iterable[str] | None = None, now: float | None = None) -> Verified:
    """Verify the request's SigV4 signature; raise ``SigV4Error`` as AWS would.

    ``raw_path`` is the path as sent (still percent-encoded; ASGI's
    ``raw_path``), ``raw_query`` the query string as sent (no ``?``).
    ``headers`` is a mapping or a sequence of (name, value) pairs, str or
    bytes (ASGI's ``scope["headers"]``); repeated names are kept.
    ``service`` is the signing name the route expects ("iam", "sts", or
    several); None accepts any.  Any region is accepted.  ``now`` is epoch
    seconds (tests).
    """
    hdrs = _header_lists(headers)
    query = _query_pairs(raw_query)
    query_names = {k for k, _ in query}
    auth_header = _one(hdrs, "authorization")
    presigned = "X-Amz-Algorithm" in query_names or "X-Amz-Signature" in query_names
    if auth_header is not None and presigned:
        raise mismatch("Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.")
    if (auth_header is None or not auth_header.strip().startswith("AWS4-")) and not presigned:
        raise missing()

    if presigned:
        params = _query_auth(query)
        date_text = params["X-Amz-Date"]
        algorithm, credential = params["X-Amz-Algorithm"], params["X-Amz-Credential"]
        signed_names, signature = params["X-Amz-SignedHeaders"], params["X-Amz-Signature"]
    else:
        algorithm, credential, signed_names, signature = _header_auth(auth_header, hdrs)
        date_text = _one(hdrs, "x-amz-date") or _one(hdrs, "date")

    signed_at = _parse_date(date_text)
    _check_skew(signed_at, time.time() if now is None else now)

    names = [n.strip().lower() for n in signed_names.split(";") if n.strip()]
    if "host" not in names and ":authority" not in names:
        raise mismatch(MSG_HOST)
    if algorithm != ALGORITHM:
        raise incomplete(f"Unsupported AWS 'algorithm': '{algorithm}' (only AWS4-HMAC-SHA256 for now). ")

    access_key_id, scope_date, region, scope_service, terminator = _credential(credential)
    _check_scope(scope_date, region, scope_service, terminator, signed_at, service)

    route = service if isinstance(service, str) else None
    key = lookup(access_key_id)
    if key is None or key.status != "Active":
        raise invalid_key(route)

    canonical = _canonical_request(method, raw_path, query, hdrs, sorted(set(names)), body, presigned)
    scope = f"{scope_date}/{region}/{scope_service}/{TERMINATOR}"
    string_to_sign = "\n".join([ALGORITHM, signed_at.strftime(_BASIC), scope,
                                hashlib.sha256(canonical.encode()).hexdigest()])
    expected = _signature(key.secret, scope_date, region, scope_service, string_to_sign)
    if not hmac.compare_digest(expected.encode(), signature.strip().lower().encode()):
        raise mismatch()

    if presigned and scope_service == "iam":
        _check_expires(_query_value(query, "X-Amz-Expires"), signed_at, time.time() if now is None else now)
    token = _query_value(query, "X-Amz-Security-Token") if presigned else _one(hdrs, "x-amz-security-token")
    _check_token(key, token, time.time() if now is None else now, route)
    if key.services is not None and scope_service not in key.services:
        raise invalid_key(route)
    return Verified(access_key_id, region, scope_service, signed_at, presigned, key, token is not None)


# ---------------------------------------------------------------- parsing

def _text(v: Any) -> str:
    return v.decode("latin-1") if isinstance(v, (bytes, bytearray)) else str(v)


def _header_lists(headers: Any) -> dict[str, list[str]]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    out: dict[str, list[str]] = {}
    for name, value in items:
        out.setdefault(_text(name).lower(), []).append(_text(value))
    return out


def _one(hdrs: dict[str, list[str]], name: str) -> str | None:
    values = hdrs.get(name)
    return ",".join(values) if values else None


def _query_pairs(raw_query: str | bytes) -> list[tuple[str, str]]:
    text = _text(raw_query or "")
    pairs = []
    for part in text.split("&"):
        if not part:
            continue
        k, _, v = part.partition("=")
        pairs.append((unquote(k), unquote(v)))
    return pairs


def _query_value(query: list[tuple[str, str]], name: str) -> str | None:
    for k, v in query:
        if k == name:
            return v
    return None


def _query_auth(query: list[tuple[str, str]]) -> dict[str, str]:
    wanted = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Date")
    params = {name: _query_value(query, name) or "" for name in wanted}
    msg = "".join(f"AWS query-string parameters must include '{name}'. " for name in wanted if not params[name])
    if msg:
        raise incomplete(msg + "Re-examine the query-string parameters.")
    return params


def _header_auth(header: str, hdrs: dict[str, list[str]]) -> tuple[str, str, str, str]:
    algorithm, _, rest = header.strip().partition(" ")
    fields: dict[str, str] = {}
    for part in re.split(r"[,\s]+", rest):
        if not part:
            continue
        k, eq, v = part.partition("=")
        if not eq:
            raise incomplete(f"'{_cut(part)}' not a valid key=value pair (missing equal-sign) in "
                             f"Authorization header: '{_cut(header)}'.")
        fields[k] = v
    msg = "".join(f"Authorization header requires '{name}' parameter. "
                  for name in ("Credential", "Signature", "SignedHeaders") if not fields.get(name))
    if _one(hdrs, "x-amz-date") is None and _one(hdrs, "date") is None:
        msg += "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
    if msg:
        raise incomplete(msg + "Authorization=" + _cut(header))
    return algorithm, fields["Credential"], fields["SignedHeaders"], fields["Signature"]


def _cut(text: str) -> str:
    return text if len(text) <= _ECHO_LIMIT else text[:_ECHO_LIMIT] + "…"


def _parse_date(text: str | None) -> datetime:
    text = (text or "").strip()
    if _BASIC_RE.match(text):
        try:
            return datetime(int(text[0:4]), int(text[4:6]), int(text[6:8]), int(text[9:11]), int(text[11:13]),
                            int(text[13:15]), tzinfo=timezone.utc)
        except ValueError:
            pass
    else:
        # The Date header (RFC 7231) is AWS's fallback when X-Amz-Date is absent.
        try:
            parsed = parsedate_to_datetime(text)
            if parsed is not None and parsed.tzinfo is not None:
                return parsed.astimezone(timezone.utc)
        except (TypeError, ValueError, IndexError):
            pass
    raise incomplete(f"Date must be in ISO-8601 'basic format'. Got '{_cut(text)}'. "
                     "See http://en.wikipedia.org/wiki/ISO_8601")


def _check_expires(expires: str | None, signed_at: datetime, now: float) -> None:
    """A presigned IAM request lives X-Amz-Expires seconds from its X-Amz-Date
    (SigV4, "Authenticating Requests: Using Query Parameters"; readings S12):
    STS ignores it (see above), IAM is not STS — a leaked URL asked to live a
    second is not good for the whole skew window."""
    if expires is None:
        return
    try:
        seconds = int(expires)
    except ValueError:
        raise incomplete(f"X-Amz-Expires must be a number of seconds, not '{expires[:20]}'. ") from None
    if not 1 <= seconds <= 604800:
        raise incomplete("X-Amz-Expires must be between 1 and 604800 seconds. ")
    if now > signed_at.timestamp() + seconds:
        ended = datetime.fromtimestamp(int(signed_at.timestamp()) + seconds, timezone.utc)
        raise mismatch(f"Signature expired: {ended.strftime(_BASIC)} is now earlier than "
                       f"{datetime.fromtimestamp(int(now), timezone.utc).strftime(_BASIC)} "
                       f"({signed_at.strftime(_BASIC)} + {seconds} sec.)")


def _check_skew(signed_at: datetime, now: float) -> None:
    server = datetime.fromtimestamp(int(now), timezone.utc)
    at = signed_at.timestamp()
    if at < now - SKEW_SECONDS:
        earliest = datetime.fromtimestamp(int(now) - SKEW_SECONDS, timezone.utc)
        raise mismatch(f"Signature expired: {signed_at.strftime(_BASIC)} is now earlier than "
                       f"{earliest.strftime(_BASIC)} ({server.strftime(_BASIC)} - 15 min.)")
    if at > now + SKEW_SECONDS:
        latest = datetime.fromtimestamp(int(now) + SKEW_SECONDS, timezone.utc)
        raise mismatch(f"Signature not yet current: {signed_at.strftime(_BASIC)} is still later than "
                       f"{latest.strftime(_BASIC)} ({server.strftime(_BASIC)} + 15 min.)")


def _credential(credential: str) -> tuple[str, str, str, str, str]:
    parts = credential.rstrip("/").split("/")
    if len(parts) != 5:
        raise incomplete("Credential must have exactly 5 slash-delimited elements, "
                         f"e.g. keyid/date/region/service/term, got '{_cut(credential)}'")
    return parts[0], parts[1], parts[2], parts[3], parts[4]


def _check_scope(scope_date: str, region: str, scope_service: str, terminator: str,
                 signed_at: datetime, service: str | Iterable[str] | None) -> None:
    problems = []
    if not region:
        problems.append(f"Credential should be scoped to a valid region, not '{region}'. ")
    allowed = None if service is None else ({service} if isinstance(service, str) else set(service))
    if allowed is not None and scope_service not in allowed:
        problems.append(f"Credential should be scoped to correct service: '{sorted(allowed)[0]}'. ")
    if terminator != TERMINATOR:
        problems.append(f"Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'. ")
    day = signed_at.strftime("%Y%m%d")
    if scope_date != day:
        problems.append("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                        f"'{scope_date}' != '{day}', from '{signed_at.strftime(_BASIC)}'.")
    if problems:
        raise mismatch("".join(problems).strip())


def _check_token(key: SigningKey, token: str | None, now: float, route: str | None) -> None:
    if not key.temporary:
        # A permanent key with a session token is a request AWS cannot match to credentials.
        if token is not None:
            raise invalid_key(route)
        return
    if token is None:
        raise invalid_key(route)
    want = key.token_digest if key.session_token is None else token_digest(key.session_token)
    if not hmac.compare_digest(want.encode(), token_digest(token).encode()):
        raise invalid_key(route)
    if key.expiration is not None and now >= key.expiration:
        raise expired_token()


# ---------------------------------------------------------------- canonical request

def _uri_encode(text: str) -> str:
    # RFC 3986 unreserved characters stay; everything else is %XX, upper case.
    return quote(text, safe="-_.~")


def canonical_query(query: list[tuple[str, str]], presigned: bool) -> str:
    pairs = [(_uri_encode(k), _uri_encode(v)) for k, v in query if not (presigned and k == "X-Amz-Signature")]
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def canonical_uri(raw_path: str) -> str:
    # Every service but S3 encodes the (already encoded) path once more, after
    # removing dot segments and empty segments — botocore's _normalize_url_path.
    return quote(normalize_url_path(_text(raw_path) or "/"), safe="/~")


def _canonical_request(method: str, raw_path: str, query: list[tuple[str, str]], hdrs: dict[str, list[str]],
                       names: list[str], body: bytes, presigned: bool) -> str:
    lines = []
    for name in names:
        values = hdrs.get(name, [])
        lines.append(f"{name}:{','.join(' '.join(v.split()) for v in values)}")
    payload = hashlib.sha256(body or b"").hexdigest()
    declared = _one(hdrs, "x-amz-content-sha256")
    if declared is not None and declared.strip().lower() != payload:
        # A body that is not the one the client hashed (IAM and STS take no
        # UNSIGNED-PAYLOAD): the signature cannot hold for this request.
        raise mismatch()
    return "\n".join([method.upper(), canonical_uri(raw_path), canonical_query(query, presigned),
                      "\n".join(lines) + "\n", ";".join(names), declared.strip() if declared else payload])


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.digest(key, msg.encode(), "sha256")


@lru_cache(maxsize=4096)
def _signing_key(secret: str, day: str, region: str, service: str) -> bytes:
    # The derived key depends on the day and scope only, so it is kept (as AWS's SDKs keep it): four
    # HMACs saved on every request after a key's first of the day.
    return _hmac(_hmac(_hmac(_hmac(("AWS4" + secret).encode(), day), region), service), TERMINATOR)


def _signature(secret: str, day: str, region: str, service: str, string_to_sign: str) -> str:
    return hmac.digest(_signing_key(secret, day, region, service), string_to_sign.encode(), "sha256").hex()

