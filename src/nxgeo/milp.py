"""HiGHS (scipy.optimize.milp) options shared by the MILPs of nxgeo: the programme
(`nxgeo.programme`) and the exact water allocation (`nxgeo.candidates.allocation`).

Both stop at a *node limit* (a limit of work: the same inputs give the same answer on any
machine and under any load) and keep a wall-clock limit only as a safety net. A solve that
reaches the wall-clock limit is reported, because its answer depends on the machine's speed.
"""

from __future__ import annotations

import logging

log = logging.getLogger("nxgeo.milp")


def milp_options(time_limit: float, mip_rel_gap: float, node_limit: int | None) -> dict:
    """scipy.optimize.milp options: the node limit (deterministic) and the time limit (a safety
    net). Shared by the programme and the exact water allocation."""
    opts = {"time_limit": float(time_limit), "mip_rel_gap": float(mip_rel_gap), "disp": False}
    if node_limit is not None:
        opts["node_limit"] = int(node_limit)
    return opts


def warn_if_timed_out(res, time_limit: float, what: str, key: str) -> bool:
    """Warn when HiGHS stopped at the wall-clock limit (not the node limit): then the answer
    depends on the machine's speed and load, and the same inputs may give other bytes."""
    msg = str(getattr(res, "message", ""))
    timed_out = int(getattr(res, "status", -1)) == 1 and "time limit" in msg.lower()
    if timed_out:
        log.warning(
            "%s stopped at the time limit (%g s): the result depends on this machine's speed "
            "and load; raise %s (the node limit keeps runs repeatable)",
            what,
            time_limit,
            key,
        )
    return timed_out


def solve_status(res) -> str:
    """The stop reason of a scipy/HiGHS MILP in words (programme_marginal.csv's `status`)."""
    if "HiGHS Status 16" in str(getattr(res, "message", "")):
        return "node limit"  # scipy 1.17 reports HiGHS's kSolutionLimit as status 4
    return {
        0: "optimal",
        1: "time or iteration limit",
        2: "infeasible",
        3: "unbounded",
        4: "other",
    }.get(int(res.status), str(res.status))
