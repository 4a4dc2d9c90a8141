// Rule 2 of ../shared/SEGMENTATION.md: protected regions (code fences, display and inline math).
// Members of PieceSegmenter, included by piece.cpp (which instantiates the template).
#pragma once

#include "piece.hpp"

namespace rdpt {

template <bool kCount>
bool PieceSegmenter<kCount>::fence_at(std::size_t i) const {
    if (i + 3 > pe_ || t_[i] != '`' || t_[i + 1] != '`' || t_[i + 2] != '`') return false;
    std::size_t indent = 0;
    while (indent < 4 && i - indent > ps_ && t_[i - indent - 1] == ' ') ++indent;
    return indent <= 3 && is_line_start(i - indent);
}

template <bool kCount>
std::size_t PieceSegmenter<kCount>::line_end_after_break(std::size_t i) const {
    while (i < pe_ && !is_line_break(t_[i])) ++i;
    if (i >= pe_) return pe_;
    if (t_[i] == '\r' && i + 1 < pe_ && t_[i + 1] == '\n') return i + 2;
    return i + 1;
}

template <bool kCount>
std::size_t PieceSegmenter<kCount>::fence_close(std::size_t opener) {
    if (fence_failed_from_ != kNone && opener >= fence_failed_from_) return kNone;
    std::size_t line = line_end_after_break(opener);
    while (line < pe_) {
        std::size_t j = line;
        while (j < pe_ && j - line < 3 && t_[j] == ' ') ++j;
        if (fence_at(j)) return line_end_after_break(j);
        line = line_end_after_break(line);
    }
    fence_failed_from_ = opener;
    return kNone;
}

template <bool kCount>
std::size_t PieceSegmenter<kCount>::dollar_pair_from(std::size_t s) {
    if (!pair_.valid_for(s)) {
        pair_ = {s, kNone};
        for (std::size_t k = s; k + 1 < pe_; ++k)
            if (t_[k] == '$' && t_[k + 1] == '$' && t_[k - 1] != '\\') {
                pair_.found = k;
                break;
            }
    }
    return pair_.found;
}

// Version 1: the next `$` not preceded by a backslash on the same line.
template <bool kCount>
std::size_t PieceSegmenter<kCount>::inline_dollar_v1_from(std::size_t s) const {
    for (std::size_t k = s; k < pe_ && !is_line_break(t_[k]); ++k)
        if (t_[k] == '$' && t_[k - 1] != '\\') return k;
    return kNone;
}

// Version 2 (pandoc): the next `$` on the same line with a non-space, non-backslash character before
// it and no ASCII digit after it. The cache holds the first such `$` or line break.
template <bool kCount>
std::size_t PieceSegmenter<kCount>::inline_dollar_v2_from(std::size_t s) {
    if (!dollar_v2_.valid_for(s)) {
        dollar_v2_ = {s, kNone};
        for (std::size_t k = s; k < pe_; ++k) {
            const char32_t c = t_[k];
            if (is_line_break(c) || (c == '$' && !is_space(t_[k - 1]) && t_[k - 1] != '\\' &&
                                     !(k + 1 < pe_ && is_ascii_digit(t_[k + 1])))) {
                dollar_v2_.found = k;
                break;
            }
        }
    }
    const std::size_t k = dollar_v2_.found;
    return (k == kNone || is_line_break(t_[k])) ? kNone : k;
}

template <bool kCount>
std::size_t PieceSegmenter<kCount>::bracket_close_from(std::size_t s) {
    if (!bracket_.valid_for(s)) {
        bracket_ = {s, kNone};
        for (std::size_t k = s; k + 1 < pe_; ++k)
            if (t_[k] == '\\' && t_[k + 1] == ']') {
                bracket_.found = k;
                break;
            }
    }
    return bracket_.found;
}

// The closer `\)` must come before the next line break; the cache holds the first of the two.
template <bool kCount>
std::size_t PieceSegmenter<kCount>::paren_close_from(std::size_t s) {
    if (!paren_.valid_for(s)) {
        paren_ = {s, kNone};
        for (std::size_t k = s; k < pe_; ++k)
            if (is_line_break(t_[k]) || (t_[k] == '\\' && k + 1 < pe_ && t_[k + 1] == ')')) {
                paren_.found = k;
                break;
            }
    }
    const std::size_t k = paren_.found;
    return (k == kNone || is_line_break(t_[k])) ? kNone : k;
}

// At an opener character t[i] (`, $ or \\): the protected region starting there, if any; otherwise
// `skip` says how many characters are literal text (an opener without its closer).
template <bool kCount>
bool PieceSegmenter<kCount>::region_at(std::size_t i, Region& region, std::size_t& skip) {
    const char32_t c = t_[i];
    std::size_t k;
    skip = 1;
    if (c == '`') {
        if (!fence_at(i)) return false;
        skip = 3;
        k = fence_close(i);
        if (k == kNone) return false;
        region = {i, k, true};
        return true;
    }
    if (c == '$') {
        if (i > ps_ && t_[i - 1] == '\\') return false;
        if (i + 1 < pe_ && t_[i + 1] == '$') {
            skip = 2;
            k = dollar_pair_from(i + 2);
            if (k == kNone) return false;
            region = {i, k + 2, false};
            return true;
        }
        if (v2_ && (i + 1 >= pe_ || is_space(t_[i + 1]))) return false;
        k = v2_ ? inline_dollar_v2_from(i + 1) : inline_dollar_v1_from(i + 1);
        if (k == kNone) return false;
        region = {i, k + 1, false};
        return true;
    }
    if (i + 1 >= pe_ || (t_[i + 1] != '[' && t_[i + 1] != '(')) return false;
    skip = 2;
    k = t_[i + 1] == '[' ? bracket_close_from(i + 2) : paren_close_from(i + 2);
    if (k == kNone) return false;
    region = {i, k + 2, false};
    return true;
}

}  // namespace rdpt
