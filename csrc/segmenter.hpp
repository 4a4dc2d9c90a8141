// Sentence segmenter for reasoning traces: ../shared/SEGMENTATION.md, one linear pass per rule
// family, no regular expressions. Plain C++17, no Python.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace rdpt {

enum Kind : std::uint8_t { kText = 0, kMarker = 1, kCode = 2 };
enum class RuleSet { kReasoningV1, kReasoningV2, kSimple };

// The ruleset of a versioned name ("reasoning-v1", "reasoning-v2", "simple"); throws
// std::invalid_argument for any other name.
RuleSet rule_set_named(const std::string& name);

struct SegmentOptions {
    RuleSet rules = RuleSet::kReasoningV2;
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
    // Throws std::invalid_argument for an empty marker.
    explicit Segmenter(SegmentOptions options);
    Segmenter(const Segmenter&) = delete;
    Segmenter& operator=(const Segmenter&) = delete;

    // Segments UTF-8 text (decoded internally; offsets are code points). Throws
    // std::invalid_argument on invalid UTF-8.
    void segment_utf8(const char* data, std::size_t size, Segmentation& out);
    // segment_utf8 that also counts the work of the scans: every code point and bitmap word read
    // after decoding. For tests of linear time; slower than segment_utf8.
    std::size_t segment_utf8_counted(const char* data, std::size_t size, Segmentation& out);

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

// UTF-8 text owned elsewhere.
struct Utf8Text {
    const char* data;
    std::size_t size;
};

// Segments every text into out (resized to texts.size()) on `threads` threads (0: all cores),
// one Segmenter per thread. The first exception thrown by any text is rethrown.
void segment_batch(const SegmentOptions& options, const std::vector<Utf8Text>& texts,
                   std::vector<Segmentation>& out, std::size_t threads);

}  // namespace rdpt
