"""Adapter: land-use transitions between two survey years."""

from nxgeo.logs import setup_logging
from nxgeo.transitions import compare_years

setup_logging(snakemake.log[0], step=snakemake)
compare_years(
    snakemake.input.a,
    snakemake.input.b,
    snakemake.input.vectors,
    snakemake.params.classes_table,
    int(snakemake.wildcards.year_a),
    int(snakemake.wildcards.year_b),
    snakemake.output.county,
    snakemake.output.reach,
    snakemake.output.matrix,
    snakemake.output.change,
    mu_per_ha=snakemake.params.mu_per_ha,
    block_size=snakemake.params.block_size,
)
