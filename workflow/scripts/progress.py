"""Adapter: cumulative progress since the first survey year (nxgeo.tracking)."""

from nxgeo.logs import setup_logging
from nxgeo.tracking import progress_table

setup_logging(snakemake.log[0], step=snakemake)
progress_table(
    snakemake.input.summaries,
    snakemake.params.pairs,
    snakemake.input.targets,
    int(snakemake.wildcards.year),
    snakemake.params.mu_per_ha,
    snakemake.output[0],
)
