"""The wheel installs in a fresh venv and works from outside the checkout:
every subpackage imports, the grammars load as package data, the command runs,
and no generic top-level name (kernel, grammar, translator, proofs) is shipped."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow

CHECK = r"""
import importlib, importlib.util, json, sys
import iamlogic
for sub in ("grammar", "grammar.source", "translator", "kernel", "kernel.operators", "proofs"):
    importlib.import_module("iamlogic." + sub)
assert "/site-packages/" in iamlogic.__file__, iamlogic.__file__
p = iamlogic.parse_policy('{"Version": "2012-10-17", "Statement": {"Effect": "Allow", '
                          '"Action": "s3:Get*", "Resource": "arn:aws:s3:::b/${aws:username}"}}')
assert p.statements[0].resource[0].span.line == 1          # the Lark grammar loaded
for name in ("kernel", "grammar", "translator", "proofs"):
    spec = importlib.util.find_spec(name)
    assert spec is None or "iamlogic" not in str(spec.origin), name
import iamlogic.scale                                        # the Ray engine imports Ray only when asked
assert "ray" not in sys.modules
print("ok", iamlogic.__version__)
"""


def test_wheel_installs_and_imports_from_outside(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", dist, ROOT],
                   check=True, capture_output=True)
    [wheel] = dist.glob("iamlogic-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    # Only the iamlogic package (and its dist-info) at the top of the wheel.
    assert {n.split("/")[0] for n in names if not n.startswith("iamlogic-")} == {"iamlogic"}
    assert "iamlogic/grammar/policy.lark" in names
    assert "iamlogic/service/operations/users.py" in names   # the service's operations subpackage

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    # Dependencies come from pip's cache after the first install of the checkout.
    subprocess.run([venv / "bin" / "python", "-m", "pip", "install", "--quiet", wheel], check=True,
                   capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = subprocess.run([venv / "bin" / "python", "-c", CHECK], cwd=elsewhere, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ok 0.1.0")
    cli = subprocess.run([venv / "bin" / "iamlogic", "--version"], cwd=elsewhere, capture_output=True, text=True)
    assert cli.returncode == 0 and "0.1.0" in cli.stdout
    # Installed without the ray extra: --engine ray names it, without a traceback.
    (elsewhere / "batch.jsonl").write_text("\n")
    cli = subprocess.run([venv / "bin" / "iamlogic", "simulate", "--batch", "batch.jsonl", "--engine", "ray"],
                         cwd=elsewhere, capture_output=True, text=True)
    assert cli.returncode == 1 and "pip install 'iamlogic[ray]'" in cli.stderr and "Traceback" not in cli.stderr
