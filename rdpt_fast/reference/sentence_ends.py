"""Rule 4 of ../shared/SEGMENTATION.md: sentence ends and their exceptions (reference implementation).
`version` is the "reasoning" ruleset version (1 or 2); the differences are listed at the end of
SEGMENTATION.md. Offsets are `str` indices within one piece."""

from __future__ import annotations

import re
import unicodedata

from rdpt_fast.reference.regions import LINE_BREAKS, RegionIndex, is_line_start

ABBREVIATIONS_V1 = frozenset(
    [
        "e.g",
        "i.e",
        "etc",
        "vs",
        "cf",
        "approx",
        "resp",
        "fig",
        "figs",
        "eq",
        "eqs",
        "dr",
        "mr",
        "mrs",
        "ms",
        "prof",
        "st",
        "jr",
        "sr",
        "al",
        "ca",
        "viz",
        "ref",
        "refs",
        "sec",
        "ch",
        "vol",
        "pp",
        "incl",
        "esp",
        "dept",
        "est",
    ]
)
ABBREVIATIONS_V2 = ABBREVIATIONS_V1 | {"mt", "ft"}
BEFORE_A_DIGIT = frozenset(["no", "nos", "p"])  # version 2: abbreviations only before a digit
ROMAN_NUMERALS = frozenset(["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii"])
CLOSING_V1 = frozenset(")]}\"'”’»")
CLOSING_V2 = CLOSING_V1 | frozenset("」』）】〉》*_`")
OPENING = frozenset("([{\"'“‘«「『（【〈《")  # may come right before an abbreviation (version 2)
STRONG_TERMINATORS = frozenset("?!‽")
CJK_TERMINATORS = frozenset("。！？．")
BRACKETED_ELLIPSES = frozenset(["[...]", "[…]", "(...)", "(…)"])
TERMINATOR_RUN_V1 = re.compile("[?!‽.…。！？．]+")
TERMINATOR_RUN_V2 = re.compile("(?:[?!‽.…。！？．]|(?<=\\.) (?=\\.))+")  # `. . .` is one run
MARKDOWN_LIST_PREFIXES = ("**", "__", "- ", "* ", "+ ", "> ")


def whitespace_end(t: str, i: int) -> int:
    while i < len(t) and t[i].isspace():
        i += 1
    return i


def indent_from_line_start(t: str, i: int) -> bool:
    """True when only non-line-break whitespace stands between the line start and `i`."""
    while i > 0 and t[i - 1].isspace() and t[i - 1] not in LINE_BREAKS:
        i -= 1
    return is_line_start(t, i)


def word_start(t: str, run_start: int) -> int:
    """Start of the run of letters and dots that ends at `run_start`."""
    w = run_start
    while w > 0 and (t[w - 1].isalpha() or t[w - 1] == "."):
        w -= 1
    return w


def is_abbreviation_v1(t: str, run_start: int) -> bool:
    """Version 1 of exception b: the letters-and-dots word (leading dots dropped) is listed, in any
    case, or has a dot inside it."""
    word = t[word_start(t, run_start) : run_start].lstrip(".")
    return "." in word or (word.isascii() and word.lower() in ABBREVIATIONS_V1)


def is_dotted_abbreviation(word: str) -> bool:
    """Parts of one or two letters joined by dots (`U.S`, `a.m`, `Ph.D`)."""
    parts = word.split(".")
    return len(parts) >= 2 and all(1 <= len(p) <= 2 for p in parts)


def is_abbreviation_v2(t: str, run_start: int, next_pos: int) -> bool:
    """Version 2 of exception b; `next_pos` is the position of the next non-whitespace character."""
    w = word_start(t, run_start)
    word = t[w:run_start]
    if not word or (w > 0 and not (t[w - 1].isspace() or t[w - 1] in OPENING)):
        return False  # no word, or one that does not start after a space, bracket or quote
    if is_dotted_abbreviation(word):
        return True
    lowered = word.lower()
    if not word.isascii() or word not in (lowered, lowered.capitalize()):
        return False
    following = t[next_pos] if next_pos < len(t) else ""
    if lowered == "etc":
        return not (following and unicodedata.category(following) == "Lu")
    if lowered in BEFORE_A_DIGIT:
        return following.isascii() and following.isdigit()
    return lowered in ABBREVIATIONS_V2


def list_number_start(t: str, run_start: int, run_end: int) -> int | None:
    """Start of the list number (digits, one letter or a roman numeral i..xii) right before a single
    `.` at `run_start`, or None when there is none."""
    if run_end - run_start != 1 or t[run_start] != ".":
        return None
    w = run_start
    while w > 0 and "0" <= t[w - 1] <= "9":
        w -= 1
    if w == run_start:
        while w > 0 and t[w - 1].isalpha():
            w -= 1
        token = t[w:run_start]
        if not (len(token) == 1 or (token.isascii() and token.lower() in ROMAN_NUMERALS)):
            return None
    return w


def ends_list_number(t: str, run_start: int, run_end: int, version: int) -> bool:
    """Exception c: the `.` ends a list number at the start of a line, after an optional indent and,
    in version 2, an optional markdown prefix (`#`s and a space; `-`, `*`, `+` or `>` and a space;
    `**` or `__`)."""
    w = list_number_start(t, run_start, run_end)
    if w is None:
        return False
    if indent_from_line_start(t, w):
        return True
    if version == 1:
        return False
    if w >= 2 and t[w - 2 : w] in MARKDOWN_LIST_PREFIXES and indent_from_line_start(t, w - 2):
        return True
    if w >= 2 and t[w - 1] == " " and t[w - 2] == "#":
        p = w - 1
        while p > 0 and t[p - 1] == "#":
            p -= 1
        return indent_from_line_start(t, p)
    return False


def is_bracketed_ellipsis(t: str, run_start: int, run_end: int) -> bool:
    """`[...]`, `[…]`, `(...)` or `(…)`: not a terminator (version 2)."""
    return run_start > 0 and t[run_start - 1 : run_end + 1] in BRACKETED_ELLIPSES


def sentence_end_boundaries(t: str, index: RegionIndex, version: int) -> set[int]:
    """Rule 4: the boundary after each terminator run outside the protected regions of `index`
    (after its closing characters and the whitespace run that follows), exceptions applied."""
    boundaries: set[int] = set()
    closing = CLOSING_V1 if version == 1 else CLOSING_V2
    for m in (TERMINATOR_RUN_V1 if version == 1 else TERMINATOR_RUN_V2).finditer(t):
        a, b = m.start(), m.end()
        if index.covers(a) or (version == 2 and is_bracketed_ellipsis(t, a, b)):
            continue
        run = m.group()
        j = b
        while j < len(t) and t[j] in closing:
            j += 1
        k = whitespace_end(t, j)
        if any(c in CJK_TERMINATORS for c in run):
            boundaries.add(k)
            continue
        if k == j or any(c in LINE_BREAKS for c in t[j:k]):
            continue  # no whitespace: not an end; a line break: rule 3 already put the boundary there
        if not any(c in STRONG_TERMINATORS for c in run):
            if k < len(t) and unicodedata.category(t[k]) == "Ll":
                continue
            abbreviation = is_abbreviation_v1(t, a) if version == 1 else is_abbreviation_v2(t, a, k)
            if abbreviation or ends_list_number(t, a, b, version):
                continue
        boundaries.add(k)
    return boundaries
