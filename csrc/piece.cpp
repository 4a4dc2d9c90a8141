// The scans of one piece: one left-to-right pass per ruleset over the hot positions.
#include "piece.hpp"

#include "piece_ends.ipp"
#include "piece_regions.ipp"

namespace rdpt {

// Protected regions are found as they come (earliest opener first) and skipped; whitespace runs
// (rule 3) and terminator runs (rule 4) outside them give candidates.
template <bool kCount>
void PieceSegmenter<kCount>::reasoning_candidates(Workspace& ws) {
    std::vector<std::size_t>& cand = ws.cuts;
    std::size_t i = ps_;
    Region region{};
    std::size_t skip = 0;
    while (i < pe_) {
        i = hot_.next(i, pe_);
        if (i >= pe_) break;
        const char32_t c = t_[i];
        if (c == '`' || c == '$' || c == '\\') {
            if (!region_at(i, region, skip)) {
                i += skip;
                continue;
            }
            i = region.end;
            if (region.fence) {
                ws.fences.push_back(region.start);
                // The whitespace run holding the fence's closing line break ends after the region.
                if (is_line_break(t_[i - 1])) push_candidate(cand, ws_end(i));
            }
        } else if (is_space(c)) {
            const std::size_t j = ws_end(i);
            if (has_line_break(i, j)) push_candidate(cand, j);
            i = j;
        } else if (is_terminator(c)) {
            const std::size_t j = run_end(i);
            terminator_run(i, j, cand);
            i = j;
        } else {
            ++i;
        }
    }
}

template <bool kCount>
void PieceSegmenter<kCount>::simple_candidates(std::vector<std::size_t>& cand) const {
    std::size_t i = ps_;
    while (i < pe_) {
        i = hot_.next(i, pe_);
        if (i >= pe_) break;
        const char32_t c = t_[i];
        if (is_space(c)) {
            const std::size_t j = ws_end(i);
            if (has_line_break(i, j)) push_candidate(cand, j);
            i = j;
        } else if (is_simple_terminator(c)) {
            std::size_t j = i + 1;
            while (j < pe_ && is_simple_terminator(t_[j])) ++j;
            const std::size_t k = ws_end(j);
            if (k > j) push_candidate(cand, k);
            i = j;
        } else {
            ++i;
        }
    }
}

template <bool kCount>
void PieceSegmenter<kCount>::cuts(Workspace& ws) {
    std::vector<std::size_t>& cuts = ws.cuts;
    ws.fences.clear();
    cuts.clear();
    if (rules_ == RuleSet::kSimple)
        simple_candidates(cuts);
    else
        reasoning_candidates(ws);
    // Keep cuts strictly inside the piece and after its first non-space character (leading
    // whitespace belongs to the first segment).
    const std::size_t first = ws_end(ps_);
    std::size_t w = 0;
    for (std::size_t b : cuts)
        if (b > first && b < pe_) cuts[w++] = b;
    cuts.resize(w);
}

template class PieceSegmenter<false>;
template class PieceSegmenter<true>;

}  // namespace rdpt
