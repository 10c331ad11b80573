"""The nodata value of every raster nxgeo writes, in one place.

One value per kind of raster; the modules that write or read a kind import its name from here
(some under the local name they always had, e.g. ``landuse.CANONICAL_NODATA``).

- `FLOAT_NODATA` (−9999): every float32 raster — slope, aspect, LS, distances, the services
  layers — and `nxgeo.raster_io.default_nodata` for float dtypes.
- `CLASS_NODATA` (0): land-use class ids (canonical rasters: class_id 0 = no data) and the
  survey's land-use codes (``landuse_code.tif``).
- 255, the uint8 rasters whose valid values start at 0: `OWNERSHIP_NODATA` (ownership.tif:
  0 unknown, 1 state, 2 collective), `GRADE_NODATA` and `SCORE_NODATA` (suitability grade and
  score), `BEST_NODATA` (best use), `OFFICIAL_NODATA` (official suitability layers).
- 65535, the uint16 rasters: `REASON_NODATA` (suitability reason bits), `CHANGE_NODATA`
  (transitions, from·100 + to).

This module imports nothing: any module may use it.
"""

FLOAT_NODATA = -9999.0
CLASS_NODATA = 0
OWNERSHIP_NODATA = 255
GRADE_NODATA = 255
SCORE_NODATA = 255
BEST_NODATA = 255
OFFICIAL_NODATA = 255
REASON_NODATA = 65535
CHANGE_NODATA = 65535
