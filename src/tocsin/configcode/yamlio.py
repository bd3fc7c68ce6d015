"""The configuration file as YAML text, and the JSON Schema editors validate it with."""

from __future__ import annotations

import json
from typing import Any

import yaml

from tocsin.configcode.schemas import ConfigFile
from tocsin.configcode.service import ConfigInvalid

SCHEMA_NOTE = ("# Tocsin configuration as code. Schema: docs/config.schema.json "
               "(`tocsin config schema`).\n"
               "# yaml-language-server: $schema=config.schema.json\n")


class _UniqueKeys(yaml.SafeLoader):
    """A SafeLoader that refuses a key given twice in one mapping (YAML keeps the last)."""


def _mapping(loader: _UniqueKeys, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise ConfigInvalid([f"line {key_node.start_mark.line + 1}: key '{key}' given "
                                 "twice"])
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeys.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def dump(doc: ConfigFile) -> str:
    return SCHEMA_NOTE + yaml.safe_dump(doc.model_dump(mode="json"), sort_keys=False,
                                        allow_unicode=True)


def load(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_UniqueKeys)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ConfigInvalid([f"not valid YAML: {exc}"]) from None


def schema() -> str:
    return json.dumps({"$schema": "https://json-schema.org/draft/2020-12/schema",
                       "$id": "https://tocsin.dev/config.schema.json",
                       **ConfigFile.model_json_schema()}, indent=2) + "\n"
