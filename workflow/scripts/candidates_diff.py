"""Adapter: the candidate diff of two survey years (nxgeo.tracking)."""

from nxgeo.logs import setup_logging
from nxgeo.tracking import candidates_diff

setup_logging(snakemake.log[0], step=snakemake)
i, o, p = snakemake.input, snakemake.output, snakemake.params
candidates_diff(
    i.a,
    i.b,
    i.landuse_a,
    i.landuse_b,
    p.classes_table,
    p.parcel_targets,
    p.tracking,
    p.mu_per_ha,
    o.gpkg,
    o.csv,
    o.summary,
)
