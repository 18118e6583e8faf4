"""What an export leaves out, and what YAML makes of a number.

- A page of a paginated AWS CLI output (IsTruncated: true, then Marker) is
  not the account: every command that reads one says so, naming the file —
  an answer about what was not exported cannot be given (IAM API Reference,
  GetAccountAuthorizationDetails: "IsTruncated ... indicates whether there
  are more items to return").
- CloudFormation reads YAML 1.1 and hands scalars on as strings: an
  unquoted `AWS: 123456789012` is the account "123456789012", not a number
  the policy grammar refuses; an unquoted 012345670123 is the octal
  1402433619, as CloudFormation deploys it.
"""

from __future__ import annotations

import json
import shutil

from conftest import ROOT, cli
from test_aws_format import TEMPLATE

ESCALATION = ROOT / "examples" / "escalation"


def truncated_folder(tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(ESCALATION, folder)
    export = next((folder / "authorization").glob("*.json"))
    raw = json.loads(export.read_text())
    raw.update(IsTruncated=True, Marker="page-2")
    export.write_text(json.dumps(raw))
    return folder, export


def test_a_truncated_export_is_said_on_every_command_that_reads_it(tmp_path, capsys):
    folder, export = truncated_folder(tmp_path)
    for args in (["validate", export],
                 ["check-access-not-granted", export, "-a", "s3:GetObject"],
                 ["who-can", "s3:GetObject", "arn:aws:s3:::b/k", "-d", folder],
                 ["what-can", "arn:aws:iam::444444444444:role/Admin", "-d", folder]):
        _, _, err = cli(capsys, *args)
        assert f"warning: {export}: IsTruncated is true" in err, args
    _, _, err = cli(capsys, "who-can", "s3:GetObject", "arn:aws:s3:::b/k", "-d", folder)
    assert "about the entities exported only" in err  # who-can cannot list callers not exported
    export.write_text(json.dumps({**json.loads(export.read_text()), "IsTruncated": False}))
    _, _, err = cli(capsys, "validate", export)
    assert "IsTruncated" not in err  # a whole export: no word


def test_a_truncated_list_output_is_skipped_with_why(tmp_path, capsys):
    page = tmp_path / "roles.json"
    page.write_text(json.dumps({"Roles": [], "IsTruncated": True, "Marker": "m"}))
    _, _, err = cli(capsys, "validate", tmp_path)
    assert f"{page}: skipped: IsTruncated is true" in err


# test_aws_format's role template, its trust policy's principal unquoted.
TRUST = TEMPLATE.replace('"arn:aws:iam::111122223333:root"', "ACCOUNT").replace("ACTIONS", "s3:GetObject")


def test_an_unquoted_account_id_in_yaml_is_read_as_cloudformation_reads_it(tmp_path, capsys):
    template = tmp_path / "t.yaml"
    template.write_text(TRUST.replace("ACCOUNT", "123456789012"))
    code, out, err = cli(capsys, "validate", template)
    assert code == 0 and "DATA_TYPE_MISMATCH" not in out  # it was refused as a number
    code, out, _ = cli(capsys, "check-access-not-granted", template, "-a", "sts:AssumeRole")
    assert code == 2 and "a principal of account 123456789012" in out
    # YAML 1.1 octal: what CloudFormation deploys is account 1402433619, not a 12-digit id
    template.write_text(TRUST.replace("ACCOUNT", "012345670123"))
    code, out, _ = cli(capsys, "validate", template)
    assert "1402433619" in out and code == 2


def test_the_witness_caller_of_an_account_principal_is_the_account(tmp_path, capsys):
    """IAM: a Principal of arn:aws:iam::ACCOUNT:root names the account (its
    root user, and any user or role its identity policies allow), so the
    witness says so, not 'by: ...:root' as if the root user alone."""
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    trust = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole"}
    old.write_text(json.dumps({"Version": "2012-10-17", "Statement": [trust]}))
    new.write_text(json.dumps({"Version": "2012-10-17", "Statement": [{**trust, "Action": ["sts:AssumeRole",
                                                                                          "sts:TagSession"]}]}))
    code, out, _ = cli(capsys, "check-no-new-access", "-t", "trust", "--existing", old, "--new", new)
    assert code == 2 and "witness: sts:TagSession" in out
    assert "by: a principal of account 111122223333 (arn:aws:iam::111122223333:root: the account's root user" in out
