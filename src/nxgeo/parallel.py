"""Block-wise work on a dask scheduler, written in order by the calling process.

The raster steps that are a pure function of each block (reprojection onto the grid, the
suitability overlay) compute their blocks through `map_blocks`: the blocks may run on local
threads, local processes or a dask.distributed cluster, while the caller writes every result
to its output file in block order. The bytes written therefore never depend on the scheduler
(tests/test_dask.py checks this against a real two-worker cluster).

Configuration (``dask:`` in the workflow config; every key optional)::

    dask:
      scheduler: threads     # synchronous | threads | processes | distributed
      address: null          # tcp://host:8786 of a running dask.distributed scheduler
                             # (implies scheduler: distributed)
      num_workers: null      # threads/processes: workers per job (default: the job's threads)
      in_flight: null        # blocks computed ahead of the writer (default: 2 x workers)

With ``threads`` and one worker (the default for a one-thread Snakemake job) blocks simply run
in a loop in the job's process. On a cluster, start the dask scheduler and workers yourself
(``dask scheduler``, ``dask worker tcp://…`` — nxgeo must be importable on the workers, and
the input and output folders visible to them) and give its address here; nxgeo connects to it
and never starts or stops it.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

SCHEDULERS = ("synchronous", "threads", "processes", "distributed")


def dask_settings(cfg: Mapping | None, threads: int = 1) -> dict:
    """Normalise the ``dask`` config: {scheduler, address, num_workers, in_flight}."""
    cfg = dict(cfg or {})
    address = cfg.get("address") or None
    scheduler = str(cfg.get("scheduler") or ("distributed" if address else "threads"))
    if address and scheduler != "distributed":
        scheduler = "distributed"
    if scheduler not in SCHEDULERS:
        raise ValueError(
            f"dask.scheduler must be one of {', '.join(SCHEDULERS)}, got {scheduler!r}"
        )
    if scheduler == "distributed" and not address:
        raise ValueError(
            "dask.scheduler: distributed needs dask.address "
            "(tcp://host:port of a running dask scheduler)"
        )
    workers = int(cfg.get("num_workers") or threads or 1)
    in_flight = int(cfg.get("in_flight") or 2 * max(1, workers))
    return {
        "scheduler": scheduler,
        "address": address,
        "num_workers": max(1, workers),
        "in_flight": max(1, in_flight),
    }


def for_job(cfg: Mapping | None, threads: int) -> dict:
    """The ``dask`` config of one Snakemake job: `num_workers` defaults to the job's threads."""
    cfg = dict(cfg or {})
    if not cfg.get("num_workers"):
        cfg["num_workers"] = max(1, int(threads or 1))
    return cfg


def runs_inline(cfg: Mapping | None, threads: int = 1) -> bool:
    """True when `map_blocks` would simply loop in this process."""
    s = dask_settings(cfg, threads)
    return s["scheduler"] == "synchronous" or (
        s["scheduler"] == "threads" and s["num_workers"] == 1
    )


def map_blocks(
    func: Callable[[Any], Any], tasks: Iterable, cfg: Mapping | None = None, threads: int = 1
) -> Iterator:
    """Yield ``func(task)`` for every task, in task order, computed on the configured scheduler.

    At most ``in_flight`` results are pending at any time, so memory stays bounded by a few
    blocks whatever the number of tasks. `func` and the tasks must be picklable for the
    processes and distributed schedulers (module-level functions, plain data).
    """
    s = dask_settings(cfg, threads)
    tasks = iter(tasks)
    if runs_inline(cfg, threads):
        for t in tasks:
            yield func(t)
        return
    if s["scheduler"] == "distributed":
        yield from _distributed(func, tasks, s)
        return
    import dask

    while True:
        batch = list(itertools.islice(tasks, s["in_flight"]))
        if not batch:
            return
        results = dask.compute(
            *[dask.delayed(func, pure=False)(t) for t in batch],
            scheduler=s["scheduler"],
            num_workers=s["num_workers"],
        )
        del batch
        yield from results


def _distributed(func, tasks: Iterator, s: dict) -> Iterator:
    from distributed import Client

    client = Client(s["address"], set_as_default=False)
    try:
        pending: deque = deque()
        for t in tasks:
            pending.append(client.submit(func, t, pure=False))
            if len(pending) >= s["in_flight"]:
                fut = pending.popleft()
                yield fut.result()
                fut.release()
        while pending:
            fut = pending.popleft()
            yield fut.result()
            fut.release()
    finally:
        client.close()
