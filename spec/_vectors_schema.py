"""The pieces every vector file's JSON Schema shares (STYLE.md 9, DESIGN.md "Vectors").

Spec: PROJECT vectors.format - one envelope (schema, operation, specRevision, generator,
numberOfTests, header, notes, testGroups) around each file's own group and test schemas.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

#: The categories a flag's note may name (Wycheproof-style).
CATEGORIES: Final[tuple[str, ...]] = ("functionality", "edge_case", "malformed_input")
HEX: Final[dict[str, object]] = {"type": "string", "pattern": "^([0-9a-f]{2})*$"}


def obj(props: dict[str, object], required: list[str] | None = None) -> dict[str, object]:
    """Spec: PROJECT vectors.format - an object schema: `required` (default: every
    property) and no other property."""
    need = list(props) if required is None else required
    return {"type": "object", "properties": props, "required": need, "additionalProperties": False}


NAMED: Final[dict[str, object]] = obj({"name": {"type": "string"}, "version": {"type": "string"}})


def note(categories: Sequence[str] = CATEGORIES) -> dict[str, object]:
    """Spec: PROJECT vectors.format - the note every flag carries."""
    return obj(
        {
            "category": {"enum": list(categories)},
            "description": {"type": "string"},
            "links": {"type": "array", "items": {"type": "string", "format": "uri-reference"}},
        }
    )


def envelope(
    operation: str,
    revision_keys: Sequence[str],
    flags: list[str],
    test_groups: dict[str, object],
    note_schema: dict[str, object] | None = None,
) -> dict[str, object]:
    """Spec: PROJECT vectors.format - the schema of a whole vector file, with
    `test_groups` the schema of its testGroups array."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://chainoftrust.invalid/vectors/schemas/{operation}_schema_v1.json",
        "title": f"chainoftrust {operation} test vectors, version 1",
        **obj(
            {
                "schema": {"const": f"{operation}_schema_v1.json"},
                "operation": {"const": operation},
                "specRevision": obj({k: {"type": "string"} for k in revision_keys}),
                "generator": NAMED,
                "numberOfTests": {"type": "integer", "minimum": 0},
                "header": {"type": "array", "items": {"type": "string"}},
                "notes": obj(dict.fromkeys(flags, note_schema or note()), []),
                "testGroups": test_groups,
            }
        ),
    }
