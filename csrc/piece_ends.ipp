// Rule 4 of ../shared/SEGMENTATION.md: sentence ends and their exceptions, versions 1 and 2.
// Members of PieceSegmenter, included by piece.cpp (which instantiates the template).
#pragma once

#include "piece.hpp"

namespace rdpt {

constexpr std::uint64_t kAbbreviationsV1[] = {
    pack_word("e.g"),  pack_word("i.e"),  pack_word("etc"),    pack_word("vs"),   pack_word("cf"),
    pack_word("approx"), pack_word("resp"), pack_word("fig"), pack_word("figs"), pack_word("eq"),
    pack_word("eqs"),  pack_word("dr"),   pack_word("mr"),     pack_word("mrs"),  pack_word("ms"),
    pack_word("prof"), pack_word("st"),   pack_word("jr"),     pack_word("sr"),   pack_word("al"),
    pack_word("ca"),   pack_word("viz"),  pack_word("ref"),    pack_word("refs"), pack_word("sec"),
    pack_word("ch"),   pack_word("vol"),  pack_word("pp"),     pack_word("incl"), pack_word("esp"),
    pack_word("dept"), pack_word("est")};
constexpr std::uint64_t kAbbreviationsV2Extra[] = {pack_word("mt"), pack_word("ft")};
constexpr std::uint64_t kBeforeADigit[] = {pack_word("no"), pack_word("nos"), pack_word("p")};
constexpr std::uint64_t kRomanNumerals[] = {pack_word("i"),  pack_word("ii"),  pack_word("iii"),
                                            pack_word("iv"), pack_word("v"),   pack_word("vi"),
                                            pack_word("vii"), pack_word("viii"), pack_word("ix"),
                                            pack_word("x"),  pack_word("xi"),  pack_word("xii")};

// End of the terminator run starting at i; in version 2 a single space between two dots belongs to
// the run (`. . .`).
template <bool kCount>
std::size_t PieceSegmenter<kCount>::run_end(std::size_t i) const {
    std::size_t j = i + 1;
    while (j < pe_) {
        if (is_terminator(t_[j]))
            ++j;
        else if (v2_ && t_[j] == ' ' && t_[j - 1] == '.' && j + 1 < pe_ && t_[j + 1] == '.')
            j += 2;
        else
            break;
    }
    return j;
}

// `[...]`, `[…]`, `(...)`, `(…)`: not a terminator (version 2).
template <bool kCount>
bool PieceSegmenter<kCount>::bracketed_ellipsis(std::size_t a, std::size_t b) const {
    if (a == ps_ || b >= pe_) return false;
    const char32_t open = t_[a - 1], close = t_[b];
    if (!((open == '[' && close == ']') || (open == '(' && close == ')'))) return false;
    return (b - a == 3 && t_[a] == '.' && t_[a + 1] == '.' && t_[a + 2] == '.') || (b - a == 1 && t_[a] == 0x2026);
}

// The ASCII word t[a, b) lowercased and packed (0: longer than 8 characters or not ASCII).
template <bool kCount>
std::uint64_t PieceSegmenter<kCount>::packed_word(std::size_t a, std::size_t b) const {
    if (b == a || b - a > 8) return 0;
    std::uint64_t v = 0;
    for (std::size_t k = 0; k < b - a; ++k) {
        char32_t c = t_[a + k];
        if (c >= 0x80) return 0;
        if (c >= 'A' && c <= 'Z') c += 32;
        v |= static_cast<std::uint64_t>(c) << (8 * k);
    }
    return v;
}

// Version 1 of exception b: the letters-and-dots word before the run (leading dots dropped) is
// listed, in any case, or has a dot inside it.
template <bool kCount>
bool PieceSegmenter<kCount>::abbreviation_v1(std::size_t a) const {
    std::size_t w = a;
    while (w > ps_ && (is_letter(t_[w - 1]) || t_[w - 1] == '.')) --w;
    while (w < a && t_[w] == '.') ++w;
    for (std::size_t k = w; k < a; ++k)
        if (t_[k] == '.') return true;
    return word_in(packed_word(w, a), kAbbreviationsV1);
}

// Version 2 of exception b; `next` is the position of the next non-whitespace character.
template <bool kCount>
bool PieceSegmenter<kCount>::abbreviation_v2(std::size_t a, std::size_t next) const {
    std::size_t w = a;
    while (w > ps_ && (is_letter(t_[w - 1]) || t_[w - 1] == '.')) --w;
    if (w == a || (w > ps_ && !is_space(t_[w - 1]) && !is_opening(t_[w - 1]))) return false;
    // A dotted abbreviation: parts of one or two letters joined by dots.
    std::size_t parts = 1, len = 0;
    bool dotted = true;
    for (std::size_t k = w; k < a && dotted; ++k) {
        if (t_[k] != '.') {
            ++len;
            continue;
        }
        dotted = len >= 1 && len <= 2;
        ++parts;
        len = 0;
    }
    if (dotted && len >= 1 && len <= 2 && parts >= 2) return true;
    // Listed words: lower case, or only the first letter capitalised.
    for (std::size_t k = w + 1; k < a; ++k)
        if (t_[k] >= 'A' && t_[k] <= 'Z') return false;
    const std::uint64_t word = packed_word(w, a);
    if (word == pack_word("etc")) return !(next < pe_ && is_uppercase(t_[next]));
    if (word_in(word, kBeforeADigit)) return next < pe_ && is_ascii_digit(t_[next]);
    return word_in(word, kAbbreviationsV1) || word_in(word, kAbbreviationsV2Extra);
}

// Start of the list number (digits, one letter or a roman numeral i..xii) right before a single `.`
// at a, or kNone.
template <bool kCount>
std::size_t PieceSegmenter<kCount>::list_number_start(std::size_t a, std::size_t b) const {
    if (b - a != 1 || t_[a] != '.') return kNone;
    std::size_t w = a;
    while (w > ps_ && is_ascii_digit(t_[w - 1])) --w;
    if (w == a) {
        while (w > ps_ && is_letter(t_[w - 1])) --w;
        if (!(a - w == 1 || word_in(packed_word(w, a), kRomanNumerals))) return kNone;
    }
    return w;
}

// Exception c: a list number at the start of a line, after an optional indent and, in version 2,
// an optional markdown prefix (`#`s and a space; `-`, `*`, `+` or `>` and a space; `**` or `__`).
template <bool kCount>
bool PieceSegmenter<kCount>::list_number(std::size_t a, std::size_t b) const {
    const std::size_t w = list_number_start(a, b);
    if (w == kNone) return false;
    if (indent_from_line_start(w)) return true;
    if (!v2_ || w < ps_ + 2) return false;
    const char32_t c1 = t_[w - 2], c2 = t_[w - 1];
    const bool emphasis = (c1 == '*' || c1 == '_') && c2 == c1;
    const bool bullet = c2 == ' ' && (c1 == '-' || c1 == '*' || c1 == '+' || c1 == '>');
    if ((emphasis || bullet) && indent_from_line_start(w - 2)) return true;
    if (c2 != ' ' || c1 != '#') return false;
    std::size_t p = w - 2;
    while (p > ps_ && t_[p - 1] == '#') --p;
    return indent_from_line_start(p);
}

// Rule 4 for the terminator run t[a, b) (outside any protected region).
template <bool kCount>
void PieceSegmenter<kCount>::terminator_run(std::size_t a, std::size_t b, std::vector<std::size_t>& cand) const {
    if (v2_ && bracketed_ellipsis(a, b)) return;
    bool strong = false, cjk = false;
    for (std::size_t k = a; k < b; ++k) {
        const char32_t c = t_[k];
        strong |= is_strong_terminator(c);
        cjk |= is_cjk_terminator(c);
    }
    std::size_t j = b;
    if (v2_)
        while (j < pe_ && is_closing_v2(t_[j])) ++j;
    else
        while (j < pe_ && is_closing_v1(t_[j])) ++j;
    const std::size_t k = ws_end(j);
    if (cjk) {
        push_candidate(cand, k);
        return;
    }
    if (k == j || has_line_break(j, k)) return;
    if (!strong) {
        if (k < pe_ && is_lowercase(t_[k])) return;
        if (v2_ ? abbreviation_v2(a, k) : abbreviation_v1(a)) return;
        if (list_number(a, b)) return;
    }
    push_candidate(cand, k);
}

}  // namespace rdpt
