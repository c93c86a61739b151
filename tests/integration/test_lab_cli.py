"""`kizuna lab` as an admin would run it: real processes that find each other's users."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import sys
from pathlib import Path

import aiohttp

CSRF_RE = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def _two_free_ports() -> int:
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
                return port
    raise RuntimeError("no two consecutive free ports")


async def _wait_ready(http: aiohttp.ClientSession, url: str) -> None:
    for _ in range(200):
        try:
            async with http.get(url) as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"{url} never answered")


async def test_lab_then_a_finds_bob_on_b(tmp_path: Path) -> None:
    port = _two_free_ports()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "kizuna",
        "lab",
        "--first-port",
        str(port),
        "--dir",
        str(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    a, b = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port + 1}"
    try:
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            await _wait_ready(http, f"{a}/.well-known/nodeinfo")
            await _wait_ready(http, f"{b}/.well-known/nodeinfo")
            login_page = await (await http.get(f"{a}/login")).text()
            match = CSRF_RE.search(login_page)
            assert match
            form = {"csrf_token": match.group(1), "username": "alice", "password": "lab-password"}
            response = await http.post(f"{a}/login", data=form, allow_redirects=False)
            assert response.status == 303
            response = await http.get(
                f"{a}/search", params={"q": "@bob@b.test"}, allow_redirects=False
            )
            assert response.status == 303, await response.text()
            assert response.headers["Location"] == "/@bob@b.test"
            async with http.get(
                f"{b}/users/bob", headers={"Accept": "application/activity+json"}
            ) as r:
                actor = await r.json(content_type=None)
            assert actor["id"] == "https://b.test/users/bob"  # no port in ids
    finally:
        process.send_signal(signal.SIGINT)
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, stderr.decode()
    banner = stdout.decode()
    assert f"https://a.test  →  {a}" in banner
    assert "log in as bob / lab-password" in banner
