"""The universe of requests the proofs quantify over. Typed mode may only be
narrower than what a request can name where the catalogue is certain (the
ARN format's literal text, a region, an account); a name the format leaves
open may hold any character, an action a policy or the question spells out
is in it even when the catalogue lacks it, and a resource the question names
is in it. A PASS or a PROVEN NEVER outside that would be a wrong answer:
each case below is a request the kernel allows."""

from __future__ import annotations

import re

from hypothesis import given, settings, strategies as st

import iamlogic
from iamlogic.kernel.catalogue import CATALOGUE
from iamlogic.proofs import automata as A
from iamlogic.proofs import can_be_allowed, check_access_not_granted, check_no_new_access

USER = "arn:aws:iam::111122223333:user/u"
# Bedrock foundation-model ids carry a version after a colon (Bedrock User
# Guide, "Supported foundation models").
MODEL = "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0"


def policy(action, resource):
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]}


def kernel_allows(policies, request) -> bool:
    return iamlogic.compile(policies).decide(request).decision == "allow"


def test_a_model_id_with_a_colon_is_a_resource_typed_mode_holds():
    granted = policy("bedrock:InvokeModel", MODEL)
    check = check_access_not_granted(granted, actions=["bedrock:InvokeModel"])
    assert check.result == "FAIL"
    assert kernel_allows({"identity": [granted]}, {**check.witness, "principal": USER})
    # Widening the version to any version is new access.
    wider = policy("bedrock:InvokeModel", MODEL[:-1] + "*")
    check = check_no_new_access(wider, granted)
    assert check.result == "FAIL" and check.witness["resource"] != MODEL
    assert kernel_allows({"identity": [wider]}, check.witness)
    assert not kernel_allows({"identity": [granted]}, check.witness)
    # The fully concrete request the kernel allows is not "never".
    request = {"principal": USER, "action": "bedrock:InvokeModel", "resource": MODEL}
    assert kernel_allows({"identity": [granted]}, request)
    assert can_be_allowed({"policies": {"identity": [granted]}, "request": request}).result == "FAIL"


def test_names_with_a_slash_are_resources_typed_mode_holds():
    # KMS aliases may hold "/" (KMS Developer Guide, CreateAlias: "alias/…"
    # names of letters, numbers, "/", "_", "-"); EventBridge partner event
    # buses are named "aws.partner/…/…".
    for action, resource in (("kms:DeleteAlias", "arn:aws:kms:us-east-1:111122223333:alias/my/key"),
                             ("events:PutEvents",
                              "arn:aws:events:us-east-1:111122223333:event-bus/aws.partner/saas.com/123/bus")):
        granted = policy(action, resource)
        check = check_access_not_granted(granted, actions=[action])
        assert check.result == "FAIL", resource
        assert check.witness["resource"] == resource


def test_accounts_and_partitions_are_what_arns_hold():
    # AWS managed policies live in account "aws", SSM public parameters in
    # no account (IAM User Guide, "IAM identifiers"; Systems Manager User
    # Guide, "Public parameters"), and partitions go past the three best
    # known (aws-iso, aws-iso-b, …).
    for action, resource in (("iam:GetPolicy", "arn:aws:iam::aws:policy/AdministratorAccess"),
                             ("ssm:GetParameter", "arn:aws:ssm:us-east-1::parameter/aws/service/ami"),
                             ("s3:GetObject", "arn:aws-iso:s3:::b/k")):
        granted = policy(action, resource)
        check = check_access_not_granted(granted, actions=[action])
        assert check.result == "FAIL", resource
        assert check.witness["resource"] == resource


def test_an_action_the_catalogue_lacks_is_in_the_universe_on_any_resource():
    action = "s3:NewAction2030"
    assert CATALOGUE.action("s3", "newaction2030") is None
    granted = policy(action, "*")
    request = {"principal": USER, "action": action, "resource": "arn:aws:s3:::b"}
    assert kernel_allows({"identity": [granted]}, request)
    assert can_be_allowed({"policies": {"identity": [granted]}, "request": request}).result == "FAIL"
    assert check_access_not_granted(granted, actions=[action]).result == "FAIL"
    check = check_no_new_access(granted, policy("s3:GetObject", "*"))
    assert check.result == "FAIL" and check.witness["action"] == action
    # Named by the question alone, reached by a policy's wildcard.
    wide = policy("s3:*", "*")
    check = can_be_allowed({"policies": {"identity": [wide]},
                            "request": {"principal": USER, "action": action, "resource": "arn:aws:s3:::b"}})
    assert check.result == "FAIL"
    # Denied by name in the existing policy, allowed by a wildcard in the new.
    existing = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": action, "Resource": "*"}]}
    check = check_no_new_access(wide, existing)
    assert check.result == "FAIL" and check.witness["action"] == action


def test_a_resource_the_question_names_is_in_the_universe():
    # s3:GetObject's catalogue resource is an object; a request may still
    # name the bucket, and the kernel decides it as written.
    granted = policy("s3:GetObject", "*")
    request = {"principal": USER, "action": "s3:GetObject", "resource": "arn:aws:s3:::bucket"}
    assert kernel_allows({"identity": [granted]}, request)
    assert can_be_allowed({"policies": {"identity": [granted]}, "request": request}).result == "FAIL"


_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
FORMATS = sorted({d["arn"] for s in CATALOGUE.services() for d in CATALOGUE.resource_types(s).values()})
NAMES = st.text(alphabet="ab:/._-+=@#Z9", min_size=1, max_size=6)


@given(fmt=st.sampled_from(FORMATS), data=st.data())
@settings(max_examples=300, deadline=None, derandomize=True)
def test_every_format_holds_its_names_whatever_their_characters(fmt, data):
    # A catalogue format filled in with any names (colons and slashes too,
    # where the placeholder is in the resource part and the service does not
    # document its characters) is a resource typed mode holds.
    # The catalogue lists some types' formats in one string, comma-separated.
    fmt_all, fmt = fmt, data.draw(st.sampled_from([f.strip() for f in fmt.split(",")]))
    service = fmt.split(":")[2]
    text, pos = [], 0
    for m in _PLACEHOLDER.finditer(fmt):
        text.append(fmt[pos:m.start()])
        name = m.group(1)
        in_resource_part = fmt.count(":", 0, m.start()) >= 5
        if name == "Partition":
            value = data.draw(st.sampled_from(["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b"]))
        elif name == "Region":
            value = "us-east-1"
        elif name == "Account":
            value = data.draw(st.sampled_from(["111122223333", "aws", ""]))
        elif (service, name) in A.DOCUMENTED_NAMES:
            value = "".join(sorted(A.DOCUMENTED_NAMES[(service, name)]))[:3]
        elif in_resource_part:
            value = data.draw(NAMES)
        else:
            value = data.draw(NAMES.map(lambda v: v.replace(":", "x")))
        text.append(value)
        pos = m.end()
    text.append(fmt[pos:])
    assert A.member(A.Term(A.format_globs(fmt_all)), "".join(text)), (fmt_all, "".join(text))


def test_a_format_list_is_each_of_its_formats():
    # The catalogue writes 13 resource types' formats as one comma-separated
    # list (API Gateway's deployments: /apis/… and /restapis/…); read whole,
    # no real ARN was of that type.
    listed = next(d["arn"] for d in CATALOGUE.resource_types("apigateway").values()
                  if d["arn"].endswith("/deployments") and "," in d["arn"])
    term = A.Term(A.format_globs(listed))
    assert A.member(term, "arn:aws:apigateway:us-east-1::/restapis/abc/deployments")
    assert A.member(term, "arn:aws:apigateway:us-east-1::/apis/abc/deployments")
    resource = "arn:aws:apigateway:us-east-1::/restapis/abc/deployments"
    granted = policy("apigateway:POST", resource)
    check = check_access_not_granted(granted, actions=["apigateway:POST"])
    assert check.result == "FAIL" and check.witness["resource"] == resource
