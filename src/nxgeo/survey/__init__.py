"""The land survey's own data: 地类图斑 (DLTB) of 三调 / 年度国土变更调查 as an input.

- `read`: read a DLTB layer (GeoPackage, Shapefile with its text encoding, File Geodatabase),
  check it (fields, codes, ownership, county codes) and put it in a standard form;
- `rasterise`: the DLTB onto the analysis grid (land-use codes and ownership), largest share;
- `inventory`: area statistics from the polygon areas (by class, code, major group,
  ownership; per county and reach), reconciled with the polygons and with the raster.

The rules and their sources are in docs/survey.md.
"""

from .read import OWNER_COLLECTIVE, OWNER_NODATA, OWNER_STATE, OWNER_UNKNOWN

__all__ = ["OWNER_COLLECTIVE", "OWNER_NODATA", "OWNER_STATE", "OWNER_UNKNOWN"]
