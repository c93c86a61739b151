"""`kizuna lab`: several instances on one machine that federate with each other.

Each instance is a real `kizuna serve` process with its own SQLite database; a static host map
(KIZUNA_FEDERATION_HOSTS) sends requests for a.test, b.test… to 127.0.0.1:PORT over plain
HTTP while ids keep https://a.test/… .
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

LAB_USERS = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi")
LAB_PASSWORD = "lab-password"


@dataclass(frozen=True, slots=True, kw_only=True)
class LabInstance:
    domain: str
    port: int
    user: str

    @property
    def local_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def plan(count: int, first_port: int) -> list[LabInstance]:
    letters = "abcdefgh"
    return [
        LabInstance(domain=f"{letters[i]}.test", port=first_port + i, user=LAB_USERS[i])
        for i in range(count)
    ]


def _env(instance: LabInstance, host_map: str, workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIZUNA_")}
    env.update(
        KIZUNA_DOMAIN=instance.domain,
        KIZUNA_HOST="127.0.0.1",
        KIZUNA_PORT=str(instance.port),
        KIZUNA_DATABASE_URL=f"sqlite+aiosqlite:///{workdir / instance.domain}.db",
        KIZUNA_MEDIA_DIR=str(workdir / f"{instance.domain}-media"),
        KIZUNA_FEDERATION_HOSTS=host_map,
        KIZUNA_ALLOW_PRIVATE_ADDRESSES="1",
    )
    return env


def _kizuna(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kizuna", *args], env=env, capture_output=True, text=True
    )


def run_lab(count: int, first_port: int, workdir: Path) -> int:
    instances = plan(count, first_port)
    host_map = ",".join(f"{i.domain}=127.0.0.1:{i.port}" for i in instances)
    workdir.mkdir(parents=True, exist_ok=True)
    processes: list[subprocess.Popen[bytes]] = []
    logs = ExitStack()
    try:
        for instance in instances:
            env = _env(instance, host_map, workdir)
            migrated = _kizuna("migrate", env=env)
            if migrated.returncode != 0:
                print(migrated.stderr.strip(), file=sys.stderr)
                return 1
            # Ignore "already taken" on a second run: the lab keeps its databases.
            _kizuna("user", "create", instance.user, "--password", LAB_PASSWORD, env=env)
            log = logs.enter_context(open(workdir / f"{instance.domain}.log", "ab"))
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "kizuna", "serve"], env=env, stdout=log, stderr=log
                )
            )
        print(f"Federation lab (Ctrl+C stops; data and logs in {workdir}):")
        for instance in instances:
            print(
                f"  https://{instance.domain}  →  {instance.local_url}   "
                f"log in as {instance.user} / {LAB_PASSWORD}   "
                f"(others find @{instance.user}@{instance.domain})"
            )
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
        print("an instance stopped; see its log in", workdir, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)
        logs.close()
