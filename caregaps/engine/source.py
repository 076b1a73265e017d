"""Read YAML keeping the line of every mapping and key, so that errors can name them.

`load_yaml` returns plain-looking data: `Mapping` (a dict with `.line` and `.key_lines`),
`Sequence` (a list with `.line`) and scalars. `SourceError` carries the file, line and key.
"""

from __future__ import annotations

from pathlib import Path

import yaml


class SourceError(ValueError):
    """A problem in a definition file: which file, which line, which key, what is wrong."""

    def __init__(self, file: str | Path, line: int | None, key: str | None, message: str) -> None:
        self.file, self.line, self.key, self.message = str(file), line, key, message
        where = f"{file}:{line}" if line else str(file)
        super().__init__(f"{where}: {key}: {message}" if key else f"{where}: {message}")


class Mapping(dict):
    line: int = 0

    @property
    def key_lines(self) -> dict:
        return self.__dict__.setdefault("_key_lines", {})

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class Sequence(list):
    line: int = 0


class _Loader(yaml.SafeLoader):
    pass


def _mapping(loader: _Loader, node: yaml.MappingNode) -> Mapping:
    result = Mapping()
    result.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise SourceError(loader.name, key_node.start_mark.line + 1, str(key), "duplicate key")
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> Sequence:
    result = Sequence(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


def load_yaml(path: Path):
    """The YAML document in `path`, with line numbers; a SourceError for malformed YAML."""
    text = path.read_text()
    loader = _Loader(text)
    loader.name = str(path)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise SourceError(path, mark.line + 1 if mark else None, None, f"malformed YAML: {exc.problem}") from None
    finally:
        loader.dispose()
