"""Adapter: clip prepared grid layers to one reach (Cloud-Optimised GeoTIFFs); used by
clip_reach (a year's land use) and clip_static (the year-independent rasters)."""

from pathlib import Path

from nxgeo.clip import clip_reach
from nxgeo.logs import setup_logging

setup_logging(snakemake.log[0], step=snakemake)
by_name = {Path(p).stem: p for p in snakemake.input if str(p).endswith(".tif")}
clip_reach(
    {name: by_name[name] for name in snakemake.output.keys()},
    snakemake.input.vectors,
    snakemake.wildcards.reach,
    dict(snakemake.output.items()),
    block_size=snakemake.params.block_size,
)
