"""Adapter: the change of ownership (权属) per county between two survey years."""

from nxgeo.logs import setup_logging
from nxgeo.survey.inventory import ownership_change_year

setup_logging(snakemake.log[0], step=snakemake)
ownership_change_year(
    snakemake.input,
    snakemake.output,
    int(snakemake.wildcards.year_a),
    int(snakemake.wildcards.year_b),
    mu_per_ha=snakemake.params.mu_per_ha,
    block_size=snakemake.params.block_size,
)
