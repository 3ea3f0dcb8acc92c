"""Answers to a campaign's script questions: one rule for the screen and for the service.

A question either takes free text (no choices), or one of its listed choices, typed any way
(case and accents ignored), or, when the question allows it (`other`), any other text.
"""

from __future__ import annotations

from outreach.domain.text import fold

OTHER_MARK = "*"  # in `key=text|choice|...|*`: the question also takes another answer


def matching_choice(choices: tuple[str, ...], typed: str) -> str | None:
    """The first choice that `typed` starts (case and accents ignored), None if none does.

    An exact match wins over a longer choice it starts ('non' picks 'non', not 'non merci')."""
    key = fold(typed)
    if not key:
        return None
    for choice in choices:
        if fold(choice) == key:
            return choice
    for choice in choices:
        if fold(choice).startswith(key):
            return choice
    return None


def exact_choice(choices: tuple[str, ...], answer: str) -> str | None:
    """The choice `answer` names exactly (case and accents ignored), None if none."""
    key = fold(answer)
    return next((c for c in choices if fold(c) == key), None)


def check_answer(choices: tuple[str, ...], other: bool, answer: str) -> str:
    """The answer as stored: the listed choice it names, or free text where allowed.

    ValueError when the question lists choices, the answer is none of them and the question
    takes no other answer."""
    if not choices:
        return answer
    choice = exact_choice(choices, answer)
    if choice is not None:
        return choice
    if other:
        return answer
    raise ValueError(answer)
