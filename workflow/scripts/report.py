"""Adapter: the yearly report (one self-contained HTML page)."""
from nxgeo.logs import setup_logging
from nxgeo.report import report_year

setup_logging(snakemake.log[0], step=snakemake)
report_year(int(snakemake.wildcards.year), snakemake.params.results_dir, snakemake.params.config,
            snakemake.output[0])
