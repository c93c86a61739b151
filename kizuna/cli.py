"""Command line: kizuna [--config FILE] {serve,setup,migrate,user} …"""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from aiohttp import web

from kizuna import __version__
from kizuna.app import create_app, http_session
from kizuna.config import Config, load_config
from kizuna.container import Services
from kizuna.errors import ConfigError, KizunaError
from kizuna.invocation import command_name
from kizuna.lab import run_lab
from kizuna.passwords import generate_password
from kizuna.process_tuning import freeze_startup_objects, limit_malloc_arenas
from kizuna.server.access_log import KizunaAccessLogger
from kizuna.server.connections import guard_connections
from kizuna.storage.engine import Database, DatabaseError, migrate, pending_migrations
from kizuna.storage.states import Role


class CliError(Exception):
    """A one-line message for the user; exit status 1."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kizuna", description="Kizuna, a federated social server."
    )
    parser.add_argument("--version", action="version", version=f"kizuna {__version__}")
    parser.add_argument("--config", metavar="FILE", help="TOML file with settings")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("serve", help="run the web server")
    sub.add_parser("worker", help="deliver and process activities (beside serve, any number)")
    sub.add_parser("migrate", help="create or upgrade the database schema")
    sub.add_parser("setup", help="migrate, then create an admin account if there is none")
    lab = sub.add_parser("lab", help="run several federating instances on this machine")
    lab.add_argument("--instances", type=int, default=2, choices=range(2, 9), metavar="N")
    lab.add_argument("--first-port", type=int, default=8081)
    lab.add_argument("--dir", default=".lab", help="where the lab keeps databases and logs")
    user = sub.add_parser("user", help="manage local accounts")
    user_sub = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    create = user_sub.add_parser("create", help="create a local account")
    create.add_argument("name")
    create.add_argument("--password", help="password (generated and printed when omitted)")
    create.add_argument("--admin", action="store_true", help="give the account the admin role")
    user_sub.add_parser("list", help="list local accounts")
    password = user_sub.add_parser("password", help="set a new password for an account")
    password.add_argument("name")
    password.add_argument("--password", help="new password (generated and printed when omitted)")
    return parser


async def _with_services(config: Config, job: Callable[[Services], Awaitable[int]]) -> int:
    db = Database.from_url(config.database_url)
    try:
        async with http_session(config) as http:
            return await job(Services.build(config, db, http))
    finally:
        await db.dispose()


async def _migrate(svc: Services) -> int:
    before, after = await migrate(svc.db.engine)
    where = svc.config.database_url
    if before == after:
        print(f"database is up to date (revision {after}; {where})")
    elif before is None:
        print(f"created the database schema (revision {after}) in {where}")
    else:
        print(f"upgraded the database schema from revision {before} to {after} ({where})")
    return 0


async def _setup(svc: Services) -> int:
    await _migrate(svc)
    created = await svc.accounts.ensure_admin()
    if created is None:
        hint = f"{command_name()} user password NAME"
        print(f"an admin account exists already (reset a password: {hint})")
    else:
        name, password = created
        print(f"created the admin account\n  user name: {name}\n  password:  {password}")
        print(f"this password is shown once; change it with: {command_name()} user password {name}")
    return 0


async def _worker(svc: Services) -> int:
    await _require_schema(svc)
    await svc.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    print("kizuna worker: delivering and processing activities (Ctrl+C stops)", flush=True)
    await asyncio.gather(svc.run_workers(stop), svc.run_live(stop))
    return 0


async def _require_schema(svc: Services) -> None:
    if await pending_migrations(svc.db.engine):
        raise CliError("the database schema is missing or old: run `kizuna migrate` first")


async def _user_create(svc: Services, args: argparse.Namespace) -> int:
    await _require_schema(svc)
    password = args.password or generate_password()
    role = Role.ADMIN if args.admin else Role.USER
    user = await svc.accounts.create_user(args.name, password, role=role)
    print(f"created @{user.account.username} ({role})")
    if not args.password:
        print(f"  password: {password}")
    return 0


async def _user_list(svc: Services) -> int:
    await _require_schema(svc)
    for user in await svc.accounts.list_users():
        state = "" if user.approved else " (awaiting approval)"
        print(f"{user.account.username}\t{user.role}{state}")
    return 0


async def _user_password(svc: Services, args: argparse.Namespace) -> int:
    await _require_schema(svc)
    password = args.password or generate_password()
    name = await svc.accounts.set_password(args.name, password)
    print(f"password changed for @{name}")
    if not args.password:
        print(f"  password: {password}")
    return 0


def _serve(config: Config) -> int:
    async def check() -> None:
        db = Database.from_url(config.database_url)
        try:
            if await pending_migrations(db.engine):
                raise CliError("the database schema is missing or old: run `kizuna migrate`")
        finally:
            await db.dispose()

    asyncio.run(check())
    limit_malloc_arenas()
    asyncio.run(_run_server(config))
    return 0


async def _run_server(config: Config) -> None:
    """Serves until SIGINT/SIGTERM; says "listening" only once the port is bound."""
    app = create_app(config)
    app.on_startup.append(freeze_startup_objects)
    runner = web.AppRunner(app, handle_signals=False, access_log_class=KizunaAccessLogger)
    await runner.setup()
    try:
        guard_connections(runner)
        try:
            await web.TCPSite(runner, config.host, config.port).start()
        except OSError as exc:
            raise CliError(_bind_error(config, exc)) from None
        host = f"[{config.host}]" if ":" in config.host else config.host
        print(
            f"Kizuna {__version__} for {config.base_url} listening on http://{host}:{config.port}\n"
            f"Open {config.base_url} in a browser and log in (the admin password was printed by "
            f"`{command_name()} setup`; `{command_name()} user password admin` sets a new one). "
            "Ctrl+C stops.",
            flush=True,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()


def _bind_error(config: Config, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return f"port {config.port} on {config.host} is already in use"
    if exc.errno == errno.EACCES:
        return f"no permission to listen on port {config.port} on {config.host}"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"{config.host} is not an address of this machine (KIZUNA_HOST)"
    return f"cannot listen on port {config.port} on {config.host}: {exc.strerror or exc}"


def run(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    config = load_config(args.config)
    if args.command == "serve":
        return _serve(config)
    if args.command == "lab":
        return run_lab(args.instances, args.first_port, Path(args.dir).resolve())
    jobs: dict[str, Callable[[Services], Awaitable[int]]] = {
        "migrate": _migrate,
        "setup": _setup,
        "worker": _worker,
    }
    if args.command == "user":
        jobs = {
            "create": lambda svc: _user_create(svc, args),
            "list": _user_list,
            "password": lambda svc: _user_password(svc, args),
        }
        return asyncio.run(_with_services(config, jobs[args.user_command]))
    return asyncio.run(_with_services(config, jobs[args.command]))


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)  # our own line says what happened
    try:
        return run(argv)
    except ConfigError as exc:
        print(f"kizuna: configuration error: {exc}", file=sys.stderr)
        return 2
    except (KizunaError, CliError) as exc:
        print(f"kizuna: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"kizuna: error: {exc}", file=sys.stderr)
        return 1
    except DatabaseError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"kizuna: database error: {first_line}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
