"""Adapter of rule report_pdf: its log, then nxgeo.steps.report_pdf (the logic and what it reads)."""

from nxgeo import steps
from nxgeo.logs import setup_logging

setup_logging(snakemake.log[0], step=snakemake)
steps.report_pdf(
    snakemake.input,
    snakemake.output,
    snakemake.params,
    snakemake.wildcards,
    threads=snakemake.threads,
    config=snakemake.config,
    log=snakemake.log,
)
