"""Parameter look-ups shared by the service models: per-class tables from config, prices.

A per-class table is a mapping ``{canonical class: value}`` (from config) with an optional
``default`` for classes not listed. It is turned into a lookup array indexed by the canonical
class id (uint8 land-use raster value), so ``lut[landuse]`` gives the value of every pixel in one
vectorised step. Unknown entries are NaN; `lookup` raises an error that names the classes (and
their pixel counts) that are neither listed nor covered by a default.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ConfigError, InputError

LUT_SIZE = 256  # canonical ids are uint8; 0 = nodata


def read_classes(classes_table: str | Path | pd.DataFrame) -> pd.DataFrame:
    """The canonical classes table (class_id, canonical, name_zh, name_en, green, color)."""
    if isinstance(classes_table, pd.DataFrame):
        df = classes_table.copy()
    else:
        path = Path(classes_table)
        if not path.exists():
            raise InputError(f"{path}: classes table not found")
        df = pd.read_csv(path, encoding="utf-8-sig")
    missing = {"class_id", "canonical"} - set(df.columns)
    if missing:
        raise InputError(f"classes table: column(s) {sorted(missing)} missing")
    df["class_id"] = df["class_id"].astype(int)
    if (df["class_id"] < 1).any() or (df["class_id"] >= LUT_SIZE).any():
        raise InputError("classes table: class_id must be 1..255 (0 is nodata)")
    return df


def class_ids(classes: pd.DataFrame) -> dict[str, int]:
    return dict(zip(classes["canonical"].astype(str), classes["class_id"].astype(int)))


def class_lut(
    table: Mapping | None, classes: pd.DataFrame, key: str, default: float | None = None
) -> np.ndarray:
    """Lookup array (float64, length 256) of a per-class config table.

    `table` keys are canonical class names (or ``default``); `key` names the config key in
    error messages. A key that is not a canonical class is a ConfigError (a typo would
    otherwise silently fall back to the default). Classes neither listed nor covered by a
    default are NaN (reported by `lookup` only if a pixel uses them).
    """
    table = dict(table or {})
    ids = class_ids(classes)
    unknown = sorted(set(map(str, table)) - set(ids) - {"default"})
    if unknown:
        raise ConfigError(
            [
                (
                    f"{key}: unknown class(es) {unknown}; canonical classes are "
                    f"{', '.join(ids)} (or `default`)"
                )
            ]
        )
    dflt = table.pop("default", default)
    lut = np.full(LUT_SIZE, np.nan)
    if dflt is not None:
        lut[list(ids.values())] = float(dflt)
    for name, value in table.items():
        try:
            lut[ids[str(name)]] = float(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError([f"{key}.{name}: {value!r} is not a number"]) from exc
    return lut


def class_mask(names, classes: pd.DataFrame, key: str) -> np.ndarray:
    """Boolean lookup (length 256): True for the listed canonical classes."""
    ids = class_ids(classes)
    names = list(names or [])
    unknown = sorted(set(map(str, names)) - set(ids))
    if unknown:
        raise ConfigError(
            [(f"{key}: unknown class(es) {unknown}; canonical classes are {', '.join(ids)}")]
        )
    m = np.zeros(LUT_SIZE, dtype=bool)
    m[[ids[str(n)] for n in names]] = True
    return m


def lookup(
    lut: np.ndarray,
    landuse: np.ndarray,
    valid: np.ndarray,
    key: str,
    classes: pd.DataFrame | None = None,
) -> np.ndarray:
    """``lut[landuse]`` (float64), NaN off `valid`; error if a valid pixel's class has no value."""
    lu = np.asarray(landuse)
    out = lut[np.where(valid, lu, 0).astype(np.intp)]
    out[~valid] = np.nan
    bad = valid & np.isnan(out)
    if bad.any():
        vals, counts = np.unique(lu[bad], return_counts=True)
        names = {}
        if classes is not None:
            names = dict(zip(classes["class_id"].astype(int), classes["canonical"].astype(str)))
        desc = ", ".join(
            f"{names.get(int(v), int(v))} (id {int(v)}, {int(c)} px)" for v, c in zip(vals, counts)
        )
        raise ConfigError([f"{key}: no value for class(es) {desc}; add them or a `default`"])
    return out


def read_prices(prices_csv: str | Path | pd.DataFrame | Mapping) -> dict[str, float]:
    """Prices table (item, value, unit, note) as {item: value}."""
    if isinstance(prices_csv, Mapping):
        return {str(k): float(v) for k, v in prices_csv.items()}
    if isinstance(prices_csv, pd.DataFrame):
        df = prices_csv
    else:
        path = Path(prices_csv)
        if not path.exists():
            raise InputError(f"{path}: prices table not found")
        df = pd.read_csv(path, encoding="utf-8-sig")
    if not {"item", "value"} <= set(df.columns):
        raise InputError(f"prices table: needs columns item, value; has {list(df.columns)}")
    return dict(zip(df["item"].astype(str), pd.to_numeric(df["value"]).astype(float)))


def price(prices: Mapping[str, float], item: str, source: str = "prices table") -> float:
    if item not in prices:
        raise InputError(f"{source}: no price for item {item!r}; add a row `{item},<value>,<unit>`")
    return float(prices[item])


def cfg_get(
    cfg: Mapping | None, path: str, default=None, required: bool = False, prefix: str = "services"
):
    """Nested config value by dotted `path` ('rusle.r_a'), or `default`."""
    node = cfg or {}
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node or node[part] is None:
            if required:
                raise ConfigError([f"{prefix}.{path}: missing"])
            return default
        node = node[part]
    return node
