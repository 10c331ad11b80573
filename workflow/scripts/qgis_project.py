"""Adapter: the year's QGIS project, raster styles, VRT mosaics and .csvt files."""

from nxgeo.logs import setup_logging
from nxgeo.qgis_project import qgis_year

setup_logging(snakemake.log[0], step=snakemake)
qgis_year(
    int(snakemake.wildcards.year),
    snakemake.output.qgz.rsplit("/", 1)[0],
    snakemake.input.rasters,
    snakemake.input.tables,
    snakemake.input.classes,
    snakemake.input.scheme,
    snakemake.input.vectors,
    snakemake.input.candidates,
    snakemake.input.dem,
    snakemake.output.qgz,
    snakemake.params.targets,
    snakemake.params.target_cfg,
    snakemake.params.region.get("region_name", ""),
    expected=list(snakemake.output.sidecars)
    + list(snakemake.output.csvt)
    + list(snakemake.output.mosaics),
    change_rasters=[p for p in snakemake.input.compare if p.endswith(".tif")],
)
