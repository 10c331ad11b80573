"""Terrain library: slope, aspect, D8 flow accumulation, RUSLE LS, distances.

Pure numpy/scipy (plus rasterio for the file helpers); no Python loop runs over pixels.

- `horn`: slope and aspect as ``gdaldem`` computes them (Horn 3×3), whole-array and
  block-wise on files;
- `hydrology`: pit filling, D8 receivers, flow accumulation (in memory and tile-wise,
  exact);
- `ls`: the RUSLE LS factor (InVEST SDR's Desmet & Govers form);
- `distance`: distances to features (exact, capped, tiled) and rasterisation;
- `reach`: the pipeline step, the terrain layers of one reach block-wise.

Every public name is importable from `nxgeo.terrain` itself.
"""

from .common import NODATA
from .distance import distance_to, distance_to_capped, rasterize_features
from .horn import aspect_degrees, aspect_file, slope_degrees, slope_file
from .hydrology import (
    FLOW_TILE,
    NO_DATA_CELL,
    OUTLET,
    d8_receivers,
    d8_receivers_tiled,
    fill_pits,
    fill_pits_tiled,
    flow_accumulation,
    flow_accumulation_tiled,
)
from .ls import ls_factor
from .reach import (
    DISTANCE_SOURCES,
    DISTANCE_TILE_CELLS,
    FLOW_MAX_CELLS,
    STRIP_CELLS,
    TERRAIN_LAYERS,
    coarse_flow_length,
    flow_coarsening,
    terrain_reach,
)

__all__ = [
    "NODATA",
    "NO_DATA_CELL",
    "OUTLET",
    "aspect_degrees",
    "aspect_file",
    "d8_receivers",
    "distance_to",
    "distance_to_capped",
    "fill_pits",
    "d8_receivers_tiled",
    "fill_pits_tiled",
    "flow_accumulation",
    "flow_accumulation_tiled",
    "ls_factor",
    "rasterize_features",
    "slope_degrees",
    "slope_file",
    "FLOW_TILE",
    "DISTANCE_SOURCES",
    "DISTANCE_TILE_CELLS",
    "FLOW_MAX_CELLS",
    "STRIP_CELLS",
    "TERRAIN_LAYERS",
    "coarse_flow_length",
    "flow_coarsening",
    "terrain_reach",
]
