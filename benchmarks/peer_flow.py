"""pygeoprocessing's D8 routing as InVEST SDR runs it (fill_pits -> flow_dir_d8 ->
flow_accumulation_d8), for the side-by-side comparison with nxgeo's exact tile-wise routing.
Runs in the peers environment (.venv-peers, scripts/install_peers.sh):

    .venv-peers/bin/python benchmarks/peer_flow.py DEM OUT_ACC WORKDIR

Prints one JSON line with the in-process seconds.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

_T0 = time.perf_counter()
from pygeoprocessing import routing  # noqa: E402


def main(dem: str, out: str, work: str) -> None:
    w = Path(work)
    w.mkdir(parents=True, exist_ok=True)
    t_import = time.perf_counter() - _T0
    t0 = time.perf_counter()
    filled, fdir = str(w / "filled.tif"), str(w / "flow_dir.tif")
    routing.fill_pits((dem, 1), filled, working_dir=str(w))
    routing.flow_dir_d8((filled, 1), fdir, working_dir=str(w))
    routing.flow_accumulation_d8((fdir, 1), out)
    print(
        json.dumps(
            {
                "op": "flow_accumulation_d8",
                "seconds": round(time.perf_counter() - t0, 3),
                "import_seconds": round(t_import, 3),
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:4])
