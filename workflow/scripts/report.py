"""Adapter: the yearly report (one self-contained HTML page) from its declared inputs."""

import logging

from nxgeo.logs import setup_logging
from nxgeo.report import REPORT_INPUTS, report_year

setup_logging(snakemake.log[0], step=snakemake)
inputs = {k: getattr(snakemake.input, k) for k in snakemake.input.keys() if k in REPORT_INPUTS}
report_year(int(snakemake.wildcards.year), inputs, snakemake.params.config, snakemake.output[0])
if not snakemake.params.chromium:
    logging.getLogger("nxgeo.report").warning(
        "chromium not found: report.pdf is not made, the HTML report is complete"
    )
