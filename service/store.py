"""The store: one SQLite file (the standard library's sqlite3), WAL mode.

Every mutating call is one transaction (``with store.transaction() as db``:
BEGIN IMMEDIATE … COMMIT, rolled back on any error), so what a response
acknowledged is in the file. ``synchronous=NORMAL`` in WAL mode loses
nothing when the process is killed (the committed pages are in the OS's
cache; only a power loss could lose the last transactions); ``--durable``
sets FULL for that too.

Each commit bumps ``meta.generation``; caches of compiled policy sets key on
it, so a second server process on the same file sees every change at its
next request.

Tables (IAM names are unique without case in an account, hence NOCASE):

* accounts(id, email, alias, password_hash, password_policy JSON, created)
* entities(account, kind, name, id, path, arn, created, data JSON) — kind is
  user, group, role, policy, instance_profile, oidc_provider, saml_provider
* policy_versions(account, policy_arn, version, document, is_default, created)
* attachments(account, owner_kind, owner, policy_arn)
* inline_policies(account, owner_kind, owner, name, document)
* members(account, group_name, user_name)
* tags(account, owner_kind, owner, key, value, position)
* access_keys(id, account, user_name — NULL for the root user, secret, status, created)
* profile_roles(account, profile, role)
* org_levels(account, kind — scp or rcp, position — 0 the root, name, documents JSON list of texts): the
  organization levels above an imported account (``account import``)

Other modules add theirs with ``register_schema(sql)`` before the store opens.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)""",
    """CREATE TABLE IF NOT EXISTS accounts (id TEXT PRIMARY KEY, email TEXT, alias TEXT UNIQUE,
        password_hash TEXT, password_policy TEXT, created REAL)""",
    """CREATE TABLE IF NOT EXISTS entities (account TEXT, kind TEXT, name TEXT COLLATE NOCASE, id TEXT,
        path TEXT, arn TEXT, created REAL, data TEXT, PRIMARY KEY (account, kind, name))""",
    """CREATE INDEX IF NOT EXISTS entities_arn ON entities (arn)""",
    """CREATE TABLE IF NOT EXISTS policy_versions (account TEXT, policy_arn TEXT, version TEXT, document TEXT,
        is_default INTEGER, created REAL, PRIMARY KEY (account, policy_arn, version))""",
    """CREATE TABLE IF NOT EXISTS attachments (account TEXT, owner_kind TEXT, owner TEXT COLLATE NOCASE,
        policy_arn TEXT, PRIMARY KEY (account, owner_kind, owner, policy_arn))""",
    """CREATE INDEX IF NOT EXISTS attachments_policy ON attachments (policy_arn)""",
    """CREATE TABLE IF NOT EXISTS inline_policies (account TEXT, owner_kind TEXT, owner TEXT COLLATE NOCASE,
        name TEXT, document TEXT, PRIMARY KEY (account, owner_kind, owner, name))""",
    """CREATE TABLE IF NOT EXISTS members (account TEXT, group_name TEXT COLLATE NOCASE,
        user_name TEXT COLLATE NOCASE, PRIMARY KEY (account, group_name, user_name))""",
    """CREATE INDEX IF NOT EXISTS members_user ON members (account, user_name)""",
    """CREATE TABLE IF NOT EXISTS tags (account TEXT, owner_kind TEXT, owner TEXT COLLATE NOCASE, key TEXT,
        value TEXT, position INTEGER, PRIMARY KEY (account, owner_kind, owner, key))""",
    """CREATE TABLE IF NOT EXISTS access_keys (id TEXT PRIMARY KEY, account TEXT, user_name TEXT COLLATE NOCASE,
        secret TEXT, status TEXT, created REAL)""",
    """CREATE INDEX IF NOT EXISTS access_keys_user ON access_keys (account, user_name)""",
    """CREATE TABLE IF NOT EXISTS profile_roles (account TEXT, profile TEXT COLLATE NOCASE,
        role TEXT COLLATE NOCASE, PRIMARY KEY (account, profile, role))""",
    """CREATE TABLE IF NOT EXISTS org_levels (account TEXT, kind TEXT, position INTEGER, name TEXT, documents TEXT,
        PRIMARY KEY (account, kind, position))""",
]
_EXTRA_SCHEMA: list[str] = []


def register_schema(*statements: str) -> None:
    """Tables another module keeps in the same file (CREATE … IF NOT EXISTS)."""
    _EXTRA_SCHEMA.extend(statements)


class Store:
    """The database file, with one connection per thread."""

    def __init__(self, path: str | Path, durable: bool = False):
        self.path = str(path)
        self.durable = durable
        self._local = threading.local()
        # Reads memoized for one generation (memo); cleared when any process commits.
        self._memo: dict = {}
        self._memo_generation = -1
        db = self.connection()
        with self._lock(db):
            for sql in SCHEMA:
                db.execute(sql)
            db.execute("INSERT OR IGNORE INTO meta VALUES ('generation', '0')")
        self.ensure_schema()

    def ensure_schema(self) -> None:
        """Create the tables other modules registered (the app calls it once
        its operation modules are imported, whenever the store was opened)."""
        db = self.connection()
        with self._lock(db):
            for sql in _EXTRA_SCHEMA:
                db.execute(sql)

    def connection(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"PRAGMA synchronous={'FULL' if self.durable else 'NORMAL'}")
            db.execute("PRAGMA busy_timeout=30000")
            db.execute("PRAGMA foreign_keys=OFF")
            self._local.db = db
        return db

    @contextmanager
    def _lock(self, db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One mutating call: all or nothing, the generation bumped."""
        db = self.connection()
        with self._lock(db):
            db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")
            yield db

    def generation(self) -> int:
        row = self.connection().execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0])

    def fresh(self) -> None:
        """Start of a read-only request: drop the memo if anything committed
        since (by this process or another on the same file)."""
        generation = self.generation()
        if generation != self._memo_generation:
            self._memo = {}
            self._memo_generation = generation

    def memo(self, key: tuple, compute):
        """``compute()``, remembered until the next commit (call ``fresh``
        first). Only read-only requests use it: a mutating call reads in its
        transaction."""
        try:
            return self._memo[key]
        except KeyError:
            if len(self._memo) > 100_000:
                self._memo = {}
            value = self._memo[key] = compute()
            return value

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    # ------------------------------------------------------------ accounts

    def create_account(self, account_id: str, email: str | None, password_hash: str | None,
                       access_key_id: str, secret: str) -> None:
        from .registry import EntityAlreadyExists
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM accounts WHERE id = ?", (account_id,)).fetchone():
                raise EntityAlreadyExists(f"The account {account_id} already exists.")
            db.execute("INSERT INTO accounts VALUES (?, ?, NULL, ?, NULL, ?)",
                       (account_id, email, password_hash, time.time()))
            db.execute("INSERT INTO access_keys VALUES (?, ?, NULL, ?, 'Active', ?)",
                       (access_key_id, account_id, secret, time.time()))

    def account(self, account_id: str) -> sqlite3.Row | None:
        return self.connection().execute("SELECT * FROM accounts WHERE id = ?", (account_id,)).fetchone()

    def access_key(self, access_key_id: str) -> sqlite3.Row | None:
        """The key's row (id, account, user_name, secret, status); None when unknown."""
        return self.connection().execute("SELECT * FROM access_keys WHERE id = ?", (access_key_id,)).fetchone()

    # ------------------------------------------------------------ entities

    def entity(self, account: str, kind: str, name: str, db: sqlite3.Connection | None = None) -> dict | None:
        row = (db or self.connection()).execute(
            "SELECT * FROM entities WHERE account = ? AND kind = ? AND name = ?", (account, kind, name)).fetchone()
        return _entity(row)

    def entity_by_arn(self, arn: str, db: sqlite3.Connection | None = None) -> dict | None:
        row = (db or self.connection()).execute("SELECT * FROM entities WHERE arn = ?", (arn,)).fetchone()
        return _entity(row)


def _entity(row: sqlite3.Row | None) -> dict | None:
    if row is None:
        return None
    out = dict(row)
    out["data"] = json.loads(out["data"] or "{}")
    return out
