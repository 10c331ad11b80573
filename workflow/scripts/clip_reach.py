"""Adapter: clip the prepared layers to one reach (Cloud-Optimised GeoTIFFs)."""
from pathlib import Path

from nxgeo.clip import clip_reach
from nxgeo.logs import setup_logging

setup_logging(snakemake.log[0], step=snakemake)
year_grid = Path(snakemake.input.landuse).parent
common_grid = Path(snakemake.input.rasters[0]).parent
layers = {name: (year_grid if name.startswith("landuse") else common_grid) / f"{name}.tif"
          for name in snakemake.output.keys()}
clip_reach(layers, snakemake.input.vectors, snakemake.wildcards.reach, dict(snakemake.output.items()),
           block_size=snakemake.params.block_size)
