from __future__ import annotations

import strawberry

from db.models import Tag as TagRow


@strawberry.type(description="A label for entries, created explicitly or on first use by name.")
class Tag:
    id: strawberry.ID = strawberry.field(description="The tag's id (a UUID).")
    name: str = strawberry.field(description="Name, unique per user (case-insensitive), ≤ 50.")
    category: str | None = strawberry.field(description="Optional grouping, e.g. `skill`.")
    color: str | None = strawberry.field(description="Display colour as #RRGGBB.")
    usage_count: int = strawberry.field(description="How many of the user's entries carry it.")

    @classmethod
    def from_model(cls, row: TagRow) -> Tag:
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            category=row.category,
            color=row.color,
            usage_count=row.usage_count,
        )


@strawberry.input(description="A new tag.")
class CreateTagInput:
    name: str = strawberry.field(description="1–50 characters, unique per user.")
    category: str | None = strawberry.field(default=None, description="Up to 50 characters.")
    color: str | None = strawberry.field(default=None, description="#RRGGBB.")


@strawberry.input(description="Changes to a tag; omitted fields stay, null clears.")
class UpdateTagInput:
    name: str | None = strawberry.field(default=strawberry.UNSET, description="New name.")
    category: str | None = strawberry.field(
        default=strawberry.UNSET, description="New category; null clears."
    )
    color: str | None = strawberry.field(
        default=strawberry.UNSET, description="#RRGGBB; null clears."
    )
