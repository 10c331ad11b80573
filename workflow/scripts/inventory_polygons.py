"""Adapter: the inventory of one year from the DLTB polygon areas."""

from nxgeo.logs import setup_logging
from nxgeo.survey.inventory import inventory_polygons_year

setup_logging(snakemake.log[0], step=snakemake)
inventory_polygons_year(
    snakemake.input.dltb,
    snakemake.input.vectors,
    snakemake.params.classes_table,
    snakemake.params.scheme,
    snakemake.params.county_from,
    snakemake.input.raster_by_class,
    dict(snakemake.output.items()),
    mu_per_ha=snakemake.params.mu_per_ha,
)
