#include "assign.hpp"

#include <algorithm>

#include "unicode.hpp"

namespace rdpt {

void assign_tokens(const std::int64_t* offsets, std::size_t num_tokens, const std::int64_t* starts,
                   const std::int64_t* ends, std::size_t num_segments, const char32_t* t, std::size_t n,
                   std::int64_t* out) {
    const auto len = static_cast<std::int64_t>(n);
    std::size_t hint = 0;  // tokens usually come in order: try the last segment first
    for (std::size_t i = 0; i < num_tokens; ++i) {
        const std::int64_t s = std::max<std::int64_t>(offsets[2 * i], 0);
        const std::int64_t e = std::min<std::int64_t>(offsets[2 * i + 1], len);
        if (s >= e) {
            out[i] = -1;
            continue;
        }
        std::int64_t pos = s;
        while (pos < e && is_space(t[pos])) ++pos;
        if (pos == e) pos = s;
        std::size_t k;
        if (hint < num_segments && starts[hint] <= pos && pos < ends[hint]) {
            k = hint;
        } else if (hint + 1 < num_segments && starts[hint + 1] <= pos && pos < ends[hint + 1]) {
            k = hint + 1;
        } else {
            const std::int64_t* it = std::upper_bound(starts, starts + num_segments, pos);
            k = static_cast<std::size_t>(it - starts);
            if (k == 0 || pos >= ends[k - 1]) {
                out[i] = -1;
                continue;
            }
            k -= 1;
        }
        out[i] = static_cast<std::int64_t>(k);
        hint = k;
    }
}

}  // namespace rdpt
