"""Adapter: copy a reach's year-independent layers into a year's folder (atomic copies)."""

from nxgeo.atomic import copy_atomic
from nxgeo.logs import setup_logging

setup_logging(snakemake.log[0], step=snakemake)
for name, dst in snakemake.output.items():
    copy_atomic(snakemake.input[name], dst)
