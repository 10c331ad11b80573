"""Adapter: service quantities and values per county and per reach for one year."""
from nxgeo.logs import setup_logging
from nxgeo.services import services_year

setup_logging(snakemake.log[0], step=snakemake)
p = snakemake.params
services_year({r: f"{p.reach_dir}/{r}" for r in p.reaches}, int(snakemake.wildcards.year),
              snakemake.input.vectors, snakemake.output.county, snakemake.output.reach,
              prices_csv=snakemake.input.prices, co2_per_c=p.co2_per_c)
