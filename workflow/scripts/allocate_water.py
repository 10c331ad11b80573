"""Adapter of rule allocate_water: its log, then nxgeo.steps.allocate_water (the logic and what it reads)."""

from nxgeo import steps
from nxgeo.logs import setup_logging

setup_logging(snakemake.log[0], step=snakemake)
steps.allocate_water(
    snakemake.input,
    snakemake.output,
    snakemake.params,
    snakemake.wildcards,
    threads=snakemake.threads,
    config=snakemake.config,
    log=snakemake.log,
)
