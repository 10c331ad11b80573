"""Adapter: the yearly report printed to PDF by headless Chromium."""

from nxgeo.logs import setup_logging
from nxgeo.report import print_pdf

setup_logging(snakemake.log[0], step=snakemake)
if print_pdf(snakemake.input[0], snakemake.output[0], chromium=snakemake.params.chromium) is None:
    raise SystemExit("chromium not found: install Debian's chromium to print the report")
