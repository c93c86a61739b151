"""How to run this program again, as the person at the terminal would type it: the hints we
print ("change it with: … user password admin") must work when pasted. `make run` starts
`.venv/bin/kizuna`, which is not on PATH, so a bare `kizuna` there is "command not found"."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path


def command_name(argv0: str | None = None, executable: str | None = None) -> str:
    """`kizuna` when that is what PATH finds, else the script's path as typed from here
    (`.venv/bin/kizuna`), else `<python> -m kizuna` (for `python -m kizuna`)."""
    script = Path(argv0 if argv0 is not None else sys.argv[0])
    if script.name == "kizuna":
        found = shutil.which("kizuna")
        if found is not None and Path(found).resolve() == script.resolve():
            return "kizuna"
        return _as_typed(script)
    return f"{_as_typed(Path(executable or sys.executable))} -m kizuna"


def _as_typed(path: Path) -> str:
    """A path relative to the working directory when it lies below it, else absolute;
    quoted for a POSIX shell."""
    absolute = path.absolute()
    try:
        relative = absolute.relative_to(Path.cwd())
    except ValueError:
        return shlex.quote(os.fspath(absolute))
    return shlex.quote(os.fspath(relative) if relative.parent != Path() else f"./{relative}")
