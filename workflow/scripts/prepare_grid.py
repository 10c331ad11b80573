"""Adapter: define the analysis grid and put the continuous rasters on it."""
from nxgeo.logs import setup_logging
from nxgeo.prepare import prepare_rasters

setup_logging(snakemake.log[0])
prepare_rasters(snakemake.params.rasters, snakemake.params.counties, snakemake.params.grid,
                snakemake.params.out_dir, snakemake.output.grid)
