"""Make Snakemake read config files as data (nxgeo.yamlsafe) before anything else runs.

Snakemake reads every ``--configfile`` (and profile) through YTE, its YAML templating engine,
*before* the Snakefile runs: a config that sets ``__use_yte__: true`` has its ``?`` expressions
evaluated as Python at that moment, so no check in the Snakefile can come first. This module
wraps ``yte.process_yaml`` so that every document Snakemake loads goes through
`nxgeo.yamlsafe.loads_strict` first: templating, YAML tags and duplicate keys are refused with
a message naming the file and line, and YAML syntax errors say where they are.

`make env` installs the hook as a ``.pth`` file in the virtual environment
(``python -m nxgeo.yamlguard --install``), which Python runs at start-up; the hook only
registers an import hook and costs nothing until ``yte`` is imported. The Snakefile checks its
config files again (`nxgeo.config.check_config_files`), so a run without the hook is still
refused - only later.
"""

from __future__ import annotations

import sys

PTH_NAME = "nxgeo-yamlguard.pth"
# a .pth line must start with "import"; silent when nxgeo is not (or no longer) installed
PTH_LINE = (
    "import importlib.util as _u; _s = _u.find_spec('nxgeo'); "
    "_s and _u.find_spec('nxgeo.yamlguard') and "
    "__import__('nxgeo.yamlguard').yamlguard.install()\n"
)


def _source_of(file_or_str) -> tuple[str, str]:
    """(text, name) of what YTE was asked to process (an open file or a string)."""
    if isinstance(file_or_str, str):
        return file_or_str, "a YAML document"
    text = file_or_str.read()
    name = getattr(file_or_str, "name", "a YAML document")
    return text, str(name)


def _wrap(yte_module) -> None:
    original = yte_module.process_yaml
    if getattr(original, "_nxgeo_guarded", False):
        return

    def process_yaml(file_or_str, *args, **kwargs):
        from .yamlsafe import ConfigSyntaxError, loads_strict

        text, name = _source_of(file_or_str)
        try:
            return loads_strict(text, source=name)
        except ConfigSyntaxError as exc:
            try:
                from snakemake_interface_common.exceptions import WorkflowError
            except ImportError:  # not inside Snakemake
                raise
            raise WorkflowError(str(exc)) from None

    # attributes set on a function object: mypy does not model them
    process_yaml._nxgeo_guarded = True  # type: ignore[attr-defined]
    process_yaml.__wrapped__ = original  # type: ignore[attr-defined]
    yte_module.process_yaml = process_yaml


class _Finder:
    """Wraps yte.process_yaml as soon as yte is imported (a meta path hook)."""

    def find_spec(self, name, path=None, target=None):
        if name != "yte":
            return None
        import importlib.util

        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec("yte")
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        exec_module = loader.exec_module

        def guarded_exec(module):
            exec_module(module)
            _wrap(module)

        loader.exec_module = guarded_exec
        return spec


def install() -> None:
    """Guard yte now if it is imported, else when it is (idempotent)."""
    if "yte" in sys.modules:
        _wrap(sys.modules["yte"])
        return
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())


def installed() -> bool:
    """Whether this interpreter runs the hook at start-up."""
    import sysconfig
    from pathlib import Path

    return (Path(sysconfig.get_paths()["purelib"]) / PTH_NAME).exists()


def install_pth() -> str:
    import sysconfig
    from pathlib import Path

    path = Path(sysconfig.get_paths()["purelib"]) / PTH_NAME
    path.write_text(PTH_LINE, encoding="utf-8")
    return str(path)


if __name__ == "__main__":
    if "--install" in sys.argv[1:]:
        print(f"nxgeo: config files are read as data only ({install_pth()})")
    else:
        print(f"usage: python -m nxgeo.yamlguard --install   (installed: {installed()})")
