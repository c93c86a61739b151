"""What the domain policy costs each inbox request, next to the signature check it precedes.

Every inbox POST and signed GET asks the policy snapshot about the sender's host before its
signature is verified. This measures that question (`decide`, and the awaited `refusal` the
federation client asks) with 0, 1,000, 10,000 and 100,000 rules loaded from a real SQLite file,
plus the cost of one reload, next to the raw RSA-2048 verify rate measured in the same run.
Nothing asserts; it prints a table and writes bench/results/domain_policy.json.

    python bench/domain_policy.py [--seconds 1] [--rules 0,1000,10000,100000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from sqlalchemy import insert

from kizuna.federation.policy import FederationPolicy
from kizuna.storage import domain_policies
from kizuna.storage.engine import Database, migrate
from kizuna.storage.models import DomainPolicy

RESULTS = Path(__file__).parent / "results"


def verify_rate(seconds: float) -> float:
    """RSA-2048 PKCS#1 v1.5 SHA-256 verifies per second, one process (the inbox's ceiling)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    message = b"(request-target): post /inbox\nhost: a.test\ndate: x\ndigest: y\n"
    signature = key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    public, pkcs1, sha256 = key.public_key(), padding.PKCS1v15(), hashes.SHA256()
    count, began = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - began) < seconds:
        for _ in range(50):
            public.verify(signature, message, pkcs1, sha256)
        count += 50
    return count / elapsed


async def measure(rules: int, seconds: float, workdir: Path) -> dict[str, float]:
    db = Database.from_url(f"sqlite+aiosqlite:///{workdir}/policy-{rules}.db")
    await migrate(db.engine)
    now = datetime.now(UTC)
    rows = [
        {
            "domain": f"blocked-{n}.example",
            "severity": "suspend" if n % 3 else "silence",
            "reject_media": False,
            "reject_reports": False,
            "public_comment": "",
            "private_comment": "",
            "obfuscate": False,
            "created_at": now,
            "updated_at": now,
        }
        for n in range(rules)
    ]
    async with db.begin() as session:
        for start in range(0, len(rows), 5000):
            await session.execute(insert(DomainPolicy), rows[start : start + 5000])
        await domain_policies.bump_version(session)
    policy = FederationPolicy(db)
    began = time.perf_counter()
    await policy.reload()
    reload_ms = (time.perf_counter() - began) * 1000
    # A deep host that walks every suffix and matches nothing: the worst case per request.
    hosts = ["social.deep.sub.friendly.example", "blocked-7.example", "mastodon.social"]
    count, began = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - began) < seconds:
        for host in hosts * 100:
            policy.decide(host)
        count += len(hosts) * 100
    decide_rate = count / elapsed
    count, began = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - began) < seconds:
        for host in hosts * 100:
            await policy.refusal(host)
        count += len(hosts) * 100
    refusal_rate = count / elapsed
    await db.dispose()
    return {
        "rules": rules,
        "decide_per_s": decide_rate,
        "refusal_per_s": refusal_rate,
        "reload_ms": reload_ms,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--rules", default="0,1000,10000,100000")
    args = parser.parse_args()
    ceiling = verify_rate(args.seconds)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for rules in (int(r) for r in args.rules.split(",")):
            results.append(await measure(rules, args.seconds, Path(tmp)))
    print(f"ceiling: RSA-2048 verify {ceiling:,.0f}/s (one process) = {1e6 / ceiling:.1f} µs each")
    print(
        f"{'rules':>8} {'decide/s':>12} {'µs':>6} {'% of a verify':>14} "
        f"{'refusal/s':>12} {'reload ms':>10}"
    )
    for r in results:
        share = 100 * ceiling / r["refusal_per_s"]
        print(
            f"{r['rules']:>8,} {r['decide_per_s']:>12,.0f} {1e6 / r['decide_per_s']:>6.2f} "
            f"{share:>13.2f}% {r['refusal_per_s']:>12,.0f} {r['reload_ms']:>10.1f}"
        )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "domain_policy.json").write_text(
        json.dumps({"verify_per_s": ceiling, "runs": results}, indent=2)
    )


if __name__ == "__main__":
    asyncio.run(main())
