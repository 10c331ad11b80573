"""Adapter: carbon sequestration and service change between two years."""
from nxgeo.logs import setup_logging
from nxgeo.services import compare_services

setup_logging(snakemake.log[0], step=snakemake)
i, w = snakemake.input, snakemake.wildcards
compare_services(i.county_a, i.county_b, i.reach_a, i.reach_b, int(w.year_a), int(w.year_b),
                 snakemake.output.county, snakemake.output.reach, prices_csv=i.prices,
                 co2_per_c=snakemake.params.co2_per_c)
