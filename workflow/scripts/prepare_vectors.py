"""Adapter: prepare every vector layer (repaired, standardised, in the grid CRS)."""

from nxgeo.logs import setup_logging
from nxgeo.prepare import prepare_vectors

setup_logging(snakemake.log[0], step=snakemake)
prepare_vectors(snakemake.params.vectors, snakemake.params.crs, snakemake.output.gpkg)
