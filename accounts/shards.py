"""Work split into independent, serialisable shards run in worker processes.

A shard names the account-data folder and the roles whose assumers it is to
decide; a worker reads the folder itself (pyDatalog's and Z3's state are per
process, and nothing but the shard crosses the process boundary), and
returns plain (assumer, role) pairs. The same shards could run on a cluster
engine: a shard is data, its result is data.
"""

from __future__ import annotations

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

    data = _DATA.get(shard.folder)
    if data is None:
        data = _DATA[shard.folder] = load_account_data(shard.folder)
    return sorted(assumption_edges(data, dict(shard.context), roles=set(shard.roles)))


def edge_shards(data: AccountData, folder: str | Path, context: dict | None, per_shard: int = 250) -> list[EdgeShard]:
    """Shards of at most ``per_shard`` roles, an account's roles together."""
    roles = sorted((p for p in data.principals.values() if p.kind == "role"), key=lambda p: (p.account, p.arn))
    frozen = tuple(sorted((context or {}).items()))
    return [EdgeShard(str(folder), tuple(p.arn for p in roles[i:i + per_shard]), frozen)
            for i in range(0, len(roles), per_shard)]


def parallel_edges(data: AccountData, folder: str | Path, context: dict | None, jobs: int,
                   progress=None) -> set[tuple[str, str]]:
    """Every (assumer, role) edge, shards run in ``jobs`` processes;
    ``progress(done, total)`` is called as shards finish."""
    shards = edge_shards(data, folder, context)
    edges: set[tuple[str, str]] = set()
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(run_edge_shard, shard) for shard in shards]
        for done, future in enumerate(as_completed(futures), 1):
            edges.update(future.result())
            if progress is not None:
                progress(done, len(shards))
    return edges
