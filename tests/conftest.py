"""Shared test helpers: where the external corpora are, and small builders."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# ../shared/corpora beside the checkout; IAMLOGIC_CORPORA overrides.
CORPORA = Path(os.environ.get("IAMLOGIC_CORPORA", ROOT.parent / "shared" / "corpora"))


def corpus_records(name: str) -> list[dict]:
    """The records of one external corpus file, or a skip that says why."""
    path = CORPORA / name
    if not path.is_file():
        pytest.skip(f"external corpus {path} is absent (set IAMLOGIC_CORPORA to its folder)")
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def policy(*statements: dict, version: str | None = "2012-10-17", **extra) -> dict:
    doc: dict = {}
    if version is not None:
        doc["Version"] = version
    doc.update(extra)
    doc["Statement"] = list(statements)
    return doc


def allow(action="s3:GetObject", resource="arn:aws:s3:::bucket/*", **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def cli(capsys, *args) -> tuple[int, str, str]:
    """The CLI in this process: (exit code, stdout, stderr), never a traceback."""
    from iamlogic.cli import main

    with pytest.raises(SystemExit) as info:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "internal error" not in err, err
    return info.value.code, out, err
