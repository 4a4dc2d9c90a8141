#include "unicode.hpp"

#include <algorithm>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <cstring>
#include <stdexcept>
#include <string>

namespace rdpt {
namespace {

struct CodePointRange {
    char32_t first;
    char32_t last;
};

#include "unicode_tables.inc"

template <std::size_t N>
bool in_ranges(const CodePointRange (&ranges)[N], char32_t c) {
    const CodePointRange* end = ranges + N;
    const CodePointRange* it =
        std::upper_bound(ranges, end, c, [](char32_t v, const CodePointRange& r) { return v < r.first; });
    return it != ranges && c <= (it - 1)->last;
}

[[noreturn]] void invalid_utf8(std::size_t offset) {
    throw std::invalid_argument("invalid UTF-8 at byte " + std::to_string(offset));
}

}  // namespace

bool is_letter_nonascii(char32_t c) { return in_ranges(kLetterRanges, c); }
bool is_lowercase_nonascii(char32_t c) { return in_ranges(kLowercaseRanges, c); }
bool is_uppercase_nonascii(char32_t c) { return in_ranges(kUppercaseRanges, c); }

namespace {

// Decodes the multi-byte sequence starting at s[i] (s[i] >= 0x80) into cp; returns its length.
inline int decode_multibyte(const unsigned char* s, std::size_t size, std::size_t i, char32_t& cp) {
    const unsigned char b = s[i];
    int len;
    if ((b & 0xE0) == 0xC0) {
        len = 2;
        cp = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
        len = 3;
        cp = b & 0x0F;
    } else if ((b & 0xF8) == 0xF0) {
        len = 4;
        cp = b & 0x07;
    } else {
        invalid_utf8(i);
    }
    if (i + len > size) invalid_utf8(i);
    for (int k = 1; k < len; ++k) {
        const unsigned char cont = s[i + k];
        if ((cont & 0xC0) != 0x80) invalid_utf8(i);
        cp = (cp << 6) | (cont & 0x3F);
    }
    static constexpr char32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) invalid_utf8(i);
    return len;
}

}  // namespace

void decode_utf8(const char* data, std::size_t size, std::vector<char32_t>& out) {
    out.resize(size);  // at most one code point per byte
    const auto* s = reinterpret_cast<const unsigned char*>(data);
    char32_t* o = out.data();
    std::size_t i = 0;
    while (i < size) {
        // ASCII fast path, eight bytes at a time.
        while (i + 8 <= size) {
            std::uint64_t word;
            std::memcpy(&word, s + i, 8);
            if (word & 0x8080808080808080ULL) break;
            for (int k = 0; k < 8; ++k) *o++ = s[i + k];
            i += 8;
        }
        if (i >= size) break;
        if (s[i] < 0x80) {
            *o++ = s[i++];
            continue;
        }
        char32_t cp;
        i += decode_multibyte(s, size, i, cp);
        *o++ = cp;
    }
    out.resize(static_cast<std::size_t>(o - out.data()));
}

void decode_utf8_flagged(const char* data, std::size_t size, const bool (&flagged)[128],
                         std::vector<char32_t>& out, std::vector<std::uint64_t>& hot) {
    out.resize(size);
    hot.assign(size / 64 + 2, 0);
    std::uint64_t* bits = hot.data();
    const auto* s = reinterpret_cast<const unsigned char*>(data);
    char32_t* const base = out.data();
    char32_t* o = base;
    std::size_t i = 0;
    auto mark = [&](std::size_t pos) { bits[pos >> 6] |= std::uint64_t{1} << (pos & 63); };
#if defined(__SSE2__)
    // Sixteen ASCII bytes at a time: widen to code points and find flagged bytes with byte compares.
    unsigned char wanted[16];
    int num_wanted = 0;
    bool too_many = false;
    for (int c = 0; c < 128 && !too_many; ++c) {
        if (!flagged[c]) continue;
        if (num_wanted == 16)
            too_many = true;
        else
            wanted[num_wanted++] = static_cast<unsigned char>(c);
    }
    if (!too_many) {
        __m128i probes[16];
        for (int k = 0; k < num_wanted; ++k) probes[k] = _mm_set1_epi8(static_cast<char>(wanted[k]));
        const __m128i zero = _mm_setzero_si128();
        while (i + 16 <= size) {
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i));
            if (_mm_movemask_epi8(v) != 0) {  // a non-ASCII byte: take the scalar step below
                const std::size_t stop = i + 16;
                while (i < stop && s[i] < 0x80) {
                    if (flagged[s[i]]) mark(static_cast<std::size_t>(o - base));
                    *o++ = s[i++];
                }
                if (i < stop) {
                    char32_t cp;
                    mark(static_cast<std::size_t>(o - base));
                    i += decode_multibyte(s, size, i, cp);
                    *o++ = cp;
                }
                continue;
            }
            __m128i hit = zero;
            for (int k = 0; k < num_wanted; ++k) hit = _mm_or_si128(hit, _mm_cmpeq_epi8(v, probes[k]));
            const auto mask = static_cast<std::uint64_t>(_mm_movemask_epi8(hit));
            if (mask != 0) {
                const std::size_t pos = static_cast<std::size_t>(o - base);
                const std::size_t off = pos & 63;
                bits[pos >> 6] |= mask << off;
                if (off > 48) bits[(pos >> 6) + 1] |= mask >> (64 - off);
            }
            const __m128i lo = _mm_unpacklo_epi8(v, zero);
            const __m128i hi = _mm_unpackhi_epi8(v, zero);
            _mm_storeu_si128(reinterpret_cast<__m128i*>(o), _mm_unpacklo_epi16(lo, zero));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(o + 4), _mm_unpackhi_epi16(lo, zero));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(o + 8), _mm_unpacklo_epi16(hi, zero));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(o + 12), _mm_unpackhi_epi16(hi, zero));
            o += 16;
            i += 16;
        }
    }
#endif
    while (i < size) {
        if (s[i] < 0x80) {
            if (flagged[s[i]]) mark(static_cast<std::size_t>(o - base));
            *o++ = s[i++];
            continue;
        }
        char32_t cp;
        mark(static_cast<std::size_t>(o - base));
        i += decode_multibyte(s, size, i, cp);
        *o++ = cp;
    }
    out.resize(static_cast<std::size_t>(o - base));
}

}  // namespace rdpt
