"""`make test`: the whole suite; with PostgreSQL configured, its two halves side by side.

The SQLite half (with every test that needs no database) and the PostgreSQL half run as two
pytest processes at once, one per core, each with its own temp directory; each half's output
is printed whole when both have ended, and the run fails if either half does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".pytest-tmp"


def main(args: list[str]) -> int:
    pytest = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"]
    if not os.environ.get("KIZUNA_TEST_DATABASE_URL"):
        return subprocess.call([*pytest, *args], cwd=ROOT)
    WORK.mkdir(exist_ok=True)
    runs = []
    for backend in ("sqlite", "postgresql"):
        log = (WORK / f"{backend}.log").open("w+", encoding="utf-8")
        command = [*pytest, f"--backend={backend}", f"--basetemp={WORK / backend}", *args]
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        runs.append((backend, process, log))
    status = 0
    for backend, process, log in runs:
        code = process.wait()
        log.seek(0)
        print(f"\n===== {backend} half: exit {code} =====", flush=True)
        sys.stdout.write(log.read())
        log.close()
        status = status or code
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
