"""Adapter: validate one survey year's inputs; exit non-zero listing every problem."""
import sys

from nxgeo.logs import setup_logging
from nxgeo.validate import validate_year

setup_logging(snakemake.log[0], step=snakemake)
ok = validate_year(
    snakemake.config,
    int(snakemake.wildcards.year),
    md_path=snakemake.output.md,
    json_path=snakemake.output.json,
    log_path=snakemake.log[0],
)
sys.exit(0 if ok else 1)
