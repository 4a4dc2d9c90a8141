// One piece of text between markers, segmented on its own by the rules of ../shared/SEGMENTATION.md:
// line starts, look-behind and look-ahead stop at its bounds [ps, pe). Members are defined in
// piece.cpp (the scans), piece_regions.ipp (rule 2) and piece_ends.ipp (rule 4, both included by
// piece.cpp), which instantiates it for kCount = false (production) and true (counting steps).
// Plain C++17, no Python.
#pragma once

#include <cstddef>
#include <vector>

#include "scan.hpp"
#include "segmenter.hpp"

namespace rdpt {

// The answer of a forward search that depends only on where it starts: valid for every start from
// `from` up to the position found (or for every later start when nothing was found).
struct SearchCache {
    std::size_t from = kNone;
    std::size_t found = kNone;  // kNone: nothing found up to the end of the piece
    bool valid_for(std::size_t s) const { return from != kNone && from <= s && (found == kNone || s <= found); }
};

template <bool kCount>
class PieceSegmenter {
   public:
    PieceSegmenter(Text<kCount> t, std::size_t ps, std::size_t pe, const HotBits<kCount>& hot, RuleSet rules)
        : t_(t), ps_(ps), pe_(pe), hot_(hot), rules_(rules), v2_(rules == RuleSet::kReasoningV2) {}

    // Fills ws.cuts with the sorted cut positions strictly inside the piece (after its first
    // non-space character) and ws.fences with the starts of its code fences.
    void cuts(Workspace& ws);

   private:
    std::size_t ws_end(std::size_t i) const {
        while (i < pe_ && is_space(t_[i])) ++i;
        return i;
    }
    bool has_line_break(std::size_t a, std::size_t b) const {
        for (; a < b; ++a)
            if (is_line_break(t_[a])) return true;
        return false;
    }
    bool is_line_start(std::size_t i) const { return i == ps_ || is_line_break(t_[i - 1]); }
    // Only non-line-break whitespace between the line start and i.
    bool indent_from_line_start(std::size_t i) const {
        while (i > ps_ && is_space(t_[i - 1]) && !is_line_break(t_[i - 1])) --i;
        return is_line_start(i);
    }

    // Rule 2 (piece_regions.ipp).
    bool fence_at(std::size_t i) const;
    std::size_t line_end_after_break(std::size_t i) const;
    std::size_t fence_close(std::size_t opener);
    std::size_t dollar_pair_from(std::size_t s);
    std::size_t inline_dollar_v1_from(std::size_t s) const;
    std::size_t inline_dollar_v2_from(std::size_t s);
    std::size_t bracket_close_from(std::size_t s);
    std::size_t paren_close_from(std::size_t s);
    bool region_at(std::size_t i, Region& region, std::size_t& skip);

    // Rule 4 (piece_ends.ipp).
    std::size_t run_end(std::size_t i) const;
    bool bracketed_ellipsis(std::size_t a, std::size_t b) const;
    std::uint64_t packed_word(std::size_t a, std::size_t b) const;
    bool abbreviation_v1(std::size_t a) const;
    bool abbreviation_v2(std::size_t a, std::size_t next) const;
    std::size_t list_number_start(std::size_t a, std::size_t b) const;
    bool list_number(std::size_t a, std::size_t b) const;
    void terminator_run(std::size_t a, std::size_t b, std::vector<std::size_t>& cand) const;

    // The scans (piece.cpp).
    void reasoning_candidates(Workspace& ws);
    void simple_candidates(std::vector<std::size_t>& cand) const;

    Text<kCount> t_;
    std::size_t ps_, pe_;
    const HotBits<kCount>& hot_;
    RuleSet rules_;
    bool v2_;
    std::size_t fence_failed_from_ = kNone;
    SearchCache pair_, bracket_, paren_, dollar_v2_;
};

inline void push_candidate(std::vector<std::size_t>& cand, std::size_t b) {
    if (cand.empty() || cand.back() != b) cand.push_back(b);
}

}  // namespace rdpt
