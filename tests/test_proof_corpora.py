"""proofs/ against the peer corpora (../shared/corpora/README.md): the
quacky mutation pairs (a model-counting tool's relation between a policy and
a mutant) and the awspolicyequivalence pairs (a structural comparator's
"equivalent" cases). Every pair is decided; every disagreement is listed
here with the reason."""

from __future__ import annotations

import pytest

from conftest import corpus_records
from iamlogic.errors import IamlogicError, PolicyError
from iamlogic.proofs import check_no_new_access, equivalent


def statements(policy) -> list:
    if not isinstance(policy, dict):
        return []
    body = policy.get("Statement", [])
    return body if isinstance(body, list) else [body]


def documents_type(record: dict) -> str:
    """The policy type the documents themselves have: a resource policy names
    a principal in every statement, an identity policy in none. The corpus
    labels quacky pairs by the sample's folder (an S3 sample is "resource"
    even when its statements name nobody), and AWS would reject such a
    document as that type; read as the type they are written as."""
    named = [isinstance(s, dict) and ("Principal" in s or "NotPrincipal" in s)
             for p in (record["p1"], record["p2"]) for s in statements(p)]
    if record["policy_type"] in ("identity", "resource") and named and any(named) != all(named):
        return record["policy_type"]  # mixed: invalid either way, as labelled
    return "resource" if any(named) else "identity"


RELATION = {(True, True): "equivalent", (True, False): "p1_strictly_less",
            (False, True): "p2_strictly_less", (False, False): "incomparable"}

_ELEVEN_DIGITS = "AWS rejects the document: the principal's account id has 11 digits (quacky compares it as text)."
_FOURTEEN_DIGITS = "AWS rejects the document: the principal's account id has 14 digits (quacky compares it as text)."
_IF_EXISTS = ("quacky reads BoolIfExists as Bool (its README says so): with aws:MultiFactorAuthPresent absent the "
              "mutant's Deny (NotAction + NotResource '*', which denies nothing) and the original's differ only "
              "there; by SEMANTICS §4 (…IfExists is true when the key is absent) the original denies more, so the "
              "mutant is strictly wider, not incomparable.")
QUACKY_DISAGREEMENTS = {
    "quacky/ec2/exp_single/ec2_require_mfa_session_token/policy/0_3.json": _IF_EXISTS,
    "quacky/ec2/exp_single/ec2_require_mfa_session_token/policy/1_3.json": _IF_EXISTS,
    "quacky/iam/exp_single/iam_specify_all_users_in_account_bucket_policy/policy1/0_.json": _FOURTEEN_DIGITS,
    "quacky/iam/exp_single/iam_specify_all_users_in_account_bucket_policy/policy1/1_.json": _FOURTEEN_DIGITS,
    "quacky/iam/exp_single/iam_specify_all_users_in_account_bucket_policy/policy1/2_.json": _FOURTEEN_DIGITS,
    "quacky/s3/exp_single/s3_policy_public_and_principal_specific_permissions/policy/0_0.json": _ELEVEN_DIGITS,
    "quacky/s3/exp_single/s3_policy_public_and_principal_specific_permissions/policy/0_1.json": _ELEVEN_DIGITS,
    "quacky/s3/exp_single/s3_policy_public_and_principal_specific_permissions/policy/1_1.json": _ELEVEN_DIGITS,
}


def relation(p1, p2, policy_type: str) -> str:
    forward = check_no_new_access(p1, p2, policy_type, timeout_ms=30_000)
    backward = check_no_new_access(p2, p1, policy_type, timeout_ms=30_000)
    for check in (forward, backward):
        assert check.result != "UNKNOWN", check.note
    return RELATION[(forward.result == "PASS", backward.result == "PASS")]


def test_quacky_mutation_pairs():
    agree, disagreements = 0, {}
    pairs = corpus_records("quacky.pairs.jsonl")
    for r in pairs:
        try:
            ours = relation(r["p1"], r["p2"], documents_type(r))
        except PolicyError as e:
            ours = f"rejected: {e}"
        if ours == r["relation"]:
            agree += 1
        else:
            disagreements[r["id"]] = ours
    assert set(disagreements) == set(QUACKY_DISAGREEMENTS), disagreements
    for rid, ours in disagreements.items():
        if QUACKY_DISAGREEMENTS[rid] is _IF_EXISTS:
            assert ours == "p2_strictly_less"
        else:
            assert ours.startswith("rejected: ") and "INVALID_PRINCIPAL_FORMAT" in ours
    assert agree >= 0.95 * len(pairs)


# The comparator's "equivalent" pairs whose documents AWS rejects: the
# question of what they allow does not arise; iamlogic says which element is
# wrong (each pinned to the finding it gets). The comparator compares
# structure case-insensitively; the IAM User Guide's Effect page says "The
# Effect value is case sensitive", and a bare string is no Principal object.
REJECTED = {
    "policyTest4a~policyTest4b": "UNSUPPORTED_ELEMENT_COMBINATION",  # Action and NotAction together
    "policyTest20a~policyTest20b": "INVALID_EFFECT",  # "Effect": "allow"
    "policyTest21a~policyTest21b": "INVALID_EFFECT",
    "policyTest22a~policyTest22b": "INVALID_EFFECT",
    "policyTest23a~policyTest23b": "INVALID_EFFECT",
    "policyTest24a~policyTest24b": "INVALID_EFFECT",
    "policyTest25a~policyTest25b": "INVALID_EFFECT",
    "policyTest26a~policyTest26b": "DATA_TYPE_MISMATCH",  # "Principal": "arn:…" (a bare string)
    "policyTest27a~policyTest27b": "INVALID_PRINCIPAL_FORMAT",  # arn:PARTITION:…
    "policyTest28a~policyTest28b": "INVALID_PRINCIPAL_FORMAT",
    "policyTest29a~policyTest29b": "INVALID_PRINCIPAL_FORMAT",
    "policyTest30~policyTest30": "MISSING_STATEMENT",
    "policyTest31~policyTest31": "DATA_TYPE_MISMATCH",
    "policyTest32~policyTest32": "DATA_TYPE_MISMATCH",
    "policyTest33~policyTest33": "DATA_TYPE_MISMATCH",
    "policyTest39a~policyTest39b": "not list",  # the document is a JSON array
    "policyTest40a~policyTest40b": "DATA_TYPE_MISMATCH",
}


def test_awspolicyequivalence_equivalent_pairs():
    proven = 0
    for r in corpus_records("awspolicyequivalence.pairs.jsonl"):
        if r["relation"] != "equivalent":
            continue
        name = r["id"].split("/", 1)[1]
        if name in REJECTED:
            with pytest.raises(IamlogicError) as rejected:
                equivalent(r["p1"], r["p2"], documents_type(r))
            assert REJECTED[name] in str(rejected.value), name
            continue
        check = equivalent(r["p1"], r["p2"], documents_type(r))
        assert check.result == "PASS", (name, check.note, check.witnesses)
        proven += 1
    assert proven == 16
