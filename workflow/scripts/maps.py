"""Adapter: the maps of one survey year."""

from nxgeo.logs import setup_logging
from nxgeo.maps import maps_year

setup_logging(snakemake.log[0], step=snakemake)
p = snakemake.params
maps_year(
    int(snakemake.wildcards.year),
    p.results_dir,
    p.classes_table,
    p.subset,
    snakemake.output[0],
    county_names=getattr(snakemake.input, "county_names", None),
    workers=snakemake.threads,
)
