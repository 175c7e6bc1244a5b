"""Generated values: text of every kind, wrong JSON types, dates and instants in and out of
range, ids that are the user's own, another's or gone, and a strategy for every argument of
every query and subscription (the tables the coverage checks compare with the schema)."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from hypothesis import strategies as st

# Text of every kind JSON can carry (lone surrogates cannot be encoded: test_malformed.py sends
# them as raw escapes), runs of one character past every limit, and awkward favourites.
AWKWARD = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\t",
    "\r\n",
    "\x7f",
    "\u0085",
    "\u2028",
    "\ufeff",
    "\u202e",
    "🙂",
    "e\u0301",
    "ß",
    "'; DROP TABLE project; --",
    "%s%n",
    "null",
    "{}",
]
LONG = st.builds(
    lambda char, size: char * size,
    st.characters(exclude_categories=["Cs"]),
    st.sampled_from([51, 101, 129, 201, 255, 2001, 100_000]),
)
TEXT = st.one_of(st.text(), st.sampled_from(AWKWARD), LONG)
WRONG = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
STRINGISH = st.one_of(TEXT, WRONG)


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of the strategies, each as often as its weight says."""

    def pick(number: int) -> st.SearchStrategy[Any]:
        for weight, strategy in choices:
            if number < weight:
                return strategy
            number -= weight
        raise AssertionError(number)

    return st.integers(0, sum(weight for weight, _ in choices) - 1).flatmap(pick)


def plausible(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly `strategy`, otherwise anything a client could send instead: an input of a few
    fields then succeeds about as often as it is refused."""
    return weighted((7, strategy), (1, STRINGISH))


def enum(*values: str) -> st.SearchStrategy[Any]:
    return plausible(st.sampled_from(values))


DATES = st.one_of(
    st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31)).map(date.isoformat),
    st.dates().map(date.isoformat),
    st.sampled_from(
        ["0000-01-01", "10000-01-01", "-0001-01-01", "2026-02-30", "2026-13-01", "20260105"]
    ),
)
DATE = plausible(DATES)
OFFSETS = st.sampled_from(["+00:00", "Z", "+01:00", "-14:00", "+14:00", "+05:45", "-00:30"])
DATETIMES = st.one_of(
    st.builds(
        lambda moment, offset: moment.isoformat() + offset,
        st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31)),
        OFFSETS,
    ),
    st.builds(lambda moment, offset: moment.isoformat() + offset, st.datetimes(), OFFSETS),
    st.datetimes(timezones=st.timezones()).map(datetime.isoformat),
    st.datetimes().map(datetime.isoformat),  # no offset
    st.sampled_from(
        [
            "0001-01-01T00:00:00+00:00",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59.999999+00:00",
            "9999-12-31T23:59:00-14:00",
            "1899-12-31T23:59:59+00:00",
            "3000-01-01T00:00:00+00:00",
            "10000-01-01T00:00:00+00:00",
            "2026-01-01T00:00:00+25:00",
            "2026-01-01T24:00:00+00:00",
            "2026-01-01T00:00:00 Europe/Berlin",
        ]
    ),
)
DATETIME = plausible(DATETIMES)
COLOR = plausible(st.from_regex(r"#[0-9A-Fa-f]{6}", fullmatch=True))
ZONES = plausible(
    st.sampled_from(
        [
            "UTC",
            "Europe/London",
            "Pacific/Kiritimati",
            "America/St_Johns",
            "utc",
            "Europe/../UTC",
            "/etc/localtime",
            "localtime",
            "Factory",
            "Etc/GMT+14",
            "Europe/Berlin ",
        ]
    )
)


class Ref:
    """An id chosen at run time: the user's own object, another user's, or a deleted one."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Ref({self.name!r})"


OWN, OTHERS, GONE = Ref("own"), Ref("others"), Ref("gone")
IDS = weighted(
    (3, st.just(OWN)),
    (1, st.sampled_from([OTHERS, GONE])),
    (1, st.uuids().map(str)),
    (
        1,
        st.sampled_from(
            ["00000000-0000-0000-0000-000000000000", "{" + str(uuid.UUID(int=1)) + "}"]
        ),
    ),
    (1, STRINGISH),
)


def resolve(value: Any, refs: dict[str, Any]) -> Any:
    """`value` with every Ref replaced by its id in `refs`."""
    if isinstance(value, Ref):
        return refs[value.name]
    if isinstance(value, dict):
        return {key: resolve(item, refs) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(resolve(item, refs) for item in value)
    return value


def huge(item: Any) -> st.SearchStrategy[list[Any]]:
    return st.sampled_from([0, 21, 101, 501, 5000]).map(lambda size: [item] * size)


# Python's str.lower() and PostgreSQL's lower() disagree on "İ" and on a final "Σ": both are in.
TAG_TEXT = st.one_of(TEXT, st.sampled_from(["İ", "i", "ΑΣ", "ασ"]))
TAG_NAMES = plausible(st.one_of(st.lists(plausible(TAG_TEXT), max_size=25), huge("x"), huge(None)))


ACTIVITY = enum("MEETING", "CODE", "DEBUG", "DOCS", "REVIEW", "OPS")
VALUE = enum("LOW", "MEDIUM", "HIGH")
IMPACT = enum("PERSONAL", "TEAM", "PRODUCT", "COMPANY")

# --- the arguments of the reads ----------------------------------------------------------


def b64(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


# Instants whose UTC form leaves years 1–9999, and their neighbours: a pair of them is a
# range short enough to get past the range checks.
EDGES = st.sampled_from(
    [
        "0001-01-01T00:00:00+14:00",
        "0001-01-02T00:00:00+00:00",
        "9999-12-31T23:00:00-14:00",
        "9999-12-30T00:00:00+00:00",
    ]
)
INSTANTS = weighted((2, DATETIME), (1, EDGES))
CURSOR = Ref("cursor")  # a cursor the page answered for the user's own entries
CURSORS = weighted(
    (2, st.just(CURSOR)),
    (
        2,
        st.builds(
            lambda moment, item: b64(f"{moment}|{item}"), st.one_of(DATETIMES, EDGES), st.uuids()
        ),
    ),
    (1, st.builds(lambda text, item: b64(f"{text}|{item}"), TEXT, TEXT)),
    (1, TEXT.map(b64)),
    (2, STRINGISH),
)
PAGE_SIZES = weighted(
    (3, st.sampled_from([1, 20, 100])),
    (2, st.sampled_from([0, -1, 101, 2**31 - 1, -(2**31), 2**31, 2**53])),
    (1, st.integers()),
    (1, STRINGISH),
)
ACTIVITIES = ("MEETING", "CODE", "DEBUG", "DOCS", "REVIEW", "OPS")
VALUES = ("LOW", "MEDIUM", "HIGH")
IMPACTS = ("PERSONAL", "TEAM", "PRODUCT", "COMPANY")


def enum_list(values: tuple[str, ...]) -> st.SearchStrategy[Any]:
    # Past PostgreSQL's 32,767 bound parameters too.
    return plausible(
        st.one_of(
            st.lists(enum(*values), max_size=6),
            huge(values[0]),
            st.just([values[-1]] * 32_768),
        )
    )


FILTERS = plausible(
    st.fixed_dictionaries(
        {},
        optional={
            "from": INSTANTS,
            "to": INSTANTS,
            "projectIds": plausible(st.one_of(st.lists(IDS, max_size=4), huge(OWN))),
            "types": enum_list(ACTIVITIES),
            "tags": plausible(
                st.one_of(
                    st.lists(plausible(TAG_TEXT), max_size=6),
                    st.just(["rust", "a\x00b"]),
                    huge("x"),
                    huge("a\x00b"),
                    st.just(["x" * 500_000]),
                )
            ),
            "valueRatings": enum_list(VALUES),
            "impactLevels": enum_list(IMPACTS),
            "search": plausible(st.one_of(TEXT, st.just("s" * 500_000))),
        },
    )
)

NEWEST = Ref("newest")  # the newest event id of the user's stream of that subscription
THEIRS = Ref("theirs")  # the other account's newest event id
SINCES = weighted(
    (2, st.sampled_from([NEWEST, THEIRS, None, "0"])),
    (
        2,
        st.sampled_from(
            [
                "9999999999999999999",  # above int64
                "9223372036854775807",
                "99999999999999999999",
                "-1",
                "1.0",
                " 1",
                "²",  # str.isdigit() says yes, int() says no
                "١٢",  # Arabic-Indic digits: int() takes them
                "9" * 100_000,
            ]
        ),
    ),
    (1, st.integers(min_value=0, max_value=2**70).map(str)),
    (1, st.sampled_from(AWKWARD)),
    (1, st.one_of(LONG, WRONG)),
)


@dataclass(frozen=True)
class Read:
    """How to try one query or subscription: what to select of its answer, a strategy for
    each of its arguments, and which kind of object its Ref ids stand for."""

    selection: str
    arguments: dict[str, st.SearchStrategy[Any]] = field(default_factory=dict)
    kind: str = "project"


QUERIES = {
    "project": Read("{ id }", {"id": IDS}),
    "popularTags": Read("{ id }", {"limit": PAGE_SIZES}),
    "logEntry": Read("{ id }", {"id": IDS}, "entry"),
    "logEntries": Read(
        "{ totalCount edges { cursor } }",
        {"filter": FILTERS, "first": PAGE_SIZES, "after": CURSORS},
    ),
    "insight": Read("{ id }", {"id": IDS}, "insight"),
    "insights": Read(
        "{ totalCount }",
        {
            "kind": enum("WEEKLY_REPORT", "DAILY_SUMMARY", "PERFORMANCE_REVIEW"),
            "status": enum("PENDING", "RUNNING", "COMPLETED", "FAILED"),
            "first": PAGE_SIZES,
            "after": CURSORS,
        },
    ),
    "timeAllocation": Read("{ totalMinutes }", {"from": INSTANTS, "to": INSTANTS}),
    "productivityMetrics": Read("{ totalMinutes }", {"from": INSTANTS, "to": INSTANTS}),
}
# The queries without arguments: nothing to generate.
NO_ARGUMENTS = {
    "me",
    "exportMyData",
    "projects",
    "tags",
    "sessions",
    "runningTimer",
    "accessTokens",
    "calendarFeed",
}

SUBSCRIPTIONS = {
    "insightEvents": Read("{ cursor }", {"since": SINCES}),
    "logEntryEvents": Read("{ cursor }", {"since": SINCES}),
    "notifications": Read("{ cursor }", {"since": SINCES}),
    "timerEvents": Read("{ cursor }", {"since": SINCES}),
    "insightProgress": Read("{ insightId }", {"id": IDS}, "insight"),
}
TOPICS = {
    "insightEvents": "insight",
    "logEntryEvents": "log_entry",
    "notifications": "notification",
    "timerEvents": "running_timer",
}
