"""Adapter: the validation report of the shared inputs or of one survey year, gathered from
the scope checks; exits non-zero listing every problem."""

import sys

from nxgeo.logs import setup_logging
from nxgeo.validate.scope import report_scopes

setup_logging(snakemake.log[0], step=snakemake)
ok = report_scopes(
    list(snakemake.input.scopes),
    snakemake.params.what,
    snakemake.output.md,
    snakemake.output.json,
    log_path=snakemake.log[0],
)
sys.exit(0 if ok else 1)
