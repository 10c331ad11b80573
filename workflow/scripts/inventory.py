"""Adapter: the survey inventory of one year (per county and per reach)."""

from nxgeo.inventory import inventory_year
from nxgeo.logs import setup_logging

setup_logging(snakemake.log[0], step=snakemake)
inventory_year(
    snakemake.input.canonical,
    snakemake.input.codes,
    snakemake.input.vectors,
    snakemake.params.classes_table,
    snakemake.params.scheme,
    snakemake.output.by_class,
    snakemake.output.by_code,
    snakemake.output.reconcile,
    mu_per_ha=snakemake.params.mu_per_ha,
    ownership_path=snakemake.input.ownership,
    out_ownership_csv=snakemake.output.ownership,
)
