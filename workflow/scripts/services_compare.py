"""Adapter: change of every service and of GEP between two years."""

from nxgeo.logs import setup_logging
from nxgeo.services import compare_services

setup_logging(snakemake.log[0], step=snakemake)
i, o, w = snakemake.input, snakemake.output, snakemake.wildcards
compare_services(
    i.county_a,
    i.county_b,
    i.reach_a,
    i.reach_b,
    int(w.year_a),
    int(w.year_b),
    o.county,
    o.reach,
    gep_county_a=i.gep_county_a,
    gep_county_b=i.gep_county_b,
    gep_reach_a=i.gep_reach_a,
    gep_reach_b=i.gep_reach_b,
    out_gep_county_csv=o.gep_county,
    out_gep_reach_csv=o.gep_reach,
)
