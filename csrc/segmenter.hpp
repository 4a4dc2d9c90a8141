// Sentence segmenter for reasoning traces: ../shared/SEGMENTATION.md, one linear pass per rule
// family, no regular expressions. Plain C++17, no Python.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace rdpt {

enum Kind : std::uint8_t { kText = 0, kMarker = 1, kCode = 2 };
enum class RuleSet { kReasoning, kSimple };

struct SegmentOptions {
    RuleSet rules = RuleSet::kReasoning;
    std::vector<std::u32string> markers;  // non-empty strings; the longest wins at one position
    std::int64_t min_chars = 0;           // merge text segments with fewer non-space characters
};

// Spans [start, end) in code points, a partition of the text, in order.
struct Segmentation {
    std::vector<std::int64_t> starts;
    std::vector<std::int64_t> ends;
    std::vector<std::uint8_t> kinds;
    void clear() {
        starts.clear();
        ends.clear();
        kinds.clear();
    }
};

struct Region {
    std::size_t start;
    std::size_t end;
    bool fence;  // a fenced code block
};

// Scratch buffers reused across texts by one Segmenter.
struct Workspace {
    std::vector<char32_t> codepoints;
    std::vector<std::uint64_t> hot;  // bitmap of the positions the scans must look at
    std::vector<std::size_t> cuts;
    std::vector<std::size_t> fences;
};

// Segments texts with fixed options. Not thread-safe: use one Segmenter per thread.
class Segmenter {
   public:
    explicit Segmenter(SegmentOptions options);
    Segmenter(const Segmenter&) = delete;
    Segmenter& operator=(const Segmenter&) = delete;

    // Segments the code points t[0, n).
    void segment_codepoints(const char32_t* t, std::size_t n, Segmentation& out);
    // Segments UTF-8 text (decoded internally; offsets are code points). Throws
    // std::invalid_argument on invalid UTF-8.
    void segment_utf8(const char* data, std::size_t size, Segmentation& out);

    struct Config {
        SegmentOptions options;
        std::vector<const std::u32string*> markers;  // into options.markers, longest first
        bool first_ascii[128] = {};                   // ASCII first characters of markers
        bool any_nonascii_first = false;
        bool hot_ascii[128] = {};                     // ASCII characters the scans stop at
    };

   private:
    Config cfg_;
    Workspace ws_;
};

}  // namespace rdpt
