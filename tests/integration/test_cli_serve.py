"""`kizuna setup`/`migrate` say what they did; `kizuna serve` says "listening" only once it
listens, refuses a taken port in one line, and guards its connections like the test lab."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from kizuna.storage.engine import Database, migrate
from tests.integration.test_cli import Cli, error_line

BOUND = 60.0  # seconds a subprocess gets to do its part before the test fails


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


def test_setup_on_a_new_database_says_it_created_the_schema(cli: Cli) -> None:
    first = cli("setup")
    assert first.returncode == 0, first.stderr
    assert re.search(r"created the database schema \(revision \w+\)", first.stdout), first.stdout
    assert "up to date" not in first.stdout

    again = cli("migrate")
    assert again.returncode == 0, again.stderr
    assert "database is up to date" in again.stdout
    assert "created" not in again.stdout


def test_migrate_from_an_old_revision_says_it_upgraded(cli: Cli) -> None:
    asyncio.run(_migrate_to(cli.database_url, "0001"))

    upgraded = cli("migrate")

    assert upgraded.returncode == 0, upgraded.stderr
    assert re.search(r"upgraded the database schema from revision 0001 to \w+", upgraded.stdout)


async def _migrate_to(url: str, revision: str) -> None:
    db = Database.from_url(url)
    try:
        await migrate(db.engine, revision)
    finally:
        await db.dispose()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_serve_on_a_taken_port__one_line_error_and_no_listening(
    cli: Cli, sqlite_template: Path
) -> None:
    (cli.workdir / "cli.db").write_bytes(sqlite_template.read_bytes())
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cli.env["KIZUNA_PORT"] = str(port)
        result = cli("serve")

    assert result.returncode != 0
    assert error_line(result) == f"kizuna: error: port {port} on 127.0.0.1 is already in use"
    assert "listening" not in result.stdout


@contextmanager
def serving(
    cli: Cli, template: Path, **settings: str
) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """A real `kizuna serve` with these KIZUNA_ settings, once it says it is listening."""
    (cli.workdir / "cli.db").write_bytes(template.read_bytes())
    port = _free_port()
    env = {**cli.env, "KIZUNA_PORT": str(port)}
    env.update({f"KIZUNA_{name.upper()}": value for name, value in settings.items()})
    process = subprocess.Popen(
        [sys.executable, "-m", "kizuna", "serve"],
        cwd=cli.workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # blocks until the server prints or exits
        assert f"listening on http://127.0.0.1:{port}" in first, first
        yield process, port
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        process.communicate(timeout=BOUND)


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=BOUND)


def _request(port: int) -> bytes:
    with _connect(port) as conn:
        return _send_request(conn)


def _send_request(conn: socket.socket) -> bytes:
    conn.sendall(b"GET /login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    return _read_all(conn)


def _read_all(conn: socket.socket) -> bytes:
    data = b""
    while chunk := conn.recv(65536):
        data += chunk
    return data


def test_serve__slow_head_closed_requests_served_sigterm_stops(
    cli: Cli, sqlite_template: Path
) -> None:
    with serving(cli, sqlite_template, header_timeout="0.5") as (process, port):
        assert _request(port).startswith(b"HTTP/1.1 200")
        with _connect(port) as slow:
            slow.sendall(b"GET /login HTTP/1.1\r\nHost: local")  # and never the rest
            assert _read_all(slow) == b""  # closed without an answer
        assert _request(port).startswith(b"HTTP/1.1 200")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=BOUND) == 0


def test_serve__idle_connections_over_the_limit_closed_longest_idle_first(
    cli: Cli, sqlite_template: Path
) -> None:
    settings = {"header_timeout": "60", "idle_connections_per_ip": "2"}
    with serving(cli, sqlite_template, **settings) as (process, port):
        first, second, third = (_connect(port) for _ in range(3))
        with first, second, third:
            assert _read_all(first) == b""  # the longest idle, closed
            assert _send_request(second).startswith(b"HTTP/1.1 200")
            assert _send_request(third).startswith(b"HTTP/1.1 200")
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=BOUND) == 0
