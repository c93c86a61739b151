"""`make test`: the whole suite; with PostgreSQL configured, its two halves side by side.

The SQLite half (with every test that needs no database) and the PostgreSQL half run as two
pytest processes at once, one per core, each with its own temp directory; each half's output
is printed whole when both have ended, and the run fails if either half does.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".pytest-tmp"


PROGRESS_EVERY = 30.0


def _progress(backend: str, log: IO[str]) -> str:
    """The half's newest pytest percentage, read from its log file (not its handle)."""
    text = Path(log.name).read_text(encoding="utf-8", errors="replace")
    marks = re.findall(r"\[\s*(\d+)%\]", text[-4000:])
    return f"{backend} {marks[-1] + '%' if marks else 'starting'}"


def main(args: list[str]) -> int:
    pytest = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"]
    if not os.environ.get("KIZUNA_TEST_DATABASE_URL"):
        return subprocess.call([*pytest, *args], cwd=ROOT)
    WORK.mkdir(exist_ok=True)
    runs = []
    for backend in ("sqlite", "postgresql"):
        log = (WORK / f"{backend}.log").open("w+", encoding="utf-8")
        command = [*pytest, f"--backend={backend}", f"--basetemp={WORK / backend}", *args]
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},  # the log is current for _progress
        )
        runs.append((backend, process, log))
    # Each half's output comes whole at the end; meanwhile a line of progress every 30 s
    # (pytest's "[ 42%]" per file), so a CI log shows the run is alive and where it is.
    said = time.monotonic()
    while any(process.poll() is None for _, process, _ in runs):
        time.sleep(1)
        if time.monotonic() - said >= PROGRESS_EVERY:
            said = time.monotonic()
            print(" · ".join(_progress(backend, log) for backend, _, log in runs), flush=True)
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
