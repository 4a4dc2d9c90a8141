#include "segmenter.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "unicode.hpp"

namespace rdpt {
namespace {

constexpr std::size_t kNone = static_cast<std::size_t>(-1);

bool is_closing(char32_t c) {
    return c == ')' || c == ']' || c == '}' || c == '"' || c == '\'' || c == 0x201D || c == 0x2019 || c == 0xBB;
}
bool is_strong_terminator(char32_t c) { return c == '?' || c == '!' || c == 0x203D; }
bool is_weak_terminator(char32_t c) { return c == '.' || c == 0x2026; }
bool is_cjk_terminator(char32_t c) { return c == 0x3002 || c == 0xFF01 || c == 0xFF1F || c == 0xFF0E; }
bool is_terminator(char32_t c) {
    return is_weak_terminator(c) || is_strong_terminator(c) || is_cjk_terminator(c);
}
bool is_simple_terminator(char32_t c) { return c == '.' || c == '!' || c == '?'; }

// Flags of ASCII characters for the hot loops. Spaces other than line breaks need no attention
// there: a whitespace run matters only when it holds a line break (its end is found by scanning
// forward from the break) or when it follows a terminator (looked at from the terminator).
enum : std::uint8_t { kFlagBreak = 1, kFlagTerminator = 2, kFlagOpener = 4 };
struct AsciiFlags {
    std::uint8_t f[128] = {};
    constexpr AsciiFlags() {
        f[int('\n')] |= kFlagBreak;
        f[int('\r')] |= kFlagBreak;
        f[int('.')] |= kFlagTerminator;
        f[int('?')] |= kFlagTerminator;
        f[int('!')] |= kFlagTerminator;
        f[int('`')] |= kFlagOpener;
        f[int('$')] |= kFlagOpener;
        f[int('\\')] |= kFlagOpener;
    }
};
constexpr AsciiFlags kAscii{};

// The bitmap of "hot" positions (characters a scan must look at, see decode_utf8_flagged).
class HotBits {
   public:
    explicit HotBits(const std::vector<std::uint64_t>& bits) : bits_(bits.data()) {}
    // The first hot position in [i, limit), or `limit` when there is none.
    std::size_t next(std::size_t i, std::size_t limit) const {
        if (i >= limit) return limit;
        std::size_t w = i >> 6;
        std::uint64_t word = bits_[w] & (~std::uint64_t{0} << (i & 63));
        while (word == 0) {
            if ((++w << 6) >= limit) return limit;
            word = bits_[w];
        }
        const std::size_t pos = (w << 6) + static_cast<std::size_t>(__builtin_ctzll(word));
        return pos < limit ? pos : limit;
    }

   private:
    const std::uint64_t* bits_;
};

// A word of at most 8 ASCII characters, lowercased and packed into an integer (0: does not fit).
constexpr std::uint64_t pack_word(const char* w) {
    std::uint64_t v = 0;
    for (int k = 0; w[k] != 0; ++k) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(w[k])) << (8 * k);
    return v;
}

std::uint64_t pack_word(const char32_t* t, std::size_t a, std::size_t b) {
    if (b == a || b - a > 8) return 0;
    std::uint64_t v = 0;
    for (std::size_t k = 0; k < b - a; ++k) {
        char32_t c = t[a + k];
        if (c >= 0x80) return 0;
        if (c >= 'A' && c <= 'Z') c += 32;
        v |= static_cast<std::uint64_t>(c) << (8 * k);
    }
    return v;
}

template <std::size_t N>
bool word_in(std::uint64_t packed, const std::uint64_t (&words)[N]) {
    if (packed == 0) return false;
    for (std::uint64_t w : words)
        if (w == packed) return true;
    return false;
}

constexpr std::uint64_t kAbbreviations[] = {
    pack_word("e.g"),  pack_word("i.e"),  pack_word("etc"),  pack_word("vs"),   pack_word("cf"),
    pack_word("approx"), pack_word("resp"), pack_word("fig"), pack_word("figs"), pack_word("eq"),
    pack_word("eqs"),  pack_word("dr"),   pack_word("mr"),   pack_word("mrs"),  pack_word("ms"),
    pack_word("prof"), pack_word("st"),   pack_word("jr"),   pack_word("sr"),   pack_word("al"),
    pack_word("ca"),   pack_word("viz"),  pack_word("ref"),  pack_word("refs"), pack_word("sec"),
    pack_word("ch"),   pack_word("vol"),  pack_word("pp"),   pack_word("incl"), pack_word("esp"),
    pack_word("dept"), pack_word("est")};
constexpr std::uint64_t kRomanNumerals[] = {pack_word("i"),  pack_word("ii"),  pack_word("iii"),
                                            pack_word("iv"), pack_word("v"),   pack_word("vi"),
                                            pack_word("vii"), pack_word("viii"), pack_word("ix"),
                                            pack_word("x"),  pack_word("xi"),  pack_word("xii")};

struct SearchCache {
    std::size_t from = kNone;
    std::size_t found = kNone;  // kNone: nothing found up to the end of the piece
    bool valid_for(std::size_t s) const { return from != kNone && from <= s && (found == kNone || s <= found); }
};

// One piece of text between markers, segmented on its own: line starts, look-behind and
// look-ahead stop at its bounds [ps, pe).
class PieceSegmenter {
   public:
    PieceSegmenter(const char32_t* t, std::size_t ps, std::size_t pe, const HotBits& hot)
        : t_(t), ps_(ps), pe_(pe), hot_(hot) {}

    // Appends the sorted cut positions (strictly inside the piece) for the given rules.
    void cuts(RuleSet rules, Workspace& ws);

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
    bool fence_at(std::size_t i) const;
    std::size_t line_end_after_break(std::size_t i) const;
    std::size_t fence_close(std::size_t opener);
    std::size_t dollar_pair_from(std::size_t s);
    std::size_t inline_dollar_from(std::size_t s) const;
    std::size_t bracket_close_from(std::size_t s);
    std::size_t paren_close_from(std::size_t s);
    bool region_at(std::size_t i, Region& region, std::size_t& skip);
    bool abbreviation_before(std::size_t a) const;
    bool list_number_before(std::size_t a, std::size_t b) const;
    void terminator_run(std::size_t a, std::size_t b, std::vector<std::size_t>& cand) const;
    void reasoning_candidates(Workspace& ws);
    void simple_candidates(std::vector<std::size_t>& cand) const;

    const char32_t* t_;
    std::size_t ps_, pe_;
    const HotBits& hot_;
    std::size_t fence_failed_from_ = kNone;
    std::size_t pair_failed_from_ = kNone;
    SearchCache bracket_, paren_;
};

void push_candidate(std::vector<std::size_t>& cand, std::size_t b) {
    if (cand.empty() || cand.back() != b) cand.push_back(b);
}

bool PieceSegmenter::fence_at(std::size_t i) const {
    if (i + 3 > pe_ || t_[i] != '`' || t_[i + 1] != '`' || t_[i + 2] != '`') return false;
    std::size_t indent = 0;
    while (indent < 4 && i - indent > ps_ && t_[i - indent - 1] == ' ') ++indent;
    return indent <= 3 && is_line_start(i - indent);
}

std::size_t PieceSegmenter::line_end_after_break(std::size_t i) const {
    while (i < pe_ && !is_line_break(t_[i])) ++i;
    if (i >= pe_) return pe_;
    if (t_[i] == '\r' && i + 1 < pe_ && t_[i + 1] == '\n') return i + 2;
    return i + 1;
}

std::size_t PieceSegmenter::fence_close(std::size_t opener) {
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

std::size_t PieceSegmenter::dollar_pair_from(std::size_t s) {
    if (pair_failed_from_ != kNone && s >= pair_failed_from_) return kNone;
    for (std::size_t k = s; k + 1 < pe_; ++k)
        if (t_[k] == '$' && t_[k + 1] == '$' && t_[k - 1] != '\\') return k;
    pair_failed_from_ = s;
    return kNone;
}

std::size_t PieceSegmenter::inline_dollar_from(std::size_t s) const {
    for (std::size_t k = s; k < pe_ && !is_line_break(t_[k]); ++k)
        if (t_[k] == '$' && t_[k - 1] != '\\') return k;
    return kNone;
}

std::size_t PieceSegmenter::bracket_close_from(std::size_t s) {
    if (!bracket_.valid_for(s)) {
        bracket_.from = s;
        bracket_.found = kNone;
        for (std::size_t k = s; k + 1 < pe_; ++k)
            if (t_[k] == '\\' && t_[k + 1] == ']') {
                bracket_.found = k;
                break;
            }
    }
    return bracket_.found;
}

// The closer `\)` must come before the next line break; the cache holds the first of the two.
std::size_t PieceSegmenter::paren_close_from(std::size_t s) {
    if (!paren_.valid_for(s)) {
        paren_.from = s;
        paren_.found = kNone;
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
bool PieceSegmenter::region_at(std::size_t i, Region& region, std::size_t& skip) {
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
        k = inline_dollar_from(i + 1);
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

bool PieceSegmenter::abbreviation_before(std::size_t a) const {
    std::size_t w = a;
    while (w > ps_ && (is_letter(t_[w - 1]) || t_[w - 1] == '.')) --w;
    while (w < a && t_[w] == '.') ++w;
    for (std::size_t k = w; k < a; ++k)
        if (t_[k] == '.') return true;
    return word_in(pack_word(t_, w, a), kAbbreviations);
}

bool PieceSegmenter::list_number_before(std::size_t a, std::size_t b) const {
    if (b - a != 1 || t_[a] != '.') return false;
    std::size_t w = a;
    while (w > ps_ && t_[w - 1] >= '0' && t_[w - 1] <= '9') --w;
    if (w == a) {
        while (w > ps_ && is_letter(t_[w - 1])) --w;
        if (!(a - w == 1 || word_in(pack_word(t_, w, a), kRomanNumerals))) return false;
    }
    while (w > ps_ && is_space(t_[w - 1]) && !is_line_break(t_[w - 1])) --w;
    return is_line_start(w);
}

// Rule 4 for the terminator run t[a, b) (outside any protected region).
void PieceSegmenter::terminator_run(std::size_t a, std::size_t b, std::vector<std::size_t>& cand) const {
    bool strong = false, cjk = false;
    for (std::size_t k = a; k < b; ++k) {
        strong |= is_strong_terminator(t_[k]);
        cjk |= is_cjk_terminator(t_[k]);
    }
    std::size_t j = b;
    while (j < pe_ && is_closing(t_[j])) ++j;
    const std::size_t k = ws_end(j);
    if (cjk) {
        push_candidate(cand, k);
        return;
    }
    if (k == j || has_line_break(j, k)) return;
    if (!strong) {
        if (k < pe_ && is_lowercase(t_[k])) return;
        if (abbreviation_before(a) || list_number_before(a, b)) return;
    }
    push_candidate(cand, k);
}

// One left-to-right pass: protected regions are found as they come (earliest opener first) and
// skipped; whitespace runs (rule 3) and terminator runs (rule 4) outside them give candidates.
void PieceSegmenter::reasoning_candidates(Workspace& ws) {
    std::vector<std::size_t>& cand = ws.cuts;
    std::size_t i = ps_;
    Region region{};
    std::size_t skip = 0;
    while (i < pe_) {
        i = hot_.next(i, pe_);
        if (i >= pe_) break;
        const char32_t c = t_[i];
        if (c < 0x80 && (kAscii.f[c] & kFlagOpener)) {
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
            std::size_t j = i + 1;
            while (j < pe_ && is_terminator(t_[j])) ++j;
            terminator_run(i, j, cand);
            i = j;
        } else {
            ++i;
        }
    }
}

void PieceSegmenter::simple_candidates(std::vector<std::size_t>& cand) const {
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

void PieceSegmenter::cuts(RuleSet rules, Workspace& ws) {
    std::vector<std::size_t>& cuts = ws.cuts;
    ws.fences.clear();
    cuts.clear();
    if (rules == RuleSet::kReasoning)
        reasoning_candidates(ws);
    else
        simple_candidates(cuts);
    // Keep cuts strictly inside the piece and after its first non-space character (leading
    // whitespace belongs to the first segment).
    const std::size_t first = ws_end(ps_);
    std::size_t w = 0;
    for (std::size_t b : cuts)
        if (b > first && b < pe_) cuts[w++] = b;
    cuts.resize(w);
}

class Assembler {
   public:
    Assembler(const char32_t* t, std::size_t n, const Segmenter::Config& config, Workspace& ws, Segmentation& out)
        : t_(t), n_(n), cfg_(config), opt_(config.options), ws_(ws), out_(out), hot_(ws.hot) {}

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
        for (const std::u32string* m : cfg_.markers)
            if (m->size() <= n_ - i && std::char_traits<char32_t>::compare(t_ + i, m->data(), m->size()) == 0)
                return m->size();
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
        PieceSegmenter(t_, ps, pe, hot_).cuts(opt_.rules, ws_);
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

    const char32_t* t_;
    std::size_t n_;
    const Segmenter::Config& cfg_;
    const SegmentOptions& opt_;
    Workspace& ws_;
    Segmentation& out_;
    HotBits hot_;
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
    for (int c = 0; c < 128; ++c) cfg_.hot_ascii[c] = kAscii.f[c] != 0 || cfg_.first_ascii[c];
    std::stable_sort(cfg_.markers.begin(), cfg_.markers.end(),
                     [](const std::u32string* a, const std::u32string* b) { return a->size() > b->size(); });
}

void Segmenter::segment_codepoints(const char32_t* t, std::size_t n, Segmentation& out) {
    ws_.hot.assign(n / 64 + 2, 0);
    for (std::size_t i = 0; i < n; ++i)
        if (t[i] >= 0x80 || cfg_.hot_ascii[t[i]]) ws_.hot[i >> 6] |= std::uint64_t{1} << (i & 63);
    Assembler(t, n, cfg_, ws_, out).run();
}

void Segmenter::segment_utf8(const char* data, std::size_t size, Segmentation& out) {
    decode_utf8_flagged(data, size, cfg_.hot_ascii, ws_.codepoints, ws_.hot);
    Assembler(ws_.codepoints.data(), ws_.codepoints.size(), cfg_, ws_, out).run();
}

}  // namespace rdpt
