"""Ecosystem-service accounting (GEP 生态产品总值, regulating part), DOMAIN.md §7.

Models (pure numpy, vectorised): `carbon` (InVEST carbon-model semantics), `rusle` (soil
retention), `rweq` (windbreak and sand fixation), `water_conservation` (water balance),
`valuation` (prices, GEP sum). Pipeline stages: `stage` (services_reach, services_year,
compare_services, parcel_gains).
"""

from .stage import (
    EXTRA_LAYERS,
    GAIN_COLUMNS,
    SERVICE_COLUMNS,
    SERVICE_LAYERS,
    ServiceParams,
    compare_services,
    compare_tables,
    compute_services,
    load_params,
    parcel_gains,
    services_reach,
    services_year,
)

__all__ = ["EXTRA_LAYERS", "GAIN_COLUMNS", "SERVICE_COLUMNS", "SERVICE_LAYERS", "ServiceParams",
           "compare_services", "compare_tables", "compute_services", "load_params",
           "parcel_gains", "services_reach", "services_year"]
