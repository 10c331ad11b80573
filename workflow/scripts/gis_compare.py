"""Adapter: styles of a comparison's change raster and .csvt of its tables."""

from nxgeo.logs import setup_logging
from nxgeo.qgis_project import gis_files

setup_logging(snakemake.log[0], step=snakemake)
gis_files(
    snakemake.input.rasters,
    snakemake.input.tables,
    snakemake.input.classes,
    expected=list(snakemake.output.sidecars) + list(snakemake.output.csvt),
)
