"""The C++ character classes agree with Python's on every code point."""

import unicodedata

from rdpt_fast import _core


def test_char_classes_match_python_on_every_code_point() -> None:
    wrong = []
    for cp in range(0x110000):
        c = chr(cp)
        category = unicodedata.category(c)
        expected = c.isspace() | (c.isalpha() << 1) | ((category == "Ll") << 2) | ((category == "Lu") << 3)
        if _core.char_class(cp) != expected:
            wrong.append(hex(cp))
    assert not wrong, f"{len(wrong)} code points classified differently, e.g. {wrong[:10]}"
