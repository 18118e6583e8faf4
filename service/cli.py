"""``iamlogic serve`` and ``iamlogic account create|import``.

The heavy imports (Starlette, uvicorn, botocore) happen inside the commands,
so the rest of the CLI starts as fast as before.
"""

from __future__ import annotations

import json
import re
import secrets
import signal
import socket


import click

DEFAULT_DB = "./iamlogic.db"


def open_store(db_path: str, durable: bool = False):
    """The store, or a one-line error naming the file (never a traceback)."""
    import sqlite3  # noqa: PLC0415

    from .store import Store  # noqa: PLC0415
    try:
        return Store(db_path, durable=durable)
    except sqlite3.Error as e:
        raise click.ClickException(f"{db_path}: cannot open the database ({e})") from None


@click.command("serve")
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True, help="The SQLite database file.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535),
              help="0 picks a free port (the line printed names it).")
@click.option("--decision-log", default=None, metavar="PATH",
              help="Append every authorization decision, with its derivation, as JSON lines.")
@click.option("--durable", is_flag=True, help="fsync every commit (survives power loss, not only a kill).")
def serve(db_path: str, host: str, port: int, decision_log: str | None, durable: bool) -> None:
    """Serve IAM and STS over HTTP (the AWS Query protocol) on one endpoint."""
    try:
        import uvicorn  # noqa: PLC0415

        from .app import create_app  # noqa: PLC0415
    except ImportError as e:
        from ..errors import UsageError  # noqa: PLC0415
        raise UsageError(f"iamlogic serve needs {e.name}: pip install 'iamlogic[service]'") from None

    store = open_store(db_path, durable)
    app = create_app(store, decision_log=decision_log)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY on accepted connections only
    # then; without it each response waited on the client's delayed ACK (~40 ms).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        raise click.ClickException(f"cannot listen on {host}:{port}: {e.strerror}") from None
    sock.listen(2048)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    # uvicorn installs its own SIGTERM/SIGINT handlers while it runs: it stops
    # accepting, finishes the requests in flight and returns, then raises the
    # signal again for the handlers it found. Those are these, which only
    # note the signal, so a stop by signal closes the store and exits 0 (a
    # clean stop) — and one that comes before uvicorn's handlers are in
    # place (while it starts) still stops it once it has started.
    stopping: list[int] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda number, _: stopping.append(number))

    class Server(uvicorn.Server):
        async def startup(self, sockets=None) -> None:
            await super().startup(sockets=sockets)
            if stopping:
                self.should_exit = True
            # Ready: uvicorn's handlers are in place and the socket accepts.
            print(f"listening on http://{shown}:{bound}", flush=True)

    server = Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    server.run(sockets=[sock])
    app.state.log.close()
    store.close()


@click.group("account")
def account() -> None:
    """Accounts held by the server's database."""


@account.command("create")
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True)
@click.option("--account-id", default=None, help="12 digits (default: random).")
@click.option("--email", default=None, help="The root user's email (console sign-in).")
@click.option("--password", default=None, help="The root user's password (console sign-in).")
@click.option("--access-key-id", default=None, help="The root user's access key id (fixtures and tests).")
@click.option("--secret-access-key", default=None, help="Its secret (fixtures and tests).")
def account_create(db_path: str, account_id: str | None, email: str | None, password: str | None,
                   access_key_id: str | None, secret_access_key: str | None) -> None:
    """Create an account and its root user; print its id and the root access key once."""
    from .operations.common import new_id  # noqa: PLC0415
    from .operations.keys import new_secret  # noqa: PLC0415
    from .registry import ServiceError  # noqa: PLC0415

    if account_id is None:
        account_id = str(secrets.randbelow(9 * 10**11) + 10**11)
    if not re.fullmatch(r"\d{12}", account_id):
        raise click.BadParameter(f"{account_id!r} is not 12 digits", param_hint="--account-id")
    if (access_key_id is None) != (secret_access_key is None):
        raise click.UsageError("--access-key-id and --secret-access-key go together")
    if access_key_id is not None and not re.fullmatch(r"[A-Z0-9]{16,128}", access_key_id):
        raise click.BadParameter("16 to 128 upper-case letters and digits", param_hint="--access-key-id")
    password_hash = None
    if password is not None:
        from .passwords import hash_password  # noqa: PLC0415
        password_hash = hash_password(password)
    key_id = access_key_id or new_id("access_key")
    secret = secret_access_key or new_secret()
    store = open_store(db_path)
    try:
        store.create_account(account_id, email, password_hash, key_id, secret)
    except ServiceError as e:
        raise click.ClickException(e.message) from None
    finally:
        store.close()
    click.echo(json.dumps({"AccountId": account_id, "AccessKey": {"AccessKeyId": key_id,
                                                                  "SecretAccessKey": secret}}))


@account.command("import")
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True)
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
def account_import(db_path: str, folder: str) -> None:
    """Load an --account-data folder (exports, organization.json) as accounts."""
    from .importer import import_folder  # noqa: PLC0415

    store = open_store(db_path)
    try:
        summary = import_folder(store, folder)
    finally:
        store.close()
    click.echo(json.dumps(summary))


