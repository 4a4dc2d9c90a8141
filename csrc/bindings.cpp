// pybind11 bindings: a thin layer over the plain C++ segmenter and token assignment. Texts are
// read zero-copy as UTF-8 from the str objects; the GIL is released while C++ works.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <string>
#include <vector>

#include "assign.hpp"
#include "segmenter.hpp"
#include "unicode.hpp"

namespace py = pybind11;

namespace {

struct Utf8View {
    const char* data;
    std::size_t size;
};

// UTF-8 bytes of a str (cached inside the str object by CPython). A str with an unpaired
// surrogate raises UnicodeEncodeError (a ValueError) carrying the position.
Utf8View utf8_of(py::handle obj, const std::string& what) {
    if (!PyUnicode_Check(obj.ptr()))
        throw py::type_error(what + " must be str, not " + std::string(Py_TYPE(obj.ptr())->tp_name));
    Py_ssize_t size = 0;
    const char* data = PyUnicode_AsUTF8AndSize(obj.ptr(), &size);
    if (data == nullptr) throw py::error_already_set();
    return {data, static_cast<std::size_t>(size)};
}

// Options as the Python layer validated them (rdpt_fast.segmentation): a versioned ruleset name and
// marker strings.
rdpt::SegmentOptions make_options(const std::string& rules, const py::list& markers, std::int64_t min_chars) {
    rdpt::SegmentOptions o;
    o.rules = rdpt::rule_set_named(rules);
    std::vector<char32_t> buf;
    for (py::size_t k = 0; k < markers.size(); ++k) {
        const Utf8View v = utf8_of(markers[k], "markers[" + std::to_string(k) + "]");
        rdpt::decode_utf8(v.data, v.size, buf);
        o.markers.emplace_back(buf.begin(), buf.end());
    }
    o.min_chars = min_chars;
    return o;
}

template <typename T>
py::array_t<T> to_array(const std::vector<T>& v) {
    py::array_t<T> a(static_cast<py::ssize_t>(v.size()));
    std::copy(v.begin(), v.end(), a.mutable_data());
    return a;
}

py::tuple to_tuple(const rdpt::Segmentation& s) {
    return py::make_tuple(to_array(s.starts), to_array(s.ends), to_array(s.kinds));
}

py::tuple segment(py::handle text, const std::string& rules, const py::list& markers, std::int64_t min_chars) {
    const rdpt::SegmentOptions options = make_options(rules, markers, min_chars);
    const Utf8View v = utf8_of(text, "text");
    rdpt::Segmentation out;
    {
        py::gil_scoped_release release;
        rdpt::Segmenter(options).segment_utf8(v.data, v.size, out);
    }
    return to_tuple(out);
}

py::int_ scan_steps(py::handle text, const std::string& rules, const py::list& markers, std::int64_t min_chars) {
    const rdpt::SegmentOptions options = make_options(rules, markers, min_chars);
    const Utf8View v = utf8_of(text, "text");
    rdpt::Segmentation out;
    std::size_t steps;
    {
        py::gil_scoped_release release;
        steps = rdpt::Segmenter(options).segment_utf8_counted(v.data, v.size, out);
    }
    return py::int_(steps);
}

py::list segment_batch(const py::sequence& texts, const std::string& rules, const py::list& markers,
                       std::int64_t min_chars, int num_threads) {
    const rdpt::SegmentOptions options = make_options(rules, markers, min_chars);
    const std::size_t m = texts.size();
    std::vector<rdpt::Utf8Text> views;
    views.reserve(m);
    for (std::size_t k = 0; k < m; ++k) {
        const Utf8View v = utf8_of(texts[k], "texts[" + std::to_string(k) + "]");
        views.push_back({v.data, v.size});
    }
    std::vector<rdpt::Segmentation> results;
    {
        py::gil_scoped_release release;
        rdpt::segment_batch(options, views, results, static_cast<std::size_t>(std::max(0, num_threads)));
    }
    py::list out(m);
    for (std::size_t k = 0; k < m; ++k) out[k] = to_tuple(results[k]);
    return out;
}

using IntArray = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;

IntArray assign_tokens(const IntArray& offsets, const IntArray& starts, const IntArray& ends, py::handle text) {
    if (offsets.ndim() != 2 || offsets.shape(1) != 2)
        throw py::value_error("token_offsets must have shape [num_tokens, 2]");
    if (starts.ndim() != 1 || ends.ndim() != 1 || starts.shape(0) != ends.shape(0))
        throw py::value_error("segment starts and ends must be 1-D arrays of one length");
    // Sorted, disjoint segments are checked in Python (rdpt_fast.segmentation.assign_tokens); the core
    // reads within bounds whatever they are.
    const std::size_t num_segments = static_cast<std::size_t>(starts.shape(0));
    const std::int64_t* s = starts.data();
    const std::int64_t* e = ends.data();
    const Utf8View v = utf8_of(text, "text");
    const std::size_t num_tokens = static_cast<std::size_t>(offsets.shape(0));
    IntArray out(static_cast<py::ssize_t>(num_tokens));
    std::int64_t* o = out.mutable_data();
    const std::int64_t* off = offsets.data();
    {
        py::gil_scoped_release release;
        std::vector<char32_t> codepoints;
        rdpt::decode_utf8(v.data, v.size, codepoints);
        rdpt::assign_tokens(off, num_tokens, s, e, num_segments, codepoints.data(), codepoints.size(), o);
    }
    return out;
}

// Bit 0: whitespace, bit 1: letter, bit 2: lowercase letter, bit 3: uppercase letter. For testing
// the Unicode tables.
int char_class(std::uint32_t cp) {
    const auto c = static_cast<char32_t>(cp);
    return (rdpt::is_space(c) ? 1 : 0) | (rdpt::is_letter(c) ? 2 : 0) | (rdpt::is_lowercase(c) ? 4 : 0) |
           (rdpt::is_uppercase(c) ? 8 : 0);
}

}  // namespace

PYBIND11_MODULE(_core, m) {
    m.doc() = "C++ core of rdpt-fast: sentence segmentation and token-to-segment assignment.";
    m.def("segment", &segment, py::arg("text"), py::arg("rules"), py::arg("markers"), py::arg("min_chars"),
          "Segment one text -> (starts int64, ends int64, kinds uint8), code-point offsets.");
    m.def("segment_batch", &segment_batch, py::arg("texts"), py::arg("rules"), py::arg("markers"),
          py::arg("min_chars"), py::arg("num_threads"), "Segment many texts on a thread pool.");
    m.def("scan_steps", &scan_steps, py::arg("text"), py::arg("rules"), py::arg("markers"), py::arg("min_chars"),
          "Work of segmenting one text: code points and bitmap words read after decoding (for tests).");
    m.def("assign_tokens", &assign_tokens, py::arg("token_offsets"), py::arg("starts"), py::arg("ends"),
          py::arg("text"), "Segment index of each token (-1: none).");
    m.def("char_class", &char_class, py::arg("codepoint"));
}
