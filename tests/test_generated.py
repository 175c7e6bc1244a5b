from __future__ import annotations

from pathlib import Path

from graph.schema import export_sdl
from protos.generate import GENERATED, generate

ROOT = Path(__file__).resolve().parent.parent


def test_schema_graphql_equals_the_exported_sdl() -> None:
    committed = (ROOT / "schema.graphql").read_text()
    assert committed == export_sdl(), "schema.graphql is stale: run `just gen`"


def test_every_type_and_field_has_a_description() -> None:
    from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLObjectType

    from graph.schema import build_schema

    schema = build_schema()._schema
    missing = []
    for name, graphql_type in schema.type_map.items():
        if name.startswith("__"):
            continue
        if isinstance(graphql_type, GraphQLObjectType | GraphQLInputObjectType):
            if not graphql_type.description:
                missing.append(name)
            missing.extend(
                f"{name}.{field}"
                for field, value in graphql_type.fields.items()
                if not value.description
            )
        elif isinstance(graphql_type, GraphQLEnumType) and not graphql_type.description:
            missing.append(name)
    assert missing == []


def test_generated_messages_equal_a_fresh_generation(tmp_path: Path) -> None:
    generate(tmp_path)
    fresh = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    committed = {
        p.relative_to(GENERATED): p.read_bytes()
        for p in GENERATED.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert committed == fresh, "protos/generated is stale: run `just gen`"
