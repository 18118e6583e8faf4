"""Every --help ends with one real example, and the example runs: on the
bundled examples/, from the repository's root, with the exit code it gives."""

from __future__ import annotations

import shlex

import pytest

from conftest import ROOT, cli
from iamlogic.cli import app
from iamlogic.help_examples import EXAMPLE_DB, EXAMPLES


@pytest.mark.parametrize("name", sorted(app.commands))
def test_help_ends_with_an_example(capsys, name):
    code, out, _ = cli(capsys, name, "--help")
    assert code == 0
    last = [line for line in out.splitlines() if line.strip()][-1]
    assert last.strip().startswith(f"$ iamlogic {name} "), f"{name} --help ends with {last!r}"


def test_the_group_help_ends_with_an_example(capsys):
    _, out, _ = cli(capsys, "--help")
    assert out.rstrip().splitlines()[-1].strip().startswith("$ iamlogic ")


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_each_example_runs(capsys, monkeypatch, tmp_path, name):
    arguments, expected = EXAMPLES[name]
    monkeypatch.chdir(ROOT)
    argv = [str(tmp_path / "example.db") if a == EXAMPLE_DB else a for a in shlex.split(arguments)]
    assert argv[0] == name
    if expected is None:  # a server: it says where it listens, and stops cleanly when told to
        import signal
        import subprocess
        import sys

        proc = subprocess.Popen([sys.executable, "-m", "iamlogic", *argv], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            assert proc.stdout.readline().startswith("listening on http://127.0.0.1:")
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=60) == 0
        finally:
            proc.kill()
        return
    code, out, err = cli(capsys, *argv)
    assert code == expected, err
    assert out.strip(), "an example shows something"
