"""Adapter: per-county potential water demand of all suitable land vs headroom."""

from nxgeo.layout import files_by_reach
from nxgeo.logs import setup_logging
from nxgeo.water import water_capacity_year

setup_logging(snakemake.log[0], step=snakemake)
p = snakemake.params
water_capacity_year(
    files_by_reach(snakemake.input, p.reaches),
    list(p.order),
    int(snakemake.wildcards.year),
    snakemake.input.budgets,
    snakemake.input.demand,
    p.classes_table,
    p.water,
    snakemake.output.summary,
    snakemake.output.headroom,
)
