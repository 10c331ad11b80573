"""Where is rule X's logic? One hop (issue #18): rule ``X`` runs ``workflow/scripts/X.py``, which
calls ``nxgeo.steps.X``; no script serves two rules and none is left without a rule. And
`snakemake --lint` reports nothing but the one item the Snakefile explains."""

from __future__ import annotations

import inspect
import re
import subprocess

import pytest
from conftest import ROOT, SNAKEMAKE, tiny_config

from nxgeo import steps

RULES = ROOT / "workflow" / "rules"
SCRIPTS = ROOT / "workflow" / "scripts"


def rule_actions() -> dict[str, tuple[str, str]]:
    """rule name -> (directive, its first argument) for script / shell / run rules."""
    out: dict[str, tuple[str, str]] = {}
    for smk in sorted(RULES.glob("*.smk")) + [ROOT / "Snakefile"]:
        current = None
        lines = smk.read_text(encoding="utf-8").splitlines()
        for n, line in enumerate(lines):
            m = re.match(r"^\s*rule (\w+):", line)
            if m:
                current = m.group(1)
                out[current] = ("none", "")
                continue
            m = re.match(r"^\s*(script|shell|run|wrapper|notebook):\s*(.*)$", line)
            if m and current:
                arg = m.group(2).strip() or (lines[n + 1].strip() if n + 1 < len(lines) else "")
                out[current] = (m.group(1), arg.strip('"'))
                current = None
    return out


def test_the_rules_are_found():
    rules = rule_actions()
    # a few of every stage (the parser must not miss the rules defined under an `if`)
    for name in (
        "validate_scope",
        "prepare_dltb",
        "terrain",
        "candidates",
        "maps",
        "report",
        "inventory_polygons",
        "sample",
        "qgis_project",
        "all",
    ):
        assert name in rules, name
    assert len(rules) >= 40


def test_every_rule_runs_its_own_script_and_step():
    bad = []
    for rule, (kind, arg) in rule_actions().items():
        if rule == "all" or kind in ("shell", "run"):
            continue
        if kind != "script" or arg != f"../scripts/{rule}.py":
            bad.append(f"rule {rule}: {kind} {arg!r} (expected script ../scripts/{rule}.py)")
            continue
        script = SCRIPTS / f"{rule}.py"
        if not script.is_file():
            bad.append(f"rule {rule}: {script} missing")
            continue
        if f"steps.{rule}(" not in script.read_text(encoding="utf-8"):
            bad.append(f"{script.name}: does not call nxgeo.steps.{rule}")
        fn = getattr(steps, rule, None)
        if not inspect.isfunction(fn):
            bad.append(f"nxgeo.steps.{rule}: missing")
        elif fn.__doc__ is None or not fn.__doc__.startswith(f"Rule {rule}:"):
            bad.append(f"nxgeo.steps.{rule}: docstring should start with 'Rule {rule}:'")
    assert not bad, "\n".join(bad)


def test_no_script_or_step_without_a_rule():
    rules = set(rule_actions())
    orphans = [p.name for p in SCRIPTS.glob("*.py") if p.stem not in rules]
    assert not orphans, orphans
    public = [n for n, f in vars(steps).items() if inspect.isfunction(f) and not n.startswith("_")]
    assert sorted(n for n in public if n not in rules) == []


@pytest.mark.workflow
def test_lint_reports_only_the_explained_item(tmp_path):
    cfg = tiny_config(tmp_path)
    proc = subprocess.run(
        [
            SNAKEMAKE,
            "-s",
            str(ROOT / "Snakefile"),
            "--directory",
            str(tmp_path),
            "--configfile",
            str(cfg),
            "--lint",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = proc.stdout + proc.stderr
    items = {line.strip() for line in out.splitlines() if line.startswith("    * ")}
    assert items <= {"* Specify a conda environment or container for each rule.:"}, items
    # the item kept is explained where a reader of the workflow looks first
    assert "Specify a conda environment" in (ROOT / "Snakefile").read_text(encoding="utf-8")
