"""Read a configuration as data, and only as data.

A config file is read with YAML's safe loader plus three refusals, so that what a user writes is
what the workflow gets:
- **templating**: a file that sets ``__use_yte__`` asks Snakemake's YAML templating (YTE) to
  evaluate the Python expressions in it (``?`` keys and values) - arbitrary code run by anyone
  who can edit the config. Refused.
- **tags**: an explicit YAML tag (``!!python/object``, ``!Ref`` ...) makes a loader build
  something other than plain data. Refused, standard ones included: a config never needs them.
- **duplicate keys**: YAML keeps the last of two equal keys silently, so an edited value can be
  shadowed by a forgotten line below it. Refused, naming both lines.

A syntax error names the file, the line and the column.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

TEMPLATING_KEY = "__use_yte__"


class ConfigSyntaxError(ValueError):
    """A config file that is not plain YAML data (the message names file and line)."""


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys."""


def _mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            continue  # the constructor below reports unhashable keys
        line = key_node.start_mark.line + 1
        if key in seen:
            raise ConfigSyntaxError(
                f"line {line}: the key {key!r} appears twice in the same section (first on line "
                f"{seen[key]}); YAML would silently keep only the last one - delete or merge one "
                "of them"
            )
        seen[key] = line
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def _explicit_tags(text: str) -> list[tuple[int, str]]:
    """(line, tag) of every explicit tag in the document (untagged nodes have no tag in the
    event stream; the resolver adds theirs later)."""
    found = []
    for e in yaml.parse(text, Loader=yaml.SafeLoader):
        tag = getattr(e, "tag", None)  # only scalar and collection-start events carry one
        if tag is not None:
            assert e.start_mark is not None  # the parser marks every event it emits
            found.append((e.start_mark.line + 1, tag))
    return found


def loads_strict(text: str, source: str = "config") -> Any:
    """Parse YAML text as plain data, refusing templating, tags and duplicate keys."""
    try:
        tags = _explicit_tags(text)
        if tags:
            shown = ", ".join(f"{t!r} on line {n}" for n, t in tags[:3])
            raise ConfigSyntaxError(
                f"{source}: YAML tags are not allowed in a configuration ({shown}); a config is "
                "plain data: remove the tag and write the value itself"
            )
        loader = _StrictLoader(text)  # a SafeLoader: plain data only
        try:
            data = loader.get_single_data()
        finally:
            loader.dispose()
    except ConfigSyntaxError as exc:
        msg = str(exc)
        raise ConfigSyntaxError(msg if msg.startswith(source) else f"{source}: {msg}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        what = " ".join(x for x in (exc.context, exc.problem) if x)
        raise ConfigSyntaxError(
            f"{source}: not valid YAML at {where}: {what}. Check the indentation (spaces, not "
            "tabs; a list item or key must line up with its siblings) and the quotes"
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigSyntaxError(f"{source}: not valid YAML: {exc}") from None
    if isinstance(data, dict) and TEMPLATING_KEY in data:
        raise ConfigSyntaxError(
            f"{source}: sets {TEMPLATING_KEY}, which would let Snakemake evaluate Python code "
            "written in the config (YAML templating); nxgeo refuses it: a config is plain data. "
            f"Remove the {TEMPLATING_KEY} line and write the values themselves"
        )
    return data


def load_strict(path: str | Path) -> Any:
    path = Path(path)
    return loads_strict(path.read_text(encoding="utf-8"), source=str(path))
