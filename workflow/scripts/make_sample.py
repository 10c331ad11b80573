"""Adapter: build the embedded sample region."""

from pathlib import Path

from nxgeo.logs import progress_enabled, setup_logging
from nxgeo.sample import build_sample

setup_logging(snakemake.log[0], step=snakemake)
s = snakemake.params.sample
build_sample(
    reference_dir=s.get("reference_dir", "data/reference/ningxia"),
    out_dir=Path(s.get("out_dir", "data/sample")),
    resolution=float(s.get("resolution", 250)),
    seed=int(s.get("seed", 0)),
    n_homesteads=int(s.get("n_homesteads", 3000)),
    n_mines=int(s.get("n_mines", 300)),
    years=tuple(snakemake.params.years),
    progress=progress_enabled(),
)
