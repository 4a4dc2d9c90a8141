// Character classes and UTF-8 decoding for the segmenter. Plain C++17, no Python.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace rdpt {

// Same set as Python's str.isspace().
inline bool is_space(char32_t c) {
    if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F);
    return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
           c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

inline bool is_line_break(char32_t c) { return c == '\n' || c == '\r'; }

bool is_letter_nonascii(char32_t c);
bool is_lowercase_nonascii(char32_t c);
bool is_uppercase_nonascii(char32_t c);

// Same set as Python's str.isalpha() on one character.
inline bool is_letter(char32_t c) {
    if (c < 0x80) return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
    return is_letter_nonascii(c);
}

// Unicode general category Ll.
inline bool is_lowercase(char32_t c) {
    if (c < 0x80) return c >= 'a' && c <= 'z';
    return is_lowercase_nonascii(c);
}

// Unicode general category Lu.
inline bool is_uppercase(char32_t c) {
    if (c < 0x80) return c >= 'A' && c <= 'Z';
    return is_uppercase_nonascii(c);
}

// Decodes UTF-8 into code points (appended to `out`, which is cleared first). Throws
// std::invalid_argument naming the byte offset of the first invalid sequence.
void decode_utf8(const char* data, std::size_t size, std::vector<char32_t>& out);

// decode_utf8 that also sets, in the bitmap `hot` (bit p of word p / 64), the code-point positions
// of every non-ASCII character and of every ASCII character c with flagged[c]: the only places a
// scan needs to stop. `hot` is resized to size / 64 + 2 words.
void decode_utf8_flagged(const char* data, std::size_t size, const bool (&flagged)[128],
                         std::vector<char32_t>& out, std::vector<std::uint64_t>& hot);

}  // namespace rdpt
