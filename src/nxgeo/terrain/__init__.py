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

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

#: public name -> the submodule defining it (imported on first use: nxgeo.lazy)
_EXPORTS = {
    "DISTANCE_SOURCES": "reach",
    "DISTANCE_TILE_CELLS": "reach",
    "FLOW_MAX_CELLS": "reach",
    "FLOW_TILE": "hydrology",
    "NODATA": "common",
    "NO_DATA_CELL": "hydrology",
    "OUTLET": "hydrology",
    "STRIP_CELLS": "reach",
    "TERRAIN_LAYERS": "reach",
    "aspect_degrees": "horn",
    "aspect_file": "horn",
    "coarse_flow_length": "reach",
    "d8_receivers": "hydrology",
    "d8_receivers_tiled": "hydrology",
    "distance_to": "distance",
    "distance_to_capped": "distance",
    "fill_pits": "hydrology",
    "fill_pits_tiled": "hydrology",
    "flow_accumulation": "hydrology",
    "flow_accumulation_tiled": "hydrology",
    "flow_coarsening": "reach",
    "ls_factor": "ls",
    "rasterize_features": "distance",
    "slope_degrees": "horn",
    "slope_file": "horn",
    "terrain_reach": "reach",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # the same names, for type checkers
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
