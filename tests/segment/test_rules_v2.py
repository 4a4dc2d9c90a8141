"""Hand-worked cases for what changed from version 1 to version 2 of the "reasoning" ruleset
(SEGMENTATION.md, "Changes from version 1"), each with its version-1 outcome where they differ."""

import pytest

from rdpt_fast import segment

from .helpers import BACKENDS, bars, check_partition

# (expected under version 2, expected under version 1), `|` at boundaries
CASES = [
    # inline `$`: pandoc's rule tells money from math
    ("It costs $1.50. |Then we pay $2 more.", "It costs $1.50. Then we pay $2 more."),
    ("It costs $5 and $6. |Then", "It costs $5 and $6. |Then"),
    ("Pay $ 5. |Then $x$ ok.", "Pay $ 5. Then $x$ ok."),
    ("$a $b. C$", "$a $b. |C$"),
    ("Set $a = b. C$ here.", "Set $a = b. C$ here."),
    ("Cost: 5$. |Next", "Cost: 5$. |Next"),
    ("$x$1 and y$ z. |W", "$x$1 and y$ z. |W"),
    ("a \\$x. |B \\$", "a \\$x. |B \\$"),
    ("$x. |$\n|y$", "$x. $\n|y$"),
    # closing characters: CJK and markdown closers
    ("**Case 1.** |Next", "**Case 1.** Next"),
    ("_Done._ |Next", "_Done._ Next"),
    ("Use `x.` |Then", "Use `x.` Then"),
    ("他说「好。」|然后", "他说「好。|」然后"),
    ("（好。）|然后", "（好。|）然后"),
    # abbreviations: delimited words, lower or capitalised case, mt/ft, no/nos/p before a digit, etc.
    ("Add the 1st. |Then the 2nd.", "Add the 1st. Then the 2nd."),
    ("The sides are AB and CA. |Two circles meet.", "The sides are AB and CA. Two circles meet."),
    ("ETC. |Then", "ETC. Then"),
    ("ST. |Louis", "ST. Louis"),
    ("Ca. 1900 it was built.", "Ca. 1900 it was built."),
    ("See No. 5 now.", "See No. |5 now."),
    ("I said No. |Then", "I said No. |Then"),
    ("Turn to p. 55 now.", "Turn to p. |55 now."),
    ("Turn to p. |The end.", "Turn to p. |The end."),
    ("Take nos. 3 and 4.", "Take nos. |3 and 4."),
    ("I can see Mt. Fuji.", "I can see Mt. |Fuji."),
    ("It is 5 ft. Tall", "It is 5 ft. |Tall"),
    ("Cats, dogs, etc. |Then", "Cats, dogs, etc. Then"),
    ("Cats, etc. 5 more.", "Cats, etc. 5 more."),
    ("Cats, etc.) |Then", "Cats, etc.) Then"),
    ("The U.S. Army", "The U.S. Army"),
    ("A Ph.D. Student", "A Ph.D. Student"),
    ("Write to example.com. |Next", "Write to example.com. Next"),
    ("x-Dr. |Smith", "x-Dr. Smith"),
    ("(Dr. Smith) came.", "(Dr. Smith) came."),
    ("“Dr. Who” came.", "“Dr. Who” came."),
    # list numbers after a markdown prefix
    ("**3. Title**\n|Next.", "**3. |Title**\n|Next."),
    ("### 2. Setup", "### 2. |Setup"),
    ("- 1. First", "- 1. |First"),
    ("> a. Quote", "> a. |Quote"),
    ("  * iv. Four", "  * iv. |Four"),
    ("__2. Bold__", "__2. |Bold__"),
    ("#2. |Two", "#2. |Two"),
    ("x **3. |Title", "x **3. |Title"),
    # spaced and bracketed ellipses
    ("He paused. . . |Then he left.", "He paused. |. |. |Then he left."),
    ("Wait . . . no.", "Wait . |. |. no."),
    ("Go.  |. |B", "Go.  |. |B"),
    ("He said [...] Then left.", "He said [...] |Then left."),
    ("He said (…) Then left.", "He said (…) |Then left."),
    ("He said [....] |Then left.", "He said [....] |Then left."),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("v2", "v1"), CASES)
def test_version_2_and_version_1(v2: str, v1: str, backend: str) -> None:
    text = v2.replace("|", "")
    assert text == v1.replace("|", "")
    for rules, expected in (("reasoning", v2), ("reasoning-v2", v2), ("reasoning-v1", v1)):
        segs = segment(text, rules=rules, backend=backend)
        check_partition(text, segs)
        assert bars(text, segs) == expected, rules
