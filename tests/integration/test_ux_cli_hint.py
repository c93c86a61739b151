"""`make run` starts `.venv/bin/kizuna setup`; the password hint it prints must be a command
that works when pasted in the same directory (a bare `kizuna` is not on PATH there)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kizuna.invocation import command_name


def _setup(workdir: Path, command: list[str]) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIZUNA_")}
    env["KIZUNA_DATABASE_URL"] = f"sqlite+aiosqlite:///{workdir}/cli.db"
    env["KIZUNA_MEDIA_DIR"] = str(workdir / "media")
    env["PATH"] = "/usr/bin:/bin"  # as after `make run`: no venv on PATH
    done = subprocess.run(
        command, cwd=workdir, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_setup_from_make_run__the_hint_names_the_venv_script(tmp_path: Path) -> None:
    # The venv's console script, where `make run` has it; its shebang is the test's Python.
    script = tmp_path / ".venv" / "bin" / "kizuna"
    script.parent.mkdir(parents=True)
    script.write_text(
        f"#!{sys.executable}\nimport sys\nfrom kizuna.cli import main\nsys.exit(main())\n"
    )
    script.chmod(0o755)
    assert shutil.which("kizuna", path="/usr/bin:/bin") is None
    first = _setup(tmp_path, [".venv/bin/kizuna", "setup"])
    assert "change it with: .venv/bin/kizuna user password admin" in first
    again = _setup(tmp_path, [".venv/bin/kizuna", "setup"])
    assert "reset a password: .venv/bin/kizuna user password NAME" in again


def test_setup_as_a_module__the_hint_names_the_python(tmp_path: Path) -> None:
    out = _setup(tmp_path, [sys.executable, "-m", "kizuna", "setup"])
    assert f"change it with: {sys.executable} -m kizuna user password admin" in out


def test_command_name__on_path_it_is_the_bare_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "kizuna"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    elsewhere = tmp_path / "elsewhere"  # a working directory the script is not below
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert command_name(str(script)) == str(script)  # off PATH: the full path
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    assert command_name(str(script)) == "kizuna"
