// segment_batch: many texts on a pool of threads, one Segmenter per thread.
#include <algorithm>
#include <atomic>
#include <exception>
#include <thread>

#include "segmenter.hpp"

namespace rdpt {

void segment_batch(const SegmentOptions& options, const std::vector<Utf8Text>& texts,
                   std::vector<Segmentation>& out, std::size_t threads) {
    const std::size_t m = texts.size();
    out.resize(m);
    if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
    threads = std::max<std::size_t>(1, std::min(threads, m));
    std::atomic<std::size_t> next{0};
    std::atomic<bool> failed{false};
    std::exception_ptr error;
    auto work = [&] {
        try {
            Segmenter segmenter(options);
            for (std::size_t k = next++; k < m && !failed; k = next++)
                segmenter.segment_utf8(texts[k].data, texts[k].size, out[k]);
        } catch (...) {
            if (!failed.exchange(true)) error = std::current_exception();
        }
    };
    std::vector<std::thread> pool;
    for (std::size_t k = 1; k < threads; ++k) pool.emplace_back(work);
    work();
    for (std::thread& th : pool) th.join();
    if (error) std::rethrow_exception(error);
}

}  // namespace rdpt
