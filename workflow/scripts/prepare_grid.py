"""Adapter: define the analysis grid from the counties (grid.json)."""

from nxgeo.logs import setup_logging
from nxgeo.prepare import define_grid

setup_logging(snakemake.log[0], step=snakemake)
define_grid(snakemake.params.counties, snakemake.params.grid, snakemake.output.grid)
