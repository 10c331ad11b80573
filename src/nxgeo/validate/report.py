"""The validation report: problems, the report (Markdown and JSON), and how numbers, counts
and examples are written in messages.

Every message names the file (and layer, field, code, value) and says what to do, because the
people reading them are GIS experts, not programmers.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ERROR = "error"
WARNING = "warning"


@dataclass
class Problem:
    severity: str  # "error" | "warning"
    item: str  # contract item, e.g. "inputs.rasters.dem" or "config"
    path: str | None  # the file concerned (resolved), if any
    message: str  # names the file/layer/field/value and says what to do
    details: dict = field(default_factory=dict)


def jsonable(obj: Any) -> Any:
    """Recursively turn numpy scalars, paths, tuples and sets into plain JSON values."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        items = sorted(obj, key=str) if isinstance(obj, (set, frozenset)) else obj
        return [jsonable(v) for v in items]
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    return str(obj)


def _md(text: Any) -> str:
    """One-line Markdown-safe text (for bullets and table cells)."""
    return str(text).replace("\r", " ").replace("\n", " ").replace("|", "\\|")


@dataclass
class ValidationReport:
    problems: list[Problem] = field(default_factory=list)
    checked: list[dict] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        verdict = "PASSED / 通过" if self.ok else "FAILED / 未通过"
        return (
            f"{verdict}: {len(self.errors)} error(s) / 错误, {len(self.warnings)} warning(s) / 警告; "
            f"{len(self.checked)} input(s) checked / 项输入已检查"
        )

    def to_dict(self) -> dict:
        return jsonable(
            {
                "ok": self.ok,
                "summary": self.summary(),
                "n_errors": len(self.errors),
                "n_warnings": len(self.warnings),
                "problems": [asdict(p) for p in self.problems],
                "checked": self.checked,
            }
        )

    def to_markdown(self) -> str:
        lines = [
            "# Input validation report / 输入数据检查报告",
            "",
            f"**Result / 结果: {self.summary()}**",
            "",
        ]
        if self.ok:
            lines += [
                (
                    "All inputs meet the data contract; the pipeline can run. "
                    "Warnings (if any) are worth a look. / 所有输入均符合数据约定。"
                ),
                "",
            ]
        else:
            lines += [
                (
                    "Fix every error below, then run `nxgeo validate` again. "
                    "/ 请修正以下全部错误后重新运行 `nxgeo validate`。"
                ),
                "",
            ]
        if self.problems:
            lines += ["## Problems by item / 按条目列出的问题", ""]
            by_item: dict[str, list[Problem]] = {}
            for p in self.problems:
                by_item.setdefault(p.item, []).append(p)
            for item, probs in by_item.items():
                n_err = sum(p.severity == ERROR for p in probs)
                n_warn = len(probs) - n_err
                paths = sorted({p.path for p in probs if p.path})
                where = f" — {', '.join(f'`{_md(x)}`' for x in paths)}" if paths else ""
                lines.append(f"### `{item}`{where}")
                lines.append(f"{n_err} error(s), {n_warn} warning(s)")
                lines.append("")
                for p in sorted(probs, key=lambda q: q.severity != ERROR):
                    tag = "**ERROR / 错误**" if p.severity == ERROR else "**WARNING / 警告**"
                    lines.append(f"- {tag}: {_md(p.message)}")
                lines.append("")
        if self.checked:
            lines += [
                "## Inputs checked / 已检查的输入",
                "",
                "| item | kind | path | CRS | size / features | status |",
                "|---|---|---|---|---|---|",
            ]
            for c in self.checked:
                probs = [p for p in self.problems if p.item == c.get("item")]
                n_err = sum(p.severity == ERROR for p in probs)
                status = "ok" if not probs else f"{n_err} error(s), {len(probs) - n_err} warning(s)"
                lines.append(
                    "| "
                    + " | ".join(
                        _md(x)
                        for x in (
                            c.get("item", ""),
                            c.get("kind", ""),
                            c.get("path", ""),
                            c.get("crs") or "—",
                            _size_text(c),
                            status,
                        )
                    )
                    + " |"
                )
            lines.append("")
        return "\n".join(lines)


def _size_text(c: dict) -> str:
    if c.get("kind") == "raster" and c.get("width") is not None:
        res = c.get("resolution")
        res_text = f", {res[0]:g} × {res[1]:g}" if res else ""
        return f"{c['width']} × {c['height']} px{res_text}"
    if c.get("kind") == "vector" and c.get("features") is not None:
        return plural(c["features"], "feature")
    if c.get("kind") == "table" and c.get("rows") is not None:
        return plural(c["rows"], "row")
    return "—"


# ------------------------------------------------------------------------------------------
# formatting helpers


def fmt_int(n: int) -> str:
    return f"{int(n):,}"


def fmt_num(v: float) -> str:
    v = float(v)
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.4g}" if abs(v) < 1 else f"{v:.6g}"


def fmt_bounds(b) -> str:
    return "(" + ", ".join(fmt_num(v) for v in b) + ")"


def plural(n: int, word: str, plural_word: str | None = None) -> str:
    return f"{fmt_int(n)} {word if n == 1 else (plural_word or word + 's')}"


def examples(values, n: int = 5) -> str:
    values = list(values)
    text = ", ".join(repr(v) if isinstance(v, str) else str(v) for v in values[:n])
    return text + (f" … ({fmt_int(len(values) - n)} more)" if len(values) > n else "")


def write_reports(report: ValidationReport, md_path: str | Path, json_path: str | Path) -> None:
    """Write the Markdown and JSON reports (each atomically: whole file or nothing)."""
    from ..atomic import write_json, write_text

    write_text(md_path, report.to_markdown())
    write_json(report.to_dict(), json_path)
