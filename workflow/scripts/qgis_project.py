"""Adapter of rule qgis_project: its log, then nxgeo.steps.qgis_project (the logic and what it reads)."""

from nxgeo import steps
from nxgeo.logs import setup_logging

setup_logging(snakemake.log[0], step=snakemake)
steps.qgis_project(
    snakemake.input,
    snakemake.output,
    snakemake.params,
    snakemake.wildcards,
    threads=snakemake.threads,
    config=snakemake.config,
    log=snakemake.log,
)
