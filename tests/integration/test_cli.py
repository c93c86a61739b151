"""The real command line, run as `python -m kizuna …` subprocesses against a SQLite file.

Each subprocess costs about a second, so checks that share a database run as one flow. The
tests are synchronous (subprocess.run blocks); the in-process log-in checks use asyncio.run.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kizuna.config import Config
from kizuna.errors import ValidationError
from kizuna.services.accounts import AccountService
from kizuna.services.media import MediaStore
from kizuna.services.settings import SettingsService
from kizuna.storage.engine import Database

# logging.basicConfig format used by kizuna.cli.main: alembic reports on stderr at INFO.
LOG_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO) \S+: ")
SCHEMA_HINT = "kizuna migrate"


class Cli:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.database_url = f"sqlite+aiosqlite:///{workdir}/cli.db"
        self.media_dir = workdir / "media"
        env = {k: v for k, v in os.environ.items() if not k.startswith("KIZUNA_")}
        env["KIZUNA_DATABASE_URL"] = self.database_url
        env["KIZUNA_MEDIA_DIR"] = str(self.media_dir)
        self.env = env

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "kizuna", *args],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def accounts(self) -> AccountService:
        config = Config(database_url=self.database_url, media_dir=self.media_dir)
        db = Database.from_url(self.database_url)
        media = MediaStore(config.media_dir, max_bytes=config.max_upload_bytes)
        return AccountService(db, config, SettingsService(db), media)


def error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single user-facing line on stderr (log records aside); fails on a traceback."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = [
        line for line in result.stderr.splitlines() if line.strip() and not LOG_RECORD.match(line)
    ]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("kizuna: "), lines[0]
    return lines[0]


PASSWORD_LINE = re.compile(r"^\s*password:\s+(\S+)\s*$", re.MULTILINE)


def printed_password(stdout: str) -> str:
    match = PASSWORD_LINE.search(stdout)
    assert match is not None, stdout
    return match.group(1)


def listed_users(stdout: str) -> dict[str, str]:
    rows = [line.split("\t") for line in stdout.splitlines() if line.strip()]
    assert all(len(row) == 2 for row in rows), stdout
    return {name: role for name, role in rows}


async def assert_can_log_in(cli: Cli, name: str, password: str) -> None:
    accounts = cli.accounts()
    try:
        user = await accounts.authenticate(name, password)
        assert user.account.username == name
        with pytest.raises(ValidationError):
            await accounts.authenticate(name, password + "x")
    finally:
        await accounts.db.dispose()


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


@pytest.fixture
def migrated_cli(cli: Cli, sqlite_template: Path) -> Cli:
    """A CLI whose database is a copy of the migrated template (saves a `migrate` run)."""
    shutil.copyfile(sqlite_template, cli.workdir / "cli.db")
    return cli


def test_user_list_then_migrate__hint_until_schema_exists(cli: Cli) -> None:
    before = cli("user", "list")

    assert before.returncode == 1
    assert SCHEMA_HINT in error_line(before)
    assert before.stdout == ""

    migrated = cli("migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "created the database schema" in migrated.stdout
    assert (cli.workdir / "cli.db").is_file()

    after = cli("user", "list")
    assert after.returncode == 0, after.stderr
    assert after.stdout.strip() == ""


def test_setup_then_setup__admin_password_shown_once(cli: Cli) -> None:
    first = cli("setup")

    assert first.returncode == 0, first.stderr
    assert re.search(r"^\s*user name: admin$", first.stdout, re.MULTILINE), first.stdout
    password = printed_password(first.stdout)
    assert len(password) >= 16
    asyncio.run(assert_can_log_in(cli, "admin", password))

    second = cli("setup")

    assert second.returncode == 0, second.stderr
    assert PASSWORD_LINE.search(second.stdout) is None, second.stdout
    assert password not in second.stdout
    assert "admin account exists" in second.stdout
    asyncio.run(assert_can_log_in(cli, "admin", password))  # the second run changed nothing


def test_user_create_then_list(migrated_cli: Cli) -> None:
    cli = migrated_cli
    setup = cli("setup")
    assert setup.returncode == 0, setup.stderr

    alice = cli("user", "create", "alice", "--password", "s3cretpassword")
    assert alice.returncode == 0, alice.stderr
    assert "alice" in alice.stdout
    assert PASSWORD_LINE.search(alice.stdout) is None  # given on the command line: not echoed
    asyncio.run(assert_can_log_in(cli, "alice", "s3cretpassword"))

    duplicate = cli("user", "create", "ALICE", "--password", "s3cretpassword")
    assert duplicate.returncode == 1
    assert "taken" in error_line(duplicate)

    bad_name = cli("user", "create", "bad!name", "--password", "s3cretpassword")
    assert bad_name.returncode == 1
    assert "user name" in error_line(bad_name)

    bob = cli("user", "create", "bob")
    assert bob.returncode == 0, bob.stderr
    bob_password = printed_password(bob.stdout)
    assert len(bob_password) >= 16
    asyncio.run(assert_can_log_in(cli, "bob", bob_password))

    listing = cli("user", "list")
    assert listing.returncode == 0, listing.stderr
    assert listed_users(listing.stdout) == {"admin": "admin", "alice": "user", "bob": "user"}


def test_user_create_then_password__changes_it(migrated_cli: Cli) -> None:
    cli = migrated_cli
    created = cli("user", "create", "alice", "--password", "s3cretpassword", "--admin")
    assert created.returncode == 0, created.stderr
    assert "admin" in created.stdout

    changed = cli("user", "password", "alice", "--password", "newpassword1")
    assert changed.returncode == 0, changed.stderr
    assert "alice" in changed.stdout
    asyncio.run(assert_can_log_in(cli, "alice", "newpassword1"))

    unknown = cli("user", "password", "nobody", "--password", "newpassword1")
    assert unknown.returncode == 1
    assert "nobody" in error_line(unknown)


def test_cli_config__invalid_toml_is_one_line_error(cli: Cli) -> None:
    (cli.workdir / "bad.toml").write_text("port = \n", encoding="utf-8")

    result = cli("--config", "bad.toml", "user", "list")

    assert result.returncode != 0
    line = error_line(result)
    assert "bad.toml" in line
    assert "TOML" in line
    assert not (cli.workdir / "cli.db").exists()  # failed before touching the database


def test_cli_help__user_and_user_create(cli: Cli) -> None:
    user_help = cli("user", "--help")
    assert user_help.returncode == 0, user_help.stderr
    for action in ("create", "list", "password"):
        assert re.search(rf"^\s+{action}\s+\S", user_help.stdout, re.MULTILINE), action

    create_help = cli("user", "create", "--help")
    assert create_help.returncode == 0, create_help.stderr
    assert create_help.stdout.startswith("usage: kizuna user create")
    assert "--password" in create_help.stdout
    assert "--admin" in create_help.stdout
