// Building blocks of the segmenter's scans: character sets of ../shared/SEGMENTATION.md, a text
// accessor that can count its reads (the work measure of the linear-time tests), and the bitmap of
// positions a scan must stop at. Plain C++17, no Python.
#pragma once

#include <cstddef>
#include <cstdint>

#include "unicode.hpp"

namespace rdpt {

constexpr std::size_t kNone = static_cast<std::size_t>(-1);

// Work counter: Steps<true> counts, Steps<false> compiles to nothing.
template <bool kCount>
struct Steps {
    void add(std::size_t) {}
};
template <>
struct Steps<true> {
    std::size_t count = 0;
    void add(std::size_t k) { count += k; }
};

// Read access to the code points of a text; every read is one step.
template <bool kCount>
class Text {
   public:
    Text(const char32_t* p, Steps<kCount>* steps) : p_(p), steps_(steps) {}
    char32_t operator[](std::size_t i) const {
        steps_->add(1);
        return p_[i];
    }

   private:
    const char32_t* p_;
    Steps<kCount>* steps_;
};

// The bitmap of "hot" positions (characters a scan must look at, see decode_utf8_flagged); each
// word of the bitmap looked at is one step.
template <bool kCount>
class HotBits {
   public:
    HotBits(const std::uint64_t* bits, Steps<kCount>* steps) : bits_(bits), steps_(steps) {}
    // The first hot position in [i, limit), or `limit` when there is none.
    std::size_t next(std::size_t i, std::size_t limit) const {
        if (i >= limit) return limit;
        std::size_t w = i >> 6;
        std::uint64_t word = bits_[w] & (~std::uint64_t{0} << (i & 63));
        steps_->add(1);
        while (word == 0) {
            if ((++w << 6) >= limit) return limit;
            word = bits_[w];
            steps_->add(1);
        }
        const std::size_t pos = (w << 6) + static_cast<std::size_t>(__builtin_ctzll(word));
        return pos < limit ? pos : limit;
    }

   private:
    const std::uint64_t* bits_;
    Steps<kCount>* steps_;
};

// Character sets of the rules.
inline bool is_closing_v1(char32_t c) {
    return c == ')' || c == ']' || c == '}' || c == '"' || c == '\'' || c == 0x201D || c == 0x2019 || c == 0xBB;
}
// Version 2 adds the CJK closers 」 』 ） 】 〉 》 and the markdown closers * _ `.
inline bool is_closing_v2(char32_t c) {
    return is_closing_v1(c) || c == '*' || c == '_' || c == '`' || c == 0x300D || c == 0x300F || c == 0xFF09 ||
           c == 0x3011 || c == 0x3009 || c == 0x300B;
}
// Opening brackets and quotes: may stand right before an abbreviation (version 2).
inline bool is_opening(char32_t c) {
    return c == '(' || c == '[' || c == '{' || c == '"' || c == '\'' || c == 0x201C || c == 0x2018 || c == 0xAB ||
           c == 0x300C || c == 0x300E || c == 0xFF08 || c == 0x3010 || c == 0x3008 || c == 0x300A;
}
inline bool is_strong_terminator(char32_t c) { return c == '?' || c == '!' || c == 0x203D; }
inline bool is_cjk_terminator(char32_t c) { return c == 0x3002 || c == 0xFF01 || c == 0xFF1F || c == 0xFF0E; }
inline bool is_terminator(char32_t c) {
    return c == '.' || c == 0x2026 || is_strong_terminator(c) || is_cjk_terminator(c);
}
inline bool is_simple_terminator(char32_t c) { return c == '.' || c == '!' || c == '?'; }
inline bool is_ascii_digit(char32_t c) { return c >= '0' && c <= '9'; }

// A word of at most 8 ASCII characters packed into an integer (0: does not fit).
constexpr std::uint64_t pack_word(const char* w) {
    std::uint64_t v = 0;
    for (int k = 0; w[k] != 0; ++k) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(w[k])) << (8 * k);
    return v;
}

template <std::size_t N>
bool word_in(std::uint64_t packed, const std::uint64_t (&words)[N]) {
    if (packed == 0) return false;
    for (std::uint64_t w : words)
        if (w == packed) return true;
    return false;
}

}  // namespace rdpt
