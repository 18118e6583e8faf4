"""Input discipline (issue 18, items 4-6 and 9): a value is a document or a
path by how it arrives, never by its text; every read is bounded and only of
regular files; every error is the project's own, naming its field, one line
from the CLI (exit 1), never an internal error; every file written goes
through an exclusive temporary file beside the target. The readers of
scenarios, SimulateCustomPolicy requests, exports and organizations are
fuzzed with wrong types at every field."""

from __future__ import annotations

import copy
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import iamlogic
from iamlogic.accounts import load_account_data
from iamlogic.accounts.convert import organization_from_cli
from iamlogic.cli import main
from iamlogic.errors import IamlogicError, InputError, ScenarioError
from iamlogic.inputs import MAX_INPUT_BYTES, quote, read_bytes, write_text

from conftest import ROOT, cli

ORG = ROOT / "examples" / "organization"
ALLOW_GET = {"Version": "2012-10-17", "Statement": {"Sid": "Get", "Effect": "Allow", "Action": "s3:GetObject",
                                                     "Resource": "arn:aws:s3:::bucket/*"}}
REQUEST = {"principal": "arn:aws:iam::111111111111:user/alice", "action": "s3:GetObject",
           "resource": "arn:aws:s3:::bucket/key", "resource_account": "111111111111"}
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def one_error_line(code: int, err: str) -> str:
    assert code == 1, err
    assert err.count("\n") == 1 and err.startswith("iamlogic: "), err
    return err


# ---------------------------------------------------------------- documents vs paths


def test_a_file_given_to_a_proof_command_is_a_document_never_a_path_and_never_echoed(tmp_path, capsys):
    creds = tmp_path / "credentials"
    creds.write_text(f"[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = {SECRET}\n")
    before = ROOT / "examples" / "refactor" / "before.json"
    code, out, err = cli(capsys, "check-no-new-access", "--existing", before, "--new", creds)
    assert code == 2 and SECRET not in err and "AKIA" not in err and str(creds) in err
    # A file whose text is a path is that text, not the file it names.
    pointer = tmp_path / "pointer.json"
    pointer.write_text(str(before))
    code, out, err = cli(capsys, "equivalent", pointer, before)
    assert code == 2 and "JSON_SYNTAX_ERROR" in err and "PASS" not in out
    for content, message in ((b"", "JSON_SYNTAX_ERROR"), (b"[1,2,3]", "DATA_TYPE_MISMATCH"),
                             (b"\xef\xbb\xbf" + before.read_bytes(), None)):
        odd = tmp_path / "odd.json"
        odd.write_bytes(content)
        code, out, err = cli(capsys, "equivalent", odd, before)
        assert "cannot read policy file" not in err
        if message is None:  # a byte-order mark is read past, as IAM does
            assert code == 0 and out.startswith("PASS")
        else:
            assert code == 2 and message in err


def test_the_api_reads_a_str_as_text_and_a_path_as_a_file(tmp_path):
    from iamlogic.proofs import check_access_not_granted

    path = tmp_path / "p.json"
    path.write_text(json.dumps(ALLOW_GET))
    assert check_access_not_granted(path, actions=["s3:GetObject"]).result == "FAIL"
    with pytest.raises(iamlogic.PolicyError):  # the text of a path is not a policy
        check_access_not_granted(str(path), actions=["s3:GetObject"])
    assert iamlogic.simulate(json.dumps({"policies": {"identity": [ALLOW_GET]}, "request": REQUEST})).decision \
        == "allow"


def test_simulator_policies_are_json_text_never_paths(tmp_path, capsys):
    (tmp_path / "policy.json").write_text(json.dumps(ALLOW_GET))
    request = {"PolicyInputList": ["policy.json"], "ActionNames": ["s3:GetObject"],
               "ResourceArns": ["arn:aws:s3:::bucket/key"]}
    path = tmp_path / "sim.json"
    path.write_text(json.dumps(request))
    code, out, err = cli(capsys, "simulate", path)
    assert code == 2 and "JSON_SYNTAX_ERROR" in err
    request["PolicyInputList"] = ["../../../../../../etc/hostname"]
    path.write_text(json.dumps(request))
    code, out, err = cli(capsys, "simulate", path)
    assert code == 2 and "JSON_SYNTAX_ERROR" in err


def test_scenario_paths_stay_inside_the_scenario_folder(tmp_path, capsys):
    inside, outside = tmp_path / "scenarios", tmp_path / "elsewhere"
    inside.mkdir(), outside.mkdir()
    (outside / "p.json").write_text(json.dumps(ALLOW_GET))
    (inside / "sub").mkdir()
    (inside / "sub" / "p.json").write_text(json.dumps(ALLOW_GET))
    (inside / "link.json").symlink_to(outside / "p.json")
    for ref, ok in (("sub/p.json", True), ("../elsewhere/p.json", False), (str(outside / "p.json"), False),
                    ("link.json", False), ("sub/../../elsewhere/p.json", False)):
        scenario = inside / "s.json"
        scenario.write_text(json.dumps({"policies": {"identity": [ref]}, "request": REQUEST}))
        if ok:
            assert iamlogic.simulate(scenario).decision == "allow"
            continue
        with pytest.raises(ScenarioError) as info:
            iamlogic.simulate(scenario)
        assert info.value.field == "policies.identity[0]" and "outside" in str(info.value)
        code, out, err = cli(capsys, "simulate", scenario)
        assert "policies.identity[0]" in one_error_line(code, err)
        # The user may allow a wider folder.
        code, out, err = cli(capsys, "simulate", scenario, "--policy-root", tmp_path)
        assert code == 0 and out.startswith("allow"), err
        assert iamlogic.simulate(scenario, policy_root=tmp_path).decision == "allow"


def test_can_be_allowed_reads_its_scenario_bounded_and_confined(tmp_path, capsys):
    (tmp_path / "zero").symlink_to("/dev/zero")
    code, out, err = cli(capsys, "can-be-allowed", tmp_path / "zero")
    assert "not a regular file" in one_error_line(code, err)
    scenario = tmp_path / "q.json"
    scenario.write_text(json.dumps({"policies": {"identity": ["../x.json"]}, "request": {}}))
    code, out, err = cli(capsys, "can-be-allowed", scenario)
    assert "outside" in one_error_line(code, err)


# ---------------------------------------------------------------- bounded reads


@pytest.fixture
def zero(tmp_path):
    link = tmp_path / "zero.json"
    link.symlink_to("/dev/zero")
    return link


def test_devices_and_fifos_are_never_read(tmp_path, zero, capsys):
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    for target in (zero, fifo):
        with pytest.raises(InputError, match="not a regular file"):
            read_bytes(target)
        code, out, err = cli(capsys, "validate", target)
        assert "not a regular file" in one_error_line(code, err)
    # A scenario's policy path to a device: outside its folder, and even
    # where the user allows every folder, never read.
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps({"policies": {"identity": ["zero.json"]}, "request": REQUEST}))
    with pytest.raises(ScenarioError, match="outside"):
        iamlogic.simulate(scenario)
    with pytest.raises(ScenarioError, match="not a regular file") as info:
        iamlogic.simulate(scenario, policy_root="/")
    assert info.value.field == "policies.identity[0]"
    code, out, err = cli(capsys, "simulate", scenario, "--policy-root", "/")
    assert "not a regular file" in one_error_line(code, err)


def test_oversized_inputs_are_refused_whole(tmp_path, capsys):
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (MAX_INPUT_BYTES + 1))
    with pytest.raises(InputError, match="more than"):
        read_bytes(big)
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps({"policies": {"identity": ["big.json"]}, "request": REQUEST}))
    with pytest.raises(ScenarioError, match="more than"):
        iamlogic.simulate(scenario)
    code, out, err = cli(capsys, "simulate", big)
    assert "more than" in one_error_line(code, err)


@pytest.mark.parametrize("where", ["authorization/333333333333.json", "organization.json",
                                   "resources/prod-data-bucket.json"])
def test_account_data_files_linked_to_a_device_are_refused(tmp_path, where):
    folder = tmp_path / "data"
    shutil.copytree(ORG, folder)
    (folder / where).unlink()
    (folder / where).symlink_to("/dev/zero")
    try:
        data = load_account_data(folder)
    except InputError as e:
        assert "not a regular file" in str(e)
    else:  # a resource policy file: reported, and every answer it could change is undecided
        assert any("not a regular file" in s.why for s in data.skipped)
        assert data.unreadable


# ---------------------------------------------------------------- errors that name their field


@pytest.mark.parametrize("request_, field", [
    ({**REQUEST, "principal": ["arn:aws:iam::111111111111:user/alice"]}, "request.principal"),
    ({**REQUEST, "principal": {"AWS": "x"}}, "request.principal"),
    ({**REQUEST, "context": {1: "x"}}, "request.context"),
    ({**REQUEST, "context": {None: "x"}}, "request.context"),
    ({**REQUEST, "context": {"aws:x": None}}, "request.context.aws:x"),
    ({**REQUEST, "action": "s3:" + "A" * 100_000}, "request.action"),
])
def test_requests_of_the_wrong_types_name_the_field(request_, field):
    with pytest.raises(ScenarioError) as info:
        iamlogic.simulate({"policies": {"identity": [ALLOW_GET]}, "request": request_})
    assert info.value.field == field
    assert len(str(info.value)) < 400  # a value is quoted by a short prefix


@pytest.mark.parametrize("ref", ["a\x00b.json", "a\ud800b.json", ""])
def test_paths_no_file_system_takes_are_errors(ref):
    with pytest.raises(ScenarioError) as info:
        iamlogic.simulate({"policies": {"identity": [ref]}, "request": REQUEST})
    assert info.value.field == "policies.identity[0]"


def test_huge_numbers_and_deep_nesting_are_input_errors(tmp_path, capsys):
    digits = "1" * 5000
    deep = "[" * 1200 + "]" * 1200
    for text in (f'{{"policies": {{}}, "request": {{"context": {{"n": {digits}}}}}}}',
                 f'{{"policies": {{"identity": [{deep}]}}, "request": {{}}}}'):
        with pytest.raises(InputError):
            iamlogic.simulate(text)
        path = tmp_path / "s.json"
        path.write_text(text)
        code, out, err = cli(capsys, "simulate", path)
        one_error_line(code, err)
    nested: dict = {}
    for _ in range(1200):
        nested = {"a": nested}
    with pytest.raises(IamlogicError):
        iamlogic.simulate({"policies": {"identity": [{"Version": "2012-10-17", "Statement": nested}]},
                           "request": REQUEST})
    for option in ('{"a": ' + digits + "}", "[" * 3000):
        code, out, err = cli(capsys, "who-can", "s3:GetObject", "arn:aws:s3:::b/k", "-d", ORG, "-c", option)
        assert code == 1 and "--context" in err
    # validate never raises, whatever the nesting of the object it is given.
    assert [f.issue_code for f in iamlogic.validate({"Version": "2012-10-17", "Statement": nested})] == \
        ["JSON_SYNTAX_ERROR"]
    with pytest.raises(iamlogic.PolicyError):
        iamlogic.parse_policy(nested)


@pytest.mark.parametrize("change, field", [
    ({"PolicyInputList": "x"}, "PolicyInputList"),
    ({"ActionNames": [1]}, "ActionNames"),
    ({"ResourcePolicy": {"Version": "2012-10-17"}}, "ResourcePolicy"),
    ({"ResourceOwner": 5}, "ResourceOwner"),
    ({"CallerArn": ["a"]}, "CallerArn"),
    ({"ContextEntries": 5}, "ContextEntries"),
    ({"ContextEntries": [{"ContextKeyName": "k", "ContextKeyType": ["string"]}]}, "ContextEntries[0].ContextKeyType"),
    ({"ContextEntries": [{"ContextKeyName": "k", "ContextKeyValues": "v"}]}, "ContextEntries[0].ContextKeyValues"),
    ({"ActionNames": [f"s3:A{i}" for i in range(400)], "ResourceArns": [f"arn:aws:s3:::b/{i}" for i in range(400)]},
     "ActionNames"),
])
def test_simulator_fields_of_the_wrong_type_name_the_field(change, field):
    from iamlogic.scenario import simulate_one

    request = {"PolicyInputList": [json.dumps(ALLOW_GET)], "ActionNames": ["s3:GetObject"], **change}
    with pytest.raises(ScenarioError) as info:
        simulate_one(request)
    assert info.value.field == field


def test_a_bad_batch_line_is_its_own_error_and_the_run_goes_on(tmp_path, capsys):
    good = {"policies": {"identity": [ALLOW_GET]}, "request": REQUEST}
    bad = [{**good, "request": {**REQUEST, "principal": ["x"]}},
           {**good, "request": {**REQUEST, "context": {"k": None}}},
           {"policies": {"identity": ["../../etc/hostname"]}, "request": REQUEST},
           {"policies": {"identity": [{"Statement": 5}]}, "request": REQUEST}]
    lines = [json.dumps(good)] + [json.dumps(b) for b in bad] + ['{"n": ' + "9" * 5000 + "}",
                                                                 "[" * 2000, json.dumps(good)]
    path = tmp_path / "batch.jsonl"
    path.write_text("\n".join(lines) + "\n")
    code, out, err = cli(capsys, "simulate", "--batch", path)
    results = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and [r["line"] for r in results] == list(range(1, len(lines) + 1))
    assert results[0]["decision"] == results[-1]["decision"] == "allow"
    assert all("error" in r and "internal error" not in r["error"] for r in results[1:-1])


# ---------------------------------------------------------------- account data: malformed exports


def _export() -> dict:
    return json.loads((ORG / "authorization" / "333333333333.json").read_text())


@pytest.mark.parametrize("change", [
    lambda e: e["UserDetailList"][0].__setitem__("GroupList", [{}]),
    lambda e: e["UserDetailList"][0].__setitem__("GroupList", 5),
    lambda e: e["UserDetailList"][0].__setitem__("AttachedManagedPolicies", [{"PolicyArn": ["a"]}]),
    lambda e: e["UserDetailList"][0].__setitem__("UserPolicyList", 5),
    lambda e: e["UserDetailList"][0].__setitem__("Tags", [{"Key": ["a"], "Value": "b"}]),
    lambda e: e["UserDetailList"][0].__setitem__("PermissionsBoundary", {"PermissionsBoundaryArn": {}}),
    lambda e: e["RoleDetailList"][0].__setitem__("InstanceProfileList", 5),
    lambda e: e["Policies"][0].__setitem__("PolicyVersionList", 5),
    lambda e: e["Policies"][0]["PolicyVersionList"][0].__setitem__("Document", "%7B" + "[" * 2000),
    lambda e: e["RoleDetailList"][0].__setitem__("RoleName", ""),
    lambda e: e["UserDetailList"][0].__setitem__("UserName", "someone/else"),
])
def test_malformed_exports_are_reported_not_raised(tmp_path, change):
    from iamlogic.accounts import who_can

    export = _export()
    change(export)
    (tmp_path / "authorization").mkdir()
    (tmp_path / "authorization" / "x.json").write_text(json.dumps(export))
    data = load_account_data(tmp_path)
    assert data.skipped
    who_can(data, "s3:GetObject", "arn:aws:s3:::b/k", {})  # every principal read can be asked about


@pytest.mark.parametrize("account", ["\x00", 5, "12"])
def test_a_resource_policy_with_a_bad_account_is_reported_and_undecided(tmp_path, account):
    from iamlogic.accounts import who_can

    folder = tmp_path / "data"
    shutil.copytree(ORG, folder)
    path = folder / "resources" / "prod-data-bucket.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "account": account}))
    data = load_account_data(folder)
    assert "arn:aws:s3:::prod-data" in data.unreadable
    answers = who_can(data, "s3:GetObject", "arn:aws:s3:::prod-data/k", {})
    assert answers and not any(a.allowed for a in answers)


def test_a_5000_digit_number_in_an_export_is_an_input_error(tmp_path):
    (tmp_path / "authorization").mkdir()
    (tmp_path / "authorization" / "x.json").write_text('{"UserDetailList": [], "n": ' + "7" * 5000 + "}")
    with pytest.raises(InputError, match="x.json"):
        load_account_data(tmp_path)


@pytest.mark.parametrize("change, message", [
    (lambda o: o["root"].pop("id"), "missing 'id'"),
    (lambda o: next(c for c in o["root"]["children"] if "ou" in c).pop("ou"), "missing 'ou'"),
    (lambda o: o["root"].__setitem__("scps", "FullAWSAccess"), "scps"),
    (lambda o: o["root"].__setitem__("scps", [["FullAWSAccess"]]), "scps"),
    (lambda o: o["root"].__setitem__("children", {"a": 1}), "children"),
    (lambda o: o.__setitem__("scps", ["FullAWSAccess"]), "scps"),
    (lambda o: o["root"].__setitem__("name", 5), "name"),
    (lambda o: o.__setitem__("management_account", 5), "management_account"),
])
def test_malformed_organizations_are_input_errors_naming_the_field(tmp_path, change, message):
    folder = tmp_path / "data"
    shutil.copytree(ORG, folder)
    org = json.loads((folder / "organization.json").read_text())
    change(org)
    (folder / "organization.json").write_text(json.dumps(org))
    with pytest.raises(InputError, match=message):
        load_account_data(folder)


# ---------------------------------------------------------------- organization-from-cli


def _cli_folder(tmp_path: Path) -> Path:
    """The AWS CLI's outputs for a root with one OU holding one account."""
    folder = tmp_path / "cli"
    for sub in ("list-organizational-units-for-parent", "list-accounts-for-parent", "list-policies-for-target",
                "describe-policy"):
        (folder / sub).mkdir(parents=True)

    def put(name: str, value) -> None:
        (folder / name).write_text(json.dumps(value))

    put("list-roots.json", {"Roots": [{"Id": "r-ab12", "Name": "Root"}]})
    put("describe-organization.json", {"Organization": {"Id": "o-x", "MasterAccountId": "111111111111"}})
    put("list-accounts-for-parent/r-ab12.json", {"Accounts": []})
    put("list-organizational-units-for-parent/r-ab12.json", {"OrganizationalUnits": [{"Id": "ou-ab12-a", "Name": "A"}]})
    put("list-accounts-for-parent/ou-ab12-a.json", {"Accounts": [{"Id": "222222222222", "Name": "prod"}]})
    put("list-organizational-units-for-parent/ou-ab12-a.json", {"OrganizationalUnits": []})
    for target in ("r-ab12", "ou-ab12-a", "222222222222"):
        put(f"list-policies-for-target/{target}.scp.json",
            {"Policies": [{"Id": "p-full", "Name": "FullAWSAccess", "Type": "SERVICE_CONTROL_POLICY"}]})
    put("describe-policy/p-full.json", {"Policy": {"Content": json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})}})
    return folder


def test_organization_from_cli_writes_whole_inside_its_target_only(tmp_path, capsys):
    folder = _cli_folder(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    # -o a folder: an error, and nothing written beside it.
    before = sorted(tmp_path.iterdir())
    code, _, err = cli(capsys, "organization-from-cli", folder, "-o", out)
    assert "directory" in one_error_line(code, err)
    assert sorted(tmp_path.iterdir()) == before and list(out.iterdir()) == []
    # A link where a temporary file once was is not followed...
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    (out / "org.json.partial").symlink_to(victim)
    code, _, err = cli(capsys, "organization-from-cli", folder, "-o", out / "org.json")
    assert code == 0, err
    assert victim.read_text() == "keep"
    assert json.loads((out / "org.json").read_text())["root"]["id"] == "r-ab12"
    assert sorted(p.name for p in out.iterdir()) == ["org.json", "org.json.partial"]
    # ...nor is a link as the target itself.
    (out / "linked.json").symlink_to(victim)
    code, _, err = cli(capsys, "organization-from-cli", folder, "-o", out / "linked.json")
    assert "link" in one_error_line(code, err) and victim.read_text() == "keep"


def test_write_text_replaces_whole_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "t.json"
    target.write_text("old")
    write_text(target, "new")
    assert target.read_text() == "new" and [p.name for p in tmp_path.iterdir()] == ["t.json"]


def _put(folder: Path, name: str, value) -> None:
    (folder / name).write_text(json.dumps(value))


@pytest.mark.parametrize("change, message", [
    (lambda f: _put(f, "describe-policy/p-full.json", {"Policy": {"Content": 5}}), "not a policy document"),
    (lambda f: _put(f, "describe-policy/p-full.json", {"Policy": {"Content": "[1]"}}), "not a policy document"),
    (lambda f: _put(f, "describe-policy/p-full.json", {"Policy": 5}), "no Policy.Content"),
    (lambda f: _put(f, "list-policies-for-target/r-ab12.scp.json",
                    {"Policies": [{"Id": "p-full", "Type": "SERVICE_CONTROL_POLICY"}]}), r"Policies\[0\].Name"),
    (lambda f: _put(f, "list-policies-for-target/r-ab12.scp.json",
                    {"Policies": [{"Id": "../../x", "Name": "A", "Type": "SERVICE_CONTROL_POLICY"}]}), "not an"),
    (lambda f: _put(f, "list-policies-for-target/r-ab12.scp.json", {"Policies": [5]}), r"Policies\[0\]"),
    (lambda f: _put(f, "list-roots.json", {"Roots": [{"Name": "Root"}]}), r"Roots\[0\].Id"),
    (lambda f: _put(f, "list-accounts-for-parent/ou-ab12-a.json", {"Accounts": [{"Name": "x"}]}),
     r"Accounts\[0\].Id"),
    (lambda f: _put(f, "list-organizational-units-for-parent/ou-ab12-a.json",
                    {"OrganizationalUnits": [{"Id": "ou-ab12-a"}]}), "twice"),
    (lambda f: _put(f, "list-organizational-units-for-parent/ou-ab12-a.json",
                    {"OrganizationalUnits": [{"Id": "r-ab12"}]}), "twice"),
    (lambda f: _put(f, "list-organizational-units-for-parent/ou-ab12-a.json",
                    {"OrganizationalUnits": [{"Id": "ou-b", "Name": ["x"]}]}), "Name"),
    (lambda f: (f / "list-roots.json").write_text('{"Roots": [' + "9" * 5000 + "]}"), "list-roots.json"),
    (lambda f: ((f / "describe-organization.json").unlink(), (f / "describe-organization.json").symlink_to("/dev/zero")),
     "not a regular file"),
    (lambda f: ((f / "describe-policy" / "p-full.json").unlink(),
                (f / "describe-policy" / "p-full.json").symlink_to("/dev/zero")), "not a regular file"),
])
def test_malformed_organizations_cli_outputs_are_errors_naming_the_file(tmp_path, capsys, change, message):
    folder = _cli_folder(tmp_path)
    change(folder)
    with pytest.raises(InputError, match=message):
        organization_from_cli(folder)
    target = tmp_path / "org.json"
    code, out, err = cli(capsys, "organization-from-cli", folder, "-o", target)
    one_error_line(code, err)
    assert not target.exists() and out == ""


# ---------------------------------------------------------------- fuzzing: wrong types at every field

WRONG = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30), st.text(max_size=8),
                  st.just("\x00"), st.just("\ud800"), st.just([]), st.just({}), st.just([{}]),
                  st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


def _paths(value, prefix=()):
    """Every JSON path in a value."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, prefix + (i,))


def _mutated(seed, draw_index: int, wrong, max_depth: int = 100):
    """``seed`` with the value at one of its paths (at most ``max_depth``
    deep) replaced by ``wrong``."""
    doc = copy.deepcopy(seed)
    paths = [p for p in list(_paths(doc))[1:] if len(p) <= max_depth]
    path = paths[draw_index % len(paths)]
    node = doc
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = wrong
    return doc


FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

BUCKET_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "111111111111"},
                                                          "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*",
                                                          "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}]}
SCENARIO_SEED = {"policies": {"identity": [ALLOW_GET], "boundary": [ALLOW_GET], "resource": BUCKET_POLICY,
                              "scps": [[ALLOW_GET], {"name": "ou", "policies": [ALLOW_GET]}], "session": ALLOW_GET},
                 "request": {**REQUEST, "context": {"aws:SourceIp": "203.0.113.7", "aws:TagKeys": ["a"]}}}
SIMULATOR_SEED = {"PolicyInputList": [json.dumps(ALLOW_GET)], "ActionNames": ["s3:GetObject"],
                  "ResourceArns": ["arn:aws:s3:::bucket/key"], "ResourceOwner": "arn:aws:iam::111111111111:root",
                  "CallerArn": REQUEST["principal"], "PermissionsBoundaryPolicyInputList": [json.dumps(ALLOW_GET)],
                  "ContextEntries": [{"ContextKeyName": "aws:SourceIp", "ContextKeyValues": ["203.0.113.7"],
                                      "ContextKeyType": "ip"}]}


def test_the_fuzzing_seeds_are_decided():
    from iamlogic.scenario import simulate_one

    assert [d.decision for d in simulate_one(SCENARIO_SEED)] == ["allow"]
    assert [d.decision for d in simulate_one(SIMULATOR_SEED)] == ["allow"]


@FUZZ
@given(index=st.integers(0, 10_000), wrong=WRONG)
def test_fuzz_scenarios(index, wrong):
    from iamlogic.scenario import simulate_one

    for seed in (SCENARIO_SEED, SIMULATOR_SEED):
        doc = _mutated(seed, index, wrong)
        try:
            simulate_one(doc, None)
        except IamlogicError:
            pass
        with tempfile.TemporaryDirectory() as folder:  # the same from the CLI, one error line
            path = Path(folder) / "s.json"
            path.write_text(json.dumps(doc), encoding="utf-8", errors="surrogatepass")
            proc_code = _cli_code(["simulate", str(path)])
            assert proc_code in (0, 1, 2)


def _cli_code(args) -> int:
    try:
        main(args)
    except SystemExit as e:
        return e.code
    return 0


EXPORT_SEED = json.loads((ORG / "authorization" / "333333333333.json").read_text())


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(index=st.integers(0, 10_000), wrong=WRONG)
def test_fuzz_exports(index, wrong):
    export = _mutated(EXPORT_SEED, index, wrong, max_depth=4)  # the entities' fields, not the documents'

    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "authorization").mkdir()
        (Path(folder) / "authorization" / "x.json").write_text(json.dumps(export), errors="surrogatepass")
        try:
            data = load_account_data(folder)
        except InputError:
            return
        from iamlogic.accounts import who_can

        who_can(data, "s3:GetObject", "arn:aws:s3:::b/k", {})


ORG_SEED = json.loads((ORG / "organization.json").read_text())


@FUZZ
@given(index=st.integers(0, 10_000), wrong=WRONG)
def test_fuzz_organizations(index, wrong):
    org = _mutated(ORG_SEED, index, wrong)
    with tempfile.TemporaryDirectory() as folder:
        shutil.copytree(ORG / "authorization", Path(folder) / "authorization")
        (Path(folder) / "organization.json").write_text(json.dumps(org), errors="surrogatepass")
        try:
            data = load_account_data(folder)
        except InputError:
            return
        from iamlogic.accounts import who_can

        who_can(data, "iam:CreateUser", "arn:aws:iam::333333333333:user/x", {})


def test_quote_is_short():
    assert quote("x" * 10_000).endswith("(10000 characters)") and len(quote("x" * 10_000)) < 100


def test_the_api_engine_names_the_field_of_a_request_of_the_wrong_types():
    engine = iamlogic.compile({"identity": [ALLOW_GET]})
    assert engine.decide(REQUEST).decision == "allow"
    for bad, field in (({**REQUEST, "principal": ["x"]}, "request.principal"),
                       ({**REQUEST, "context": {1: "x"}}, "request.context")):
        with pytest.raises(ScenarioError) as info:
            engine.decide(bad)
        assert info.value.field == field
