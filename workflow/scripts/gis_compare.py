"""Adapter of rule gis_compare: its log, then nxgeo.steps.gis_compare (the logic and what it reads)."""

from nxgeo import steps
from nxgeo.logs import setup_logging

setup_logging(snakemake.log[0], step=snakemake)
steps.gis_compare(
    snakemake.input,
    snakemake.output,
    snakemake.params,
    snakemake.wildcards,
    threads=snakemake.threads,
    config=snakemake.config,
    log=snakemake.log,
)
