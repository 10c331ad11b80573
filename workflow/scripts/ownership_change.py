"""Adapter: the change of ownership (权属) per county between two survey years."""
from nxgeo.logs import setup_logging
from nxgeo.survey.inventory import ownership_change_files

setup_logging(snakemake.log[0], step=snakemake)
ownership_change_files(snakemake.input.a, snakemake.input.b, int(snakemake.wildcards.year_a),
                       int(snakemake.wildcards.year_b), snakemake.output.csv,
                       mu_per_ha=snakemake.params.mu_per_ha)
