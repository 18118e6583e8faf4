"""The example each ``--help`` ends with: one real command line per command,
run on the bundled examples/ from the repository root (the suite runs each
one, tests/test_help_examples.py, and checks its exit code)."""

from __future__ import annotations

import click

# command -> (arguments after "iamlogic", the exit code the example gives)
EXAMPLES: dict[str, tuple[str, int | None]] = {
    "validate": ("validate examples/policies/identity/broken.json", 2),
    "simulate": ("simulate --explain examples/scenarios/scp-blocks-admin.json", 0),
    "actions": ("actions 's3:GetObjectT*'", 0),
    "check-no-new-access": ("check-no-new-access --existing examples/refactor/before.json "
                            "--new examples/refactor/after-widened.json", 2),
    "equivalent": ("equivalent examples/refactor/before.json examples/refactor/after-safe.json", 0),
    "check-access-not-granted": ("check-access-not-granted examples/refactor/before.json --actions s3:GetObject "
                                 "--resources 'arn:aws:s3:::reports-bucket/secret/*'", 0),
    "check-no-public-access": ("check-no-public-access examples/policies/resource/website-bucket.json "
                               "--resource-type AWS::S3::Bucket", 2),
    "can-be-allowed": ("can-be-allowed examples/questions/sandbox-admin-iam.json", 0),
    "who-can": ("who-can kms:Decrypt arn:aws:kms:eu-west-1:222222222222:key/prod-data-key "
                "--account-data examples/organization", 0),
    "what-can": ("what-can arn:aws:iam::222222222222:role/AppServer --account-data examples/organization", 0),
    "reach": ("reach arn:aws:iam::111111111111:user/bob --account-data examples/organization", 0),
    "organization-from-cli": ("organization-from-cli examples/organization-cli", 0),
    "check-changes": ("check-changes --base HEAD examples/refactor/before.json", 0),
    "privesc": ("privesc arn:aws:iam::444444444444:user/m-attachrolepolicy --account-data examples/escalation", 2),
    "account": ("account import --db /tmp/iamlogic-example.db examples/organization", 0),
    # Serves until stopped: the suite starts it, waits for its "listening on" line and stops it.
    "serve": ("serve --db /tmp/iamlogic-example.db --port 0", None),
}
# The database the service examples name; the suite gives them one of its own.
EXAMPLE_DB = "/tmp/iamlogic-example.db"
GROUP_EXAMPLE = "validate examples/policies/identity/broken.json"


def epilog(arguments: str) -> str:
    # \b keeps click from re-wrapping the line.
    return f"\b\nExample (from the repository's root):\n  $ iamlogic {arguments}"


def add_examples(group: click.Group) -> None:
    """Give each command of ``group`` its example; a command without one
    keeps its help as it is (tests/test_help_examples.py fails on it)."""
    group.epilog = epilog(GROUP_EXAMPLE)
    for name, command in group.commands.items():
        if name in EXAMPLES and not command.epilog:
            command.epilog = epilog(EXAMPLES[name][0])
