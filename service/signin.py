"""Console sign-in: ``POST /signin`` and the small page ``GET /signin`` that posts to it.

The form (application/x-www-form-urlencoded, or a JSON object) names:

* ``account`` — the 12-digit account ID or the account alias (an IAM user's
  sign-in); left out when ``username`` is the root user's email;
* ``username`` — the IAM user name, or the root user's email;
* ``password``;
* ``mfa_code`` — the current code of the user's virtual MFA device, needed
  when the user has one (then a sign-in without it answers 401 with
  ``"MFARequired"``).

A correct sign-in answers 200 with JSON: ``AccountId``, ``Arn``, ``UserId``
and ``Credentials`` (AccessKeyId, SecretAccessKey, SessionToken, Expiration)
— temporary credentials of the user's console session (12 hours for an IAM
user, 1 hour for the root user), whose calls the
kernel authorizes with the user's policies; signed in with MFA, they carry
aws:MultiFactorAuthPresent. Anything wrong — unknown account, unknown user,
no login profile, wrong password, wrong MFA code — is one answer, 401
``"Your authentication information is incorrect. Please try again."`` (the
console's words), so that a sign-in does not tell which part was wrong; an
unknown user costs the same scrypt work as a known one.

The password is compared with its scrypt hash (passwords.py) and never
logged or echoed.
"""

from __future__ import annotations

import html
import json
import re
import sys
import time
from dataclasses import replace
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from . import credentials, passwords, sessions
from .identity import Caller
from .store import Store

USER_SESSION_SECONDS = 12 * 3600
ROOT_SESSION_SECONDS = 3600
MAX_FORM = 16 * 1024
MSG_INCORRECT = "Your authentication information is incorrect. Please try again."
MSG_MFA = "Enter the MFA code from the device registered for this user."
# Verified against when the user does not exist, so that the answer takes as long (computed once).
_DUMMY: list[str] = []


class SignInFailed(Exception):
    def __init__(self, code: str, message: str, status: int = 401):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _dummy_hash() -> str:
    if not _DUMMY:
        _DUMMY.append(passwords.hash_password("not a password"))
    return _DUMMY[0]


def _account_of(db, account: str | None) -> str | None:
    if not account:
        return None
    if re.fullmatch(r"\d{12}", account):
        row = db.execute("SELECT id FROM accounts WHERE id = ?", (account,)).fetchone()
    else:
        row = db.execute("SELECT id FROM accounts WHERE alias = ?", (account.lower(),)).fetchone()
    return row[0] if row else None


def login_password_hash(user_row: dict) -> str | None:
    """The scrypt hash of a user's login profile (CreateLoginProfile keeps it in the user's data)."""
    profile = (user_row.get("data") or {}).get("LoginProfile") or {}
    return profile.get("PasswordHash")


def _check_mfa(db, account: str, user_name: str | None, code: str | None) -> float | None:
    """None when the user has no device; the MFA time when ``code`` is good; SignInFailed otherwise."""
    sql = ("SELECT * FROM mfa_devices WHERE account = ? AND enabled IS NOT NULL AND "
           + ("user_name = ?" if user_name else "user_name IS NULL"))
    devices = db.execute(sql, (account, user_name) if user_name else (account,)).fetchall()
    if not devices:
        return None
    if not code:
        raise SignInFailed("MFARequired", MSG_MFA)
    for row in devices:
        if sessions.accept_code(db, row, code):
            return time.time()
    raise SignInFailed("SignInFailed", MSG_INCORRECT)


def _password_holder(db, store: Store, account: str | None, username: str, password: str) -> tuple[Caller, int, bool]:
    """Who the name and password are (the caller, its session length, whether a reset is due), or SignInFailed."""
    if "@" in username and not account:
        row = db.execute("SELECT * FROM accounts WHERE email = ? COLLATE NOCASE", (username,)).fetchone()
        ok = passwords.verify_password(password, (row["password_hash"] if row else None) or _dummy_hash())
        if row is None or not row["password_hash"] or not ok:
            raise SignInFailed("SignInFailed", MSG_INCORRECT)
        acct = row["id"]
        return Caller(acct, f"arn:aws:iam::{acct}:root", "root", "", acct), ROOT_SESSION_SECONDS, False
    acct = _account_of(db, account)
    user = store.entity(acct, "user", username, db) if acct else None
    stored = login_password_hash(user) if user else None
    ok = passwords.verify_password(password, stored or _dummy_hash())
    if user is None or stored is None or not ok:
        raise SignInFailed("SignInFailed", MSG_INCORRECT)
    reset = bool(((user.get("data") or {}).get("LoginProfile") or {}).get("PasswordResetRequired"))
    return Caller(acct, user["arn"], "user", user["name"], user["id"]), USER_SESSION_SECONDS, reset


def sign_in(store: Store, account: str | None, username: str, password: str, mfa_code: str | None = None) -> dict:
    """The console sign-in itself: the response document, or SignInFailed."""
    sessions.ensure(store)
    # The scrypt check runs outside the write transaction, so a sign-in never holds the file's write lock
    # for its ~0.1 s; the MFA code is checked (and its step recorded) inside it, against replays.
    caller, duration, reset = _password_holder(store.connection(), store, account, username, password)
    with store.transaction() as db:
        mfa_at = _check_mfa(db, caller.account, caller.name or None, mfa_code)
        creds = credentials.issue(duration)
        session = replace(caller, access_key_id=creds.access_key_id, temporary=True, mfa_authenticated_at=mfa_at,
                          extra={"issued_by": "ConsoleSignIn"})
        sessions.save(db, creds, session)
    shape = creds.as_shape()
    shape["Expiration"] = shape["Expiration"].strftime("%Y-%m-%dT%H:%M:%SZ")
    out = {"AccountId": caller.account, "Arn": caller.arn, "UserId": caller.user_id,
           "MFAAuthenticated": mfa_at is not None, "Credentials": shape}
    if reset:
        out["PasswordResetRequired"] = True
    return out


async def _form(request: Request) -> dict:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM:
            raise SignInFailed("RequestEntityTooLarge", "Request entity too large", 413)
    text = body.decode("utf-8", errors="replace")
    if "json" in request.headers.get("content-type", ""):
        try:
            data = json.loads(text or "{}")
        except ValueError:
            raise SignInFailed("MalformedRequest", "The sign-in request is not a JSON object.", 400) from None
        if not isinstance(data, dict):
            raise SignInFailed("MalformedRequest", "The sign-in request is not a JSON object.", 400)
        return {k: str(v) for k, v in data.items() if v is not None}
    return dict(parse_qsl(text, keep_blank_values=True))


async def signin_post(request: Request) -> JSONResponse:
    try:
        form = await _form(request)
        username, password = form.get("username", "").strip(), form.get("password", "")
        if not username or not password:
            raise SignInFailed("MissingParameter", "The sign-in needs a user name (or root email) and a password.", 400)
        result = sign_in(request.app.state.store, form.get("account", "").strip() or None, username, password,
                         form.get("mfa_code", "").strip() or None)
    except SignInFailed as e:
        return JSONResponse({"Error": {"Code": e.code, "Message": e.message}}, e.status)
    except Exception as e:  # noqa: BLE001 - never a traceback (its frames hold the password)
        print(f"iamlogic serve: internal error {type(e).__name__} in a sign-in", file=sys.stderr)
        return JSONResponse({"Error": {"Code": "InternalFailure",
                                       "Message": "We encountered an internal error. Please try again."}}, 500)
    return JSONResponse(result, headers={"Cache-Control": "no-store"})


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in — iamlogic</title>
<style>body{{font-family:sans-serif;max-width:26em;margin:3em auto}}label{{display:block;margin:.8em 0}}
input{{width:100%;padding:.3em}}</style></head>
<body><h1>Sign in</h1>
<form method="post" action="/signin">
<label>Account ID or alias (not needed for the root user's email)<input name="account" autocomplete="organization"></label>
<label>IAM user name, or the root user's email<input name="username" required autocomplete="username"></label>
<label>Password<input name="password" type="password" required autocomplete="current-password"></label>
<label>MFA code (when the user has an MFA device)<input name="mfa_code" inputmode="numeric" autocomplete="one-time-code"></label>
<button type="submit">Sign in</button>
</form>
<p>{note}</p></body></html>
"""


async def signin_page(request: Request) -> HTMLResponse:
    note = "A correct sign-in answers with temporary credentials for your session (JSON)."
    return HTMLResponse(_PAGE.format(note=html.escape(note)))


def routes() -> list[Route]:
    return [Route("/signin", signin_page, methods=["GET"]), Route("/signin", signin_post, methods=["POST"])]
