"""Adapter: terrain layers of one reach."""

from nxgeo.logs import setup_logging
from nxgeo.terrain import DISTANCE_TILE_CELLS, FLOW_MAX_CELLS, terrain_reach

setup_logging(snakemake.log[0], step=snakemake)
t = snakemake.params.terrain
terrain_reach(
    snakemake.input.dem_grid,
    snakemake.input.template,
    snakemake.input.vectors,
    dict(snakemake.output.items()),
    distance_max_m=float(t.get("distance_max_m", 20000)),
    s_method=t.get("s_method", "invest"),
    l_max=t.get("l_max", 122.0),
    flow_max_cells=t.get("flow_max_cells", FLOW_MAX_CELLS),
    flow_tile=int(t["flow_tile"]),
    distance_tile_cells=int(t.get("distance_tile_cells", DISTANCE_TILE_CELLS)),
)
