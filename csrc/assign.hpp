// Token-to-segment assignment (DESIGN.md, "Segments"). Plain C++17, no Python.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rdpt {

// For each token i with code-point span [offsets[2i], offsets[2i+1]) of the text t[0, n), writes
// out[i] = the index of the segment holding its first non-space character (a whitespace-only token:
// its first character), or -1 for empty tokens, tokens outside the text and characters in no segment.
// Segments [starts[k], ends[k]) are sorted and disjoint (checked by the caller).
void assign_tokens(const std::int64_t* offsets, std::size_t num_tokens, const std::int64_t* starts,
                   const std::int64_t* ends, std::size_t num_segments, const char32_t* t, std::size_t n,
                   std::int64_t* out);

}  // namespace rdpt
