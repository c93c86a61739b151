"""Real RSA-2048 key pairs for tests, generated once and kept on disk.

A new local actor's key pair costs ~0.1 s of CPU, and the suite makes thousands of actors.
Each test gets its own `PooledKeys` (Config.key_source), which hands out the pool's pairs in
order: distinct for every actor of every instance in that test, and the same pairs again in
the next test. That is safe because each test has its own databases, and nothing outside
them remembers a key (the only cache, of parsed signature headers, is keyed by content).
"""

from __future__ import annotations

import fcntl
import itertools
import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from kizuna.keys import KeyPair, generate_rsa_keypair

POOL_SIZE = 64  # more than any one test makes; past it, PooledKeys generates fresh pairs


def load_pool(path: Path) -> tuple[KeyPair, ...]:
    """The pairs kept at `path`, generated first (on every core) if missing. Processes that
    start together (xdist workers, both halves of run_suite) wait for one to write it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            stored = json.loads(path.read_text(encoding="ascii"))
        except (OSError, ValueError):
            stored = []
        if len(stored) < POOL_SIZE:
            # spawn, not fork: forking a process that may already run threads is unsafe.
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(os.cpu_count(), mp_context=context) as workers:
                pairs = list(workers.map(generate_rsa_keypair, [2048] * POOL_SIZE))
            stored = [[pair.public_pem, pair.private_pem] for pair in pairs]
            partial = path.with_name(path.name + ".partial")
            partial.write_text(json.dumps(stored), encoding="ascii")
            partial.replace(path)
    return tuple(KeyPair(public_pem=public, private_pem=private) for public, private in stored)


class PooledKeys:
    """One test's key source: the pool in order, then fresh pairs."""

    def __init__(self, pool: tuple[KeyPair, ...]) -> None:
        self.pool = pool
        self.handed = itertools.count()  # next() is atomic: actors may be made in threads

    def __call__(self) -> KeyPair:
        index = next(self.handed)
        return self.pool[index] if index < len(self.pool) else generate_rsa_keypair()
