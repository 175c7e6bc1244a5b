"""The private iCalendar feed of a user's entries: GET /calendar/{secret}.ics, for any
calendar app to subscribe to, and the GraphQL fields that enable, regenerate and disable it.

The URL is its own credential (calendar apps send no header), so it carries 256 random
bits and only their SHA-256 is stored: the URL is shown once, in enableCalendarFeed's
answer, and `calendarFeed` afterwards says only whether and since when a feed exists (its
`url` null). A lost URL is replaced by enabling again, which revokes the old one. The feed
holds the user's entries of the last FEED_DAYS (at most FEED_MAX_EVENTS, the newest):
title, start, end, and type and project in the description; nothing else about the user."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta

import strawberry
from icalendar import Calendar, Event
from starlette.requests import Request
from starlette.responses import Response

from db.queries import entry_export
from db.queries.entry_export import ExportedEntry
from db.queries.log_entry import EntryFilter
from graph.context import Info, app_state
from graph.errors import NotFound
from graph.export import refusal
from graph.transaction import transaction

FEED_PATH = "/calendar/{secret}.ics"
FEED_DAYS = 183  # about six months back (entries planned ahead are in it too)
FEED_MAX_EVENTS = 5_000
_SECRET = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def feed_url(request: object, secret: str) -> str:
    base = str(request.base_url).rstrip("/")  # type: ignore[attr-defined]
    return base + FEED_PATH.format(secret=secret)


@strawberry.type(description="The user's private iCalendar feed of their entries.")
class CalendarFeed:
    url: str | None = strawberry.field(
        description="The feed's secret URL (GET, no token needed: anyone with it can read "
        "the feed). Given only in enableCalendarFeed's answer; null afterwards, since only "
        "a hash of it is kept: enable again for a new one (the old one stops working)."
    )
    created_at: datetime = strawberry.field(description="When this URL was made.")


@strawberry.type
class CalendarFeedQuery:
    @strawberry.field(
        description="The user's calendar feed, its `url` null (shown only when enabled); "
        "null when the feed is off."
    )
    async def calendar_feed(self, info: Info) -> CalendarFeed | None:
        user_id = info.context.user_id()
        async with info.context.db() as session:
            row = await entry_export.get_feed(session, user_id=user_id)
        return CalendarFeed(url=None, created_at=row.created_at) if row else None


@strawberry.type
class CalendarFeedMutation:
    @strawberry.mutation(
        description="Turns on the user's iCalendar feed, or gives it a new secret URL: the "
        "previous URL stops working at once. The answer is the only time the URL is shown."
    )
    async def enable_calendar_feed(self, info: Info) -> CalendarFeed:
        user_id = info.context.user_id()
        secret = secrets.token_urlsafe(32)
        async with transaction(info.context.db, info.context.state.hub) as session:
            created_at = await entry_export.put_feed(
                session, user_id=user_id, secret_hash=secret_hash(secret)
            )
        return CalendarFeed(url=feed_url(info.context.request, secret), created_at=created_at)

    @strawberry.mutation(
        description="Turns the user's calendar feed off: its URL answers 404 from now on. "
        "False when it was off already."
    )
    async def disable_calendar_feed(self, info: Info) -> bool:
        user_id = info.context.user_id()
        async with transaction(info.context.db, info.context.state.hub) as session:
            return await entry_export.delete_feed(session, user_id=user_id)


def _event(entry: ExportedEntry, stamp: datetime) -> Event:
    event = Event()
    event.add("uid", f"{entry.id}@englog")
    event.add("dtstamp", stamp)
    event.add("summary", entry.title)
    event.add("dtstart", entry.start_time.astimezone(UTC))
    event.add("dtend", entry.end_time.astimezone(UTC))
    kind = entry.type.replace("_", " ").capitalize()
    event.add("description", f"{kind} · {entry.project}" if entry.project else kind)
    return event


async def calendar(request: Request) -> Response:
    """The feed of the secret's user; 404 for any secret that is not a live one."""
    secret = str(request.path_params["secret"])
    state = app_state(request.app)
    if not _SECRET.fullmatch(secret):
        return refusal(NotFound("Calendar feed"))
    now = datetime.now(UTC)
    async with state.db() as session:
        user_id = await entry_export.feed_owner(session, secret_hash=secret_hash(secret))
        if user_id is None:
            return refusal(NotFound("Calendar feed"))
        where = EntryFilter(start_from=now - timedelta(days=FEED_DAYS))
        query = entry_export.export_query(user_id, where, newest=FEED_MAX_EVENTS)
        feed = Calendar()
        feed.add("prodid", "-//EngLog//Calendar feed//EN")
        feed.add("version", "2.0")
        feed.add("calscale", "GREGORIAN")
        feed.add("x-wr-calname", "EngLog")
        async for entries in entry_export.stream_entries(session, query):
            for entry in entries:
                feed.add_component(_event(entry, now))
    return Response(
        feed.to_ical(),
        media_type="text/calendar; charset=utf-8",
        headers={
            "Content-Disposition": 'inline; filename="englog.ics"',
            "Cache-Control": "private, no-store",
            "Referrer-Policy": "no-referrer",
        },
    )
