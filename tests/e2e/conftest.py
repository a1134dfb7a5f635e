"""Shared fixtures for end-to-end tests: the built jotgate binary and a way to run it."""
import os
import subprocess
import pathlib

import pytest

JOTGATE_BIN = os.environ.get("JOTGATE_BIN", str(pathlib.Path(__file__).resolve().parents[2] / "build/debug/src/cli/jotgate"))
TEST_DATA = pathlib.Path(os.environ.get("JOTGATE_TEST_DATA", pathlib.Path(__file__).resolve().parents[1] / "data"))


def run_jotgate(*args, input=None, timeout=60, cwd=None, env=None):
    """Runs `jotgate ARGS...` and returns the CompletedProcess (text mode); `env`: the whole
    environment (default: this one's)."""
    return subprocess.run([JOTGATE_BIN, *map(str, args)], input=input, capture_output=True,
                          text=True, timeout=timeout, cwd=cwd, env=env)


@pytest.fixture
def jotgate():
    return run_jotgate


@pytest.fixture
def test_data():
    return TEST_DATA
