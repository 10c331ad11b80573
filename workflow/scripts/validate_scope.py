"""Adapter: check one scope of the inputs (see nxgeo.validate.scope); never fails the job."""

from nxgeo.logs import setup_logging
from nxgeo.validate.scope import validate_scope

setup_logging(snakemake.log[0], step=snakemake)
validate_scope(snakemake.config, snakemake.params.scope, snakemake.output.json)
