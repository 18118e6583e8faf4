"""SigV4 verification (service/sigv4.py) against requests signed by botocore's own signer.

Each error case pins AWS's code, status and words (sources in the module's docstring).
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import given, settings, strategies as st

from iamlogic.service import sigv4
from iamlogic.service.sigv4 import SigningKey, SigV4Error, verify

AKID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TMP_ID = "ASIAEXAMPLETEMPORARY"
TMP_SECRET = "tmpSecretExample0123456789abcdefghijKLMN"
TOKEN = "IQoJb3JpZ2luX2VjSESSIONTOKENexample+/=="
BODY = b"Action=GetUser&Version=2010-05-08&UserName=alice"
URL = "http://127.0.0.1:8080/"


def keys(now=None):
    now = time.time() if now is None else now
    table = {
        AKID: SigningKey(SECRET, owner="root"),
        "AKIAINACTIVEEXAMPLE0": SigningKey(SECRET, status="Inactive"),
        TMP_ID: SigningKey(TMP_SECRET, session_token=TOKEN, expiration=now + 3600, owner="session"),
        "ASIAEXPIREDEXAMPLE00": SigningKey(TMP_SECRET, token_digest=sigv4.token_digest(TOKEN), expiration=now - 1),
    }
    return table.get


def sign(*, key=AKID, secret=SECRET, token=None, service="iam", region="us-east-1", body=BODY, url=URL,
         method="POST", headers=None, presign=False, expires=900):
    req = AWSRequest(method=method, url=url, data=body,
                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", **(headers or {})})
    creds = Credentials(key, secret, token)
    signer = SigV4QueryAuth(creds, service, region, expires=expires) if presign else SigV4Auth(creds, service, region)
    signer.add_auth(req)
    parts = urlsplit(req.url)
    hdrs = [(k, v) for k, v in req.headers.items()] + [("Host", parts.netloc)]
    return dict(method=method, raw_path=parts.path or "/", raw_query=parts.query, headers=hdrs,
                body=req.body or b"" if not presign else b"")


def check(request, lookup=None, **kw):
    return verify(request["method"], request["raw_path"], request["raw_query"], request["headers"], request["body"],
                  lookup or keys(), **kw)


def error(request, lookup=None, **kw) -> SigV4Error:
    with pytest.raises(SigV4Error) as info:
        check(request, lookup, **kw)
    err = info.value
    for secret in (SECRET, TMP_SECRET, TOKEN):
        assert secret not in err.message and secret not in str(err)
    return err


def test_header_signature_verifies_in_any_region():
    for region in ("us-east-1", "eu-west-3", "ap-southeast-2"):
        got = check(sign(region=region), service="iam")
        assert (got.access_key_id, got.region, got.service, got.owner, got.presigned) == (AKID, region, "iam", "root", False)


def test_presigned_query_string_verifies():
    req = sign(service="sts", presign=True, method="GET", body=b"",
               url=URL + "?Action=GetCallerIdentity&Version=2011-06-15")
    assert "X-Amz-Signature=" in req["raw_query"]
    got = check(req, service="sts")
    assert got.presigned and got.service == "sts"


def test_presigned_with_session_token_verifies_and_a_changed_parameter_does_not():
    req = sign(key=TMP_ID, secret=TMP_SECRET, token=TOKEN, service="sts", presign=True, method="GET", body=b"",
               url=URL + "?Action=GetCallerIdentity&Version=2011-06-15")
    assert check(req, service="sts").owner == "session"
    req["raw_query"] = req["raw_query"].replace("GetCallerIdentity", "GetSessionToken")
    assert error(req, service="sts").code == "SignatureDoesNotMatch"


def test_unsigned_headers_may_change_signed_ones_may_not():
    # botocore never signs user-agent (SIGNED_HEADERS_BLACKLIST): a proxy may rewrite it.
    req = sign(headers={"User-Agent": "Boto3/1.44"})
    req["headers"] = [(k, "curl/8" if k.lower() == "user-agent" else v) for k, v in req["headers"]]
    check(req)
    req["headers"] = [(k, "text/plain" if k.lower() == "content-type" else v) for k, v in req["headers"]]
    err = error(req)
    assert (err.code, err.status, err.message) == ("SignatureDoesNotMatch", 403, sigv4.MSG_MISMATCH)


def test_a_changed_body_does_not_verify():
    req = sign()
    req["body"] = BODY.replace(b"alice", b"admin")
    assert error(req).code == "SignatureDoesNotMatch"


def test_wrong_secret_is_signature_does_not_match_with_aws_message():
    err = error(sign(secret="x" * 40))
    assert (err.code, err.status, err.type) == ("SignatureDoesNotMatch", 403, "Sender")
    assert err.message == ("The request signature we calculated does not match the signature you provided. "
                           "Check your AWS Secret Access Key and signing method. "
                           "Consult the service documentation for details.")


def test_the_signature_is_compared_in_constant_time(monkeypatch):
    seen = []
    real = sigv4.hmac.compare_digest

    def spy(a, b):
        seen.append(len(a))
        return real(a, b)

    monkeypatch.setattr(sigv4.hmac, "compare_digest", spy)
    check(sign())
    assert 64 in seen            # the hex signature went through compare_digest


def test_unknown_and_inactive_keys_are_invalid_client_token_id():
    for key in ("AKIAUNKNOWNEXAMPLE00", "AKIAINACTIVEEXAMPLE0"):
        err = error(sign(key=key, service="sts"), service="sts")
        assert (err.code, err.status, err.message) == (
            "InvalidClientTokenId", 403, "The security token included in the request is invalid.")
        # IAM says it without the full stop (its raw answer, aws/aws-cli#8918)
        err = error(sign(key=key), service="iam")
        assert err.message == "The security token included in the request is invalid"


def test_a_key_limited_to_sts_does_not_sign_for_iam():
    table = {TMP_ID: SigningKey(TMP_SECRET, session_token=TOKEN, services=frozenset({"sts"}))}
    assert check(sign(key=TMP_ID, secret=TMP_SECRET, token=TOKEN, service="sts"), table.get, service="sts")
    err = error(sign(key=TMP_ID, secret=TMP_SECRET, token=TOKEN, service="iam"), table.get, service="iam")
    assert (err.code, err.message) == ("InvalidClientTokenId", "The security token included in the request is invalid")


def test_no_credentials_is_missing_authentication_token():
    req = sign()
    req["headers"] = [(k, v) for k, v in req["headers"] if k.lower() != "authorization"]
    err = error(req)
    assert (err.code, err.status, err.message) == (
        "MissingAuthenticationToken", 403, "Request is missing Authentication Token")


def test_malformed_authorization_header_is_incomplete_signature():
    req = sign()
    req["headers"] = [(k, "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/iam/aws4_request")
                      if k.lower() == "authorization" else (k, v) for k, v in req["headers"]]
    err = error(req)
    assert (err.code, err.status) == ("IncompleteSignature", 400)
    assert err.message.startswith("Authorization header requires 'Signature' parameter. "
                                  "Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4-")


def test_presigned_without_signature_is_incomplete_signature():
    req = sign(presign=True, method="GET", body=b"", url=URL + "?Action=ListUsers&Version=2010-05-08")
    req["raw_query"] = "&".join(p for p in req["raw_query"].split("&") if not p.startswith("X-Amz-Signature="))
    err = error(req)
    assert err.code == "IncompleteSignature"
    assert err.message == ("AWS query-string parameters must include 'X-Amz-Signature'. "
                           "Re-examine the query-string parameters.")


def test_credential_with_four_parts_is_incomplete_signature():
    req = sign()
    req["headers"] = [(k, v.replace("/us-east-1/", "/")) if k.lower() == "authorization" else (k, v)
                      for k, v in req["headers"]]
    err = error(req)
    assert err.code == "IncompleteSignature"
    assert err.message.startswith("Credential must have exactly 5 slash-delimited elements")


def test_clock_skew_past_fifteen_minutes_is_signature_expired():
    req = sign()
    signed_at = dict((k.lower(), v) for k, v in req["headers"])["x-amz-date"]
    assert check(req, now=time.time() + 14 * 60)        # inside AWS's window
    err = error(req, now=time.time() + 16 * 60)
    assert err.code == "SignatureDoesNotMatch" and err.status == 403
    assert err.message.startswith(f"Signature expired: {signed_at} is now earlier than ")
    assert err.message.endswith(" - 15 min.)")
    err = error(req, now=time.time() - 16 * 60)
    assert err.message.startswith(f"Signature not yet current: {signed_at} is still later than ")
    assert err.message.endswith(" + 15 min.)")


def test_signature_expired_message_has_aws_shape():
    req = sign()
    now = time.time() + 3600
    err = error(req, now=now)
    import re
    assert re.fullmatch(r"Signature expired: \d{8}T\d{6}Z is now earlier than (\d{8}T\d{6}Z) "
                        r"\((\d{8}T\d{6}Z) - 15 min\.\)", err.message)


def test_credential_scope_must_name_the_routes_service():
    err = error(sign(service="sts"), service="iam")
    assert err.code == "SignatureDoesNotMatch"
    assert err.message == "Credential should be scoped to correct service: 'iam'."
    assert check(sign(service="sts"), service=("iam", "sts")).service == "sts"


def test_host_must_be_signed():
    req = sign()
    req["headers"] = [(k, v.replace("SignedHeaders=content-type;host;x-amz-date", "SignedHeaders=content-type;x-amz-date"))
                      if k.lower() == "authorization" else (k, v) for k, v in req["headers"]]
    err = error(req)
    assert err.message == "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."


def test_temporary_credentials_need_their_session_token():
    assert check(sign(key=TMP_ID, secret=TMP_SECRET, token=TOKEN)).owner == "session"
    # signed without the token: the key is temporary, the request is not
    err = error(sign(key=TMP_ID, secret=TMP_SECRET))
    assert err.code == "InvalidClientTokenId"
    err = error(sign(key=TMP_ID, secret=TMP_SECRET, token=TOKEN + "x"))
    assert err.code == "InvalidClientTokenId"
    # a long-term key does not take a session token
    assert error(sign(token=TOKEN)).code == "InvalidClientTokenId"


def test_expired_session_token_is_expired_token():
    err = error(sign(key="ASIAEXPIREDEXAMPLE00", secret=TMP_SECRET, token=TOKEN))
    assert (err.code, err.status, err.message) == (
        "ExpiredToken", 403, "The security token included in the request is expired")


def test_expired_token_is_not_revealed_to_a_wrong_signature():
    err = error(sign(key="ASIAEXPIREDEXAMPLE00", secret="y" * 40, token=TOKEN))
    assert err.code == "SignatureDoesNotMatch"


def test_date_header_is_the_fallback_and_a_bad_date_is_incomplete_signature():
    req = sign()
    req["headers"] = [(k, "yesterday") if k.lower() == "x-amz-date" else (k, v) for k, v in req["headers"]]
    err = error(req)
    assert err.code == "IncompleteSignature"
    assert err.message == ("Date must be in ISO-8601 'basic format'. Got 'yesterday'. "
                           "See http://en.wikipedia.org/wiki/ISO_8601")


def test_asgi_style_bytes_headers_are_read():
    req = sign()
    req["headers"] = [(k.lower().encode(), v.encode()) for k, v in req["headers"]]
    assert check(req).access_key_id == AKID


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.sampled_from(["authorization", "x-amz-date", "host", "x-amz-security-token", "date"]),
                          st.text(max_size=80)), max_size=5),
       st.text(max_size=120))
def test_garbage_is_an_aws_error_never_a_crash_and_never_a_secret(headers, query):
    headers = headers + [("authorization", f"AWS4-HMAC-SHA256 Credential={AKID}/20260101/us-east-1/iam/aws4_request, "
                                           "SignedHeaders=host, Signature=00")] if not headers else headers
    try:
        verify("POST", "/", query, headers, b"", keys())
    except SigV4Error as err:
        assert err.code in {"MissingAuthenticationToken", "IncompleteSignature", "InvalidClientTokenId",
                            "SignatureDoesNotMatch", "ExpiredToken"}
        assert SECRET not in err.message and TOKEN not in err.message


def test_presigned_x_amz_expires_is_not_what_limits_it():
    # STS ignores X-Amz-Expires (aws/aws-sdk-go#2167): the 15-minute window of X-Amz-Date applies.
    req = sign(service="sts", presign=True, method="GET", body=b"", expires=60,
               url=URL + "?Action=GetCallerIdentity&Version=2011-06-15")
    assert "X-Amz-Expires=60" in req["raw_query"]
    assert check(req, service="sts", now=time.time() + 14 * 60)
    assert error(req, service="sts", now=time.time() + 16 * 60).message.startswith("Signature expired: ")


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.dictionaries(_TEXT.filter(lambda k: not k.startswith("X-Amz-")), _TEXT, max_size=4),
       st.binary(max_size=64), st.sampled_from(["/", "/a/b", "/a%20b/", "/x/../y"]))
def test_any_request_botocore_signs_verifies_and_any_changed_byte_does_not(params, body, path):
    # Presigned: parameters of any text travel in the query; a body in the header form.
    from botocore.utils import percent_encode_sequence
    query = ("?" + percent_encode_sequence(params)) if params else ""
    presigned = sign(presign=True, method="GET", body=b"", url=URL.rstrip("/") + path + query)
    assert check(presigned).presigned
    signed = sign(body=body, url=URL.rstrip("/") + path + query)
    assert not check(signed).presigned
    if body:
        changed = dict(signed, body=bytes([body[0] ^ 1]) + body[1:])
        assert error(changed).code == "SignatureDoesNotMatch"
    if params:
        k = next(iter(params))
        changed = dict(presigned, raw_query=presigned["raw_query"].replace(
            percent_encode_sequence({k: params[k]}), percent_encode_sequence({k: params[k] + "x"}), 1))
        assert error(changed).code == "SignatureDoesNotMatch"


def test_a_signing_key_never_shows_its_secret_or_token():
    key = SigningKey(SECRET, session_token=TOKEN, owner="x")
    assert SECRET not in repr(key) and TOKEN not in repr(key) and SECRET not in str(key)
