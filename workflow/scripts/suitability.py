"""Adapter: suitability overlay of one reach."""

from pathlib import Path

import pandas as pd

from nxgeo.logs import setup_logging
from nxgeo.parallel import for_job
from nxgeo.suitability import suitability_files

setup_logging(snakemake.log[0], step=snakemake)
layers = dict(snakemake.input.items())
official = {k: layers.pop(f"official_{k}") for k in snakemake.params.official}
county = layers.pop("zone_county", None)
suitability_files(
    layers,
    Path(snakemake.output.best_use).parent,
    snakemake.params.suitability,
    pd.read_csv(snakemake.params.classes_table),
    block_rows=snakemake.params.block_size,
    # the scheduler does not change the output: from the config, not a param
    dask=for_job(snakemake.config.get("dask"), snakemake.threads),
    official=official or None,
    county=county,
    reach=snakemake.wildcards.reach,
)
