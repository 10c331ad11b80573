"""Adapter: one year's land use on the analysis grid (codes and canonical classes)."""
from nxgeo.logs import setup_logging
from nxgeo.prepare import prepare_landuse

setup_logging(snakemake.log[0])
prepare_landuse(snakemake.input.landuse, snakemake.input.grid, snakemake.params.scheme,
                snakemake.params.classes_table, snakemake.input.vectors,
                snakemake.output.codes, snakemake.output.canonical,
                block_size=snakemake.params.block_size)
