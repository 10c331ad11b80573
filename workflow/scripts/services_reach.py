"""Adapter: ecosystem-service rasters of one reach."""
from pathlib import Path

from nxgeo.logs import setup_logging
from nxgeo.services import services_reach

setup_logging(snakemake.log[0], step=snakemake)
optional = dict(zip(snakemake.params.optional, snakemake.input.optional))
services_reach(Path(snakemake.input.landuse).parent, snakemake.params.services,
               snakemake.input.carbon, snakemake.input.prices, snakemake.params.classes_table,
               Path(snakemake.output.meta).parent, rasters=optional)
