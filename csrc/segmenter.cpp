// The segmenter: markers split a text into pieces (rule 1), each piece is cut by PieceSegmenter, and
// short text segments are merged on request (min_chars).
#include "segmenter.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "piece.hpp"
#include "scan.hpp"
#include "unicode.hpp"

namespace rdpt {
namespace {

// ASCII characters the scans stop at: line breaks, terminators and openers of protected regions
// (spaces other than line breaks need no attention: a whitespace run matters only when it holds a
// line break or follows a terminator, and is looked at from there).
constexpr bool is_hot_ascii(int c) {
    return c == '\n' || c == '\r' || c == '.' || c == '?' || c == '!' || c == '`' || c == '$' || c == '\\';
}

template <bool kCount>
class Assembler {
   public:
    Assembler(const char32_t* t, std::size_t n, const Segmenter::Config& config, Workspace& ws, Segmentation& out,
              Steps<kCount>* steps)
        : t_(t, steps), n_(n), cfg_(config), opt_(config.options), ws_(ws), out_(out), hot_(ws.hot.data(), steps) {}

    void run() {
        out_.clear();
        reserve_output();
        std::size_t pos = 0, i = 0, marker_start = kNone;
        while (i < n_) {
            i = hot_.next(i, n_);
            if (i >= n_) break;
            if (!may_start_marker(t_[i])) {
                ++i;
                continue;
            }
            const std::size_t len = marker_at(i);
            if (len == 0) {
                ++i;
                continue;
            }
            std::size_t j = i + len;
            while (j < n_ && is_space(t_[j])) ++j;
            if (pos < i) {
                if (pos == 0 && all_space(0, i))
                    marker_start = 0;  // leading whitespace joins the first segment
                else
                    piece(pos, i);
            }
            emit(marker_start == kNone ? i : marker_start, j, kMarker);
            marker_start = kNone;
            pos = i = j;
        }
        if (pos < n_) piece(pos, n_);
        if (opt_.min_chars > 0) merge_short();
    }

   private:
    // Every boundary sits at or right after a hot position, so their count bounds the number of
    // segments; reserving it (capped at one segment per 8 characters) avoids regrowing the output.
    void reserve_output() {
        std::size_t hot = 0;
        for (std::size_t w = 0; w <= n_ / 64; ++w) hot += static_cast<std::size_t>(__builtin_popcountll(ws_.hot[w]));
        const std::size_t cap = std::min(hot + 1, n_ / 8 + 1);
        out_.starts.reserve(cap);
        out_.ends.reserve(cap);
        out_.kinds.reserve(cap);
    }
    bool may_start_marker(char32_t c) const {
        return c < 0x80 ? cfg_.first_ascii[c] : cfg_.any_nonascii_first;
    }
    // Length of the longest marker starting at i, or 0.
    std::size_t marker_at(std::size_t i) const {
        for (const std::u32string* m : cfg_.markers) {
            if (m->size() > n_ - i) continue;
            std::size_t k = 0;
            while (k < m->size() && t_[i + k] == (*m)[k]) ++k;
            if (k == m->size()) return k;
        }
        return 0;
    }
    bool all_space(std::size_t a, std::size_t b) const {
        for (; a < b; ++a)
            if (!is_space(t_[a])) return false;
        return true;
    }
    void emit(std::size_t s, std::size_t e, std::uint8_t kind) {
        out_.starts.push_back(static_cast<std::int64_t>(s));
        out_.ends.push_back(static_cast<std::int64_t>(e));
        out_.kinds.push_back(kind);
    }
    void piece(std::size_t ps, std::size_t pe) {
        PieceSegmenter<kCount>(t_, ps, pe, hot_, opt_.rules).cuts(ws_);
        const std::vector<std::size_t>& cuts = ws_.cuts;
        const std::vector<std::size_t>& fences = ws_.fences;
        std::size_t s = ps, f = 0;
        for (std::size_t k = 0; k <= cuts.size(); ++k) {
            const std::size_t e = k < cuts.size() ? cuts[k] : pe;
            std::size_t first = s;
            while (first < pe && is_space(t_[first])) ++first;
            while (f < fences.size() && fences[f] < first) ++f;
            emit(s, e, f < fences.size() && fences[f] == first ? kCode : kText);
            s = e;
        }
    }
    std::int64_t weight(std::int64_t s, std::int64_t e) const {
        std::int64_t w = 0;
        for (std::int64_t k = s; k < e; ++k) w += !is_space(t_[k]);
        return w;
    }
    // min_chars: a short text segment joins the following text segment, or the previous one when
    // no text segment follows it directly; markers and code never merge.
    void merge_short() {
        Segmentation in;
        std::swap(in, out_);
        const std::size_t m = in.starts.size();
        std::int64_t pending = -1;
        for (std::size_t k = 0; k < m; ++k) {
            std::int64_t s = in.starts[k];
            const std::int64_t e = in.ends[k];
            if (in.kinds[k] != kText) {
                emit(s, e, in.kinds[k]);
                continue;
            }
            if (pending >= 0) {
                s = pending;
                pending = -1;
            }
            const bool next_is_text = k + 1 < m && in.kinds[k + 1] == kText;
            if (weight(s, e) < opt_.min_chars) {
                if (next_is_text) {
                    pending = s;
                    continue;
                }
                if (!out_.starts.empty() && out_.kinds.back() == kText && out_.ends.back() == s) {
                    out_.ends.back() = e;
                    continue;
                }
            }
            emit(s, e, kText);
        }
    }

    Text<kCount> t_;
    std::size_t n_;
    const Segmenter::Config& cfg_;
    const SegmentOptions& opt_;
    Workspace& ws_;
    Segmentation& out_;
    HotBits<kCount> hot_;
};

}  // namespace

Segmenter::Segmenter(SegmentOptions options) {
    cfg_.options = std::move(options);
    for (const std::u32string& m : cfg_.options.markers) {
        if (m.empty()) throw std::invalid_argument("markers must be non-empty");
        cfg_.markers.push_back(&m);
        if (m[0] < 0x80)
            cfg_.first_ascii[m[0]] = true;
        else
            cfg_.any_nonascii_first = true;
    }
    for (int c = 0; c < 128; ++c) cfg_.hot_ascii[c] = is_hot_ascii(c) || cfg_.first_ascii[c];
    std::stable_sort(cfg_.markers.begin(), cfg_.markers.end(),
                     [](const std::u32string* a, const std::u32string* b) { return a->size() > b->size(); });
}

void Segmenter::segment_utf8(const char* data, std::size_t size, Segmentation& out) {
    decode_utf8_flagged(data, size, cfg_.hot_ascii, ws_.codepoints, ws_.hot);
    Steps<false> none;
    Assembler<false>(ws_.codepoints.data(), ws_.codepoints.size(), cfg_, ws_, out, &none).run();
}

std::size_t Segmenter::segment_utf8_counted(const char* data, std::size_t size, Segmentation& out) {
    decode_utf8_flagged(data, size, cfg_.hot_ascii, ws_.codepoints, ws_.hot);
    Steps<true> steps;
    Assembler<true>(ws_.codepoints.data(), ws_.codepoints.size(), cfg_, ws_, out, &steps).run();
    return steps.count;
}

RuleSet rule_set_named(const std::string& name) {
    if (name == "reasoning-v1") return RuleSet::kReasoningV1;
    if (name == "reasoning-v2") return RuleSet::kReasoningV2;
    if (name == "simple") return RuleSet::kSimple;
    throw std::invalid_argument("unknown ruleset '" + name + "'");
}

}  // namespace rdpt
