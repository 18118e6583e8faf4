"""Work split into independent, serialisable shards run in worker processes.

A shard names the account-data folder and the principals or roles it is to
decide for; a worker reads the folder itself (pyDatalog's and Z3's state are
per process, and nothing but the shard crosses the process boundary), and
returns plain data: (assumer, role) pairs, or answers as dictionaries. A
runner runs a list of shards and returns their results in shard order:
``process_pool(jobs)`` here, or a Ray cluster's (iamlogic/scale.py), where
the same shards run in actors and a worker reads each folder once.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from .inventory import AccountData, load_account_data


@dataclass(frozen=True)
class EdgeShard:
    folder: str
    roles: tuple[str, ...]
    context: tuple[tuple[str, object], ...] = ()


_DATA: dict[str, AccountData] = {}  # per worker process: the folder read once


def run_edge_shard(shard: EdgeShard) -> list[tuple[str, str]]:
    """The (assumer, role) pairs the kernel allows, for the shard's roles."""
    from .reach import assumption_edges

    return sorted(assumption_edges(_data(shard.folder), dict(shard.context), roles=set(shard.roles)))


def edge_shards(data: AccountData, folder: str | Path, context: dict | None, per_shard: int = 250) -> list[EdgeShard]:
    """Shards of at most ``per_shard`` roles, an account's roles together."""
    roles = sorted((p for p in data.principals.values() if p.kind == "role"), key=lambda p: (p.account, p.arn))
    frozen = tuple(sorted((context or {}).items()))
    return [EdgeShard(str(folder), tuple(p.arn for p in roles[i:i + per_shard]), frozen)
            for i in range(0, len(roles), per_shard)]


# runner(function, shards, progress) -> the results, in shard order.
Runner = Callable[[Callable, list, Callable | None], list]


def process_pool(jobs: int) -> Runner:
    """A runner over ``jobs`` processes of this machine."""
    def run(function: Callable, shards: list, progress=None) -> list:
        results: dict[int, object] = {}
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(function, shard): i for i, shard in enumerate(shards)}
            for done, future in enumerate(as_completed(futures), 1):
                results[futures[future]] = future.result()
                if progress is not None:
                    progress(done, len(shards))
        return [results[i] for i in range(len(shards))]
    return run


def parallel_edges(data: AccountData, folder: str | Path, context: dict | None, jobs: int,
                   progress=None, runner: Runner | None = None) -> set[tuple[str, str]]:
    """Every (assumer, role) edge, shards run by ``runner`` (default: in
    ``jobs`` processes); ``progress(done, total)`` is called as shards finish."""
    shards = edge_shards(data, folder, context)
    edges: set[tuple[str, str]] = set()
    for pairs in (runner or process_pool(jobs))(run_edge_shard, shards, progress):
        edges.update(map(tuple, pairs))
    return edges


@dataclass(frozen=True)
class WhoCanShard:
    folder: str
    principals: tuple[str, ...]
    action: str
    resource: str
    context: tuple[tuple[str, object], ...] = ()
    conditional: bool = False
    timeout_ms: int = 30_000


def _data(folder: str) -> AccountData:
    data = _DATA.get(folder)
    if data is None:
        data = _DATA[folder] = load_account_data(folder)
    return data


def keep(folder: str | Path, data: AccountData) -> None:
    """The folder's data as this process read it: worker processes forked
    after this start with it, rather than reading the folder again."""
    _DATA[str(folder)] = data


def data_of(folder: str) -> AccountData:
    """The folder's data, read once per worker process."""
    return _data(folder)


def run_who_can_shard(shard: WhoCanShard) -> list[dict]:
    from .queries import who_can

    answers = who_can(_data(shard.folder), shard.action, shard.resource, dict(shard.context), shard.conditional,
                      shard.timeout_ms, only=set(shard.principals))
    return [a.to_dict() for a in answers]


def parallel_who_can(data: AccountData, folder: str | Path, action: str, resource: str, context: dict | None,
                     conditional: bool, timeout_ms: int, jobs: int, progress=None,
                     runner: Runner | None = None) -> list[dict]:
    """who_can's answers (as dictionaries) with the data's principals split
    by account into shards run by ``runner`` (default: in ``jobs``
    processes); the callers from elsewhere and the anonymous caller are asked
    here."""
    from .queries import who_can

    by_account: dict[str, list[str]] = {}
    for p in data.principals.values():
        by_account.setdefault(p.account, []).append(p.arn)
    frozen = tuple(sorted((context or {}).items()))
    shards = [WhoCanShard(str(folder), tuple(sorted(arns)), action, resource, frozen, conditional, timeout_ms)
              for _, arns in sorted(by_account.items())]
    results = (runner or process_pool(jobs))(run_who_can_shard, shards, progress)
    answers = [a for result in results for a in result]
    rest = who_can(data, action, resource, context, conditional, timeout_ms, only=set(), others=True)
    return answers + [a.to_dict() for a in rest]


@dataclass(frozen=True)
class WhatCanShard:
    folder: str
    principal: str
    resources: tuple[str, ...]
    context: tuple[tuple[str, object], ...] = ()


def run_what_can_shard(shard: WhatCanShard) -> tuple[list, list]:
    """(resource, action, matched statements as dictionaries) allowed, and
    (resource, action, why) undecided, for the shard's resources."""
    from .queries import what_can

    undecided: list = []
    allowed = what_can(_data(shard.folder), shard.principal, dict(shard.context), undecided,
                       resources=list(shard.resources))
    return [(r, a, [ref.to_dict() for ref in d.matched_statements]) for r, a, d in allowed], undecided


def parallel_what_can(data: AccountData, folder: str | Path, principal: str, context: dict | None,
                      undecided: list, runner: Runner, per_shard: int = 50, progress=None) -> list:
    """what_can's rows, with matched statements as dictionaries, the known
    resources in shards run by ``runner``; undecided rows go to ``undecided``."""
    from .queries import known_resources

    data.principal(principal)  # InputError here, before any worker, when it is not in the data
    resources = known_resources(data)
    frozen = tuple(sorted((context or {}).items()))
    shards = [WhatCanShard(str(folder), principal, tuple(resources[i:i + per_shard]), frozen)
              for i in range(0, len(resources), per_shard)]
    allowed = []
    for rows, unknown in runner(run_what_can_shard, shards, progress):
        allowed.extend(tuple(row) for row in rows)
        undecided.extend(tuple(row) for row in unknown)
    return allowed
