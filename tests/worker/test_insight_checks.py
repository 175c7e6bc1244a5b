"""The number checker and the degenerate-answer checks, on the small week of tests/worker."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.fakes.insight_answers import (
    BODIES,
    cut_off,
    date_loop,
    invented_totals,
    narrative,
    sections_of,
    wrong_language,
)
from tests.worker import JOB
from worker.insights.answers import (
    CHECKS,
    Answer,
    first_problem,
    looping,
    repeated_share,
    split_sections,
)
from worker.insights.numbers import Evidence, check_numbers, numbers_in
from worker.jobs import Generation
from worker.tasks.insight import read_answer

WEEKLY = sections_of("WEEKLY_REPORT")
EVIDENCE = Evidence.of(JOB)


def supported(text: str) -> list[bool]:
    return [EVIDENCE.supports(number) for number in numbers_in(text)]


def answer(text: str, done_reason: str = "stop") -> Answer:
    return read_answer(JOB, Generation(text, "m", done_reason=done_reason), EVIDENCE)


def test_numbers_are_read_with_their_units_and_never_inside_words() -> None:
    found = numbers_in("4.5 h, 60%, 270 minutes, 3 entries, 2 days on 2026-11-02 at 09:00")

    assert [(n.text, n.kind) for n in found] == [
        ("4.5 h", "hours"),
        ("60%", "percent"),
        ("270 minutes", "minutes"),
        ("3 entries", "entries"),
        ("2 days", "days"),
        ("2026-11-02", "date"),
        ("09:00", "time"),
    ]
    assert numbers_in("llama3.2:3b reads OAuth2 from S3 and v1") == []


@pytest.mark.parametrize(
    ("text", "verdicts"),
    [
        ("You coded 4.5 h (60%), 270 minutes.", [True, True, True]),  # minutes ↔ hours
        ("About 8 hours in all, 7.5 h exactly.", [True, True]),  # rounded to the hour
        ("Debugging took 27% (26.7%).", [True, True]),  # shares as rounded, either way
        ("3 entries on 2 days, in 1 project.", [True, True, True]),  # counts
        ("On 2026-11-02 and 2026-11-08.", [True, True]),  # dates inside the period
        ("Busiest between 09:00 and 10:00.", [True, True]),  # the busiest hour
        ("Average 3.75 h a day; score 49.7.", [True, True]),
        ("You logged 62.5 hours in 14 entries, 85%.", [False, False, False]),
        ("On 2026-11-09, 2026-13-1 and at 14:00.", [False, False, False]),
        ("5.5 h on the busiest day; 9 hours of meetings.", [True, False]),
    ],
)
def test_each_number_is_matched_against_the_metrics(text: str, verdicts: list[bool]) -> None:
    assert supported(text) == verdicts


def test_numbers_the_user_wrote_in_their_own_titles_are_supported() -> None:
    job = replace(JOB, entries=(replace(JOB.entries[0], title="Upgraded to Python 3.13"),))

    assert [Evidence.of(job).supports(n) for n in numbers_in("Moved to 3.13 (1 of 12)")] == [
        True,
        True,
        False,
    ]


def test_a_sentence_with_an_unsupported_number_is_taken_out_and_listed() -> None:
    sections = {
        "Accomplishments": "- Shipped pagination in 4.5 h. It took 99 hours.\n- Fixed a test.",
        "Observations": "Coding was 60% of the week. Meetings took 45%! Calm otherwise.",
    }

    verdict = check_numbers(sections, EVIDENCE)

    assert verdict.sections == {
        "Accomplishments": "- Shipped pagination in 4.5 h.\n- Fixed a test.",
        "Observations": "Coding was 60% of the week. Calm otherwise.",
    }
    assert (verdict.supported, verdict.unsupported) == (2, 2)
    assert verdict.removed == ("It took 99 hours.", "Meetings took 45%!")


def test_sections_are_read_under_the_headings_asked_for_in_any_form() -> None:
    text = (
        "Sure! Here it is.\n# Accomplishments\nA.\n**Observations:**\nB.\n"
        "## Where the time went\n- Coding: 99 h\nfocus for next week:\nC.\n"
    )

    assert split_sections(text, WEEKLY) == {
        "Accomplishments": "A.",
        "Observations": "B.",
        "Focus for next week": "C.",
    }


@pytest.mark.parametrize(
    ("text", "done_reason", "problem"),
    [
        (narrative(WEEKLY), "stop", None),
        ("", "stop", "the answer was empty"),
        ("A good week.", "stop", "the answer was nearly empty (3 words)"),
        (date_loop(), "stop", "the answer repeated itself"),
        (date_loop(), "loop", "the answer repeated itself and was stopped"),
        (cut_off(WEEKLY), "length", "the answer was cut off at its token limit"),
        (wrong_language(WEEKLY), "stop", "the answer was not in English"),
        (
            "Summary of the week. " + " ".join(BODIES),
            "stop",
            "the answer left out the sections Accomplishments, Observations, Focus for next week",
        ),
        (invented_totals(WEEKLY), "stop", None),  # three sentences out, the rest stands
    ],
)
def test_each_degenerate_answer_is_refused_for_its_reason(
    text: str, done_reason: str, problem: str | None
) -> None:
    assert first_problem(answer(text, done_reason)) == problem


def test_a_wall_of_numbers_is_refused() -> None:
    wall = "Totals 4.5 h, coding 60%, debug 2.0 h, review 13%, days 2, entries 3, 09:00, 49.7"

    assert first_problem(answer(wall)) == "the answer was mostly dates and numbers"


def test_an_answer_made_mostly_of_invented_figures_is_refused() -> None:
    bodies = ["You logged 62 h in 14 entries over 9 days, 85% of it coding.", *BODIES[1:]]

    assert first_problem(answer(narrative(WEEKLY, bodies))) == (
        "4 of the answer's 4 numbers are not in the log"
    )


def test_a_section_emptied_by_its_invented_figures_is_refused() -> None:
    bodies = [BODIES[0], "Meetings took 31 hours.", BODIES[2]]

    assert first_problem(answer(narrative(WEEKLY, bodies))) == (
        "nothing the log supports was left in Observations"
    )


def test_every_check_has_its_own_name() -> None:
    names = [check.name for check in CHECKS]
    assert len(set(names)) == len(names) == 7


def test_a_loop_is_seen_while_streaming_and_prose_is_not() -> None:
    assert looping(date_loop())
    assert looping("Great work. " * 40)
    assert not looping(narrative(sections_of("PERFORMANCE_REVIEW")))
    assert repeated_share(" ".join(BODIES)) == 0.0
