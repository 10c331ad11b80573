"""Adapter: one year's DLTB (地类图斑) read, checked and standardised."""

from nxgeo.logs import setup_logging
from nxgeo.prepare import prepare_dltb

setup_logging(snakemake.log[0], step=snakemake)
prepare_dltb(
    snakemake.params.path,
    snakemake.params.polygons,
    snakemake.params.scheme,
    snakemake.params.classes_table,
    snakemake.input.vectors,
    snakemake.params.crs,
    snakemake.output.gpkg,
)
