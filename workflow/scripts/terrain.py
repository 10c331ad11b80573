"""Adapter: terrain layers of one reach."""
from nxgeo.logs import setup_logging
from nxgeo.terrain import terrain_reach

setup_logging(snakemake.log[0], step=snakemake)
t = snakemake.params.terrain
terrain_reach(snakemake.input.dem_grid, snakemake.input.template, snakemake.input.vectors,
              dict(snakemake.output.items()),
              distance_max_m=float(t.get("distance_max_m", 20000)),
              s_method=t.get("s_method", "invest"), l_max=t.get("l_max", 122.0))
