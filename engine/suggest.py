""""Did you mean" hints for names a user typed: parameters, nodes, steps, columns, models.

``difflib`` is imported only when a hint is asked for, that is when a message about a wrong name is being made:
``emberflow validate`` on a valid workflow never loads it.
"""

from __future__ import annotations

from collections.abc import Iterable


def close_match(word: object, options: Iterable[object]) -> str | None:
    """The option closest to ``word``, ignoring case (``readcsv`` finds ``ReadCSV``), or None if none is close."""
    by_lower: dict[str, str] = {}
    for option in options:
        by_lower.setdefault(str(option).lower(), str(option))
    wanted = str(word).lower()
    if wanted in by_lower:  # the same name in another case (an identical one is no hint)
        return by_lower[wanted] if by_lower[wanted] != str(word) else None
    import difflib  # only for this message

    found = difflib.get_close_matches(wanted, list(by_lower), n=1)
    return by_lower[found[0]] if found else None


def did_you_mean(word: object, options: Iterable[object]) -> str:
    """`` (did you mean 'X'?)`` for the option closest to ``word``, or an empty string if none is close."""
    match = close_match(word, options)
    return f" (did you mean '{match}'?)" if match is not None else ""


def did_you_mean_each(words: Iterable[object], options: Iterable[object]) -> str:
    """`` (did you mean 'age' for 'Age', 'mass' for 'Mas'?)`` for those of ``words`` with a close option."""
    options = list(options)
    pairs = [(word, close_match(word, options)) for word in words]
    found = [f"'{match}' for '{word}'" for word, match in pairs if match is not None]
    return f" (did you mean {', '.join(found)}?)" if found else ""
