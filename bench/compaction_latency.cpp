// Write latency of a fixed-rate writer while the SQLite store compacts, against the same writer
// without compaction in the same run (issue 6: compaction must not stall writers).
//
// 1. Fills a fresh store with --revisions superseded revisions (--keys keys rewritten with
//    --value-bytes values by 32 threads, so group commit makes the fill quick).
// 2. Starts the load: --clients clients, each updating its own key, --rate writes/s in all
//    (several clients, so group commit carries the rate whatever the disk's fsync latency; with
//    a fast disk, --clients=1 is one client patching one object). Open loop: write i of a client
//    is due at a fixed time and its latency counts from then, so a stall also shows in the
//    writes queued behind it (no coordinated omission).
// 3. Under that load, alternates quiet windows (--baseline-seconds in all) with --steps
//    compactions that together delete everything but the newest --keep revisions, and reports
//    the latency of writes in flight during a compaction against the others, and the file size
//    (database + WAL) before and after.
//
// Run: compaction_latency [--revisions=200000] [--rate=2400] [--clients=64] [--value-bytes=2048]
//        [--keys=1000] [--keep=10000] [--steps=4] [--baseline-seconds=8]
//      (files in $TMPDIR, removed at exit; BENCH_VERBOSE=1 prints each step)
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/sqlite_store.h"

namespace {

namespace fs = std::filesystem;
using berth::store::SqliteStore;
using Clock = std::chrono::steady_clock;

struct Options {
  int64_t revisions = 200000;
  int64_t rate = 2400;
  int64_t clients = 64;
  int64_t valueBytes = 2048;
  int64_t keys = 1000;
  int64_t keep = 10000;
  double baselineSeconds = 8;
  int64_t steps = 4;
};

Options parse(int argc, char** argv) {
  Options o;
  double baselineSeconds = o.baselineSeconds;
  const std::pair<const char*, int64_t*> ints[] = {
      {"--revisions", &o.revisions}, {"--rate", &o.rate},
      {"--clients", &o.clients},     {"--value-bytes", &o.valueBytes},
      {"--keys", &o.keys},           {"--keep", &o.keep},
      {"--steps", &o.steps}};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto eq = a.find('=');
    std::string name = a.substr(0, eq);
    double v = eq == std::string::npos ? 0 : std::atof(a.c_str() + eq + 1);
    auto it = std::find_if(std::begin(ints), std::end(ints),
                           [&](const auto& p) { return name == p.first; });
    if (it != std::end(ints)) {
      *it->second = static_cast<int64_t>(v);
    } else if (name == "--baseline-seconds") {
      baselineSeconds = v;
    } else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      std::exit(2);
    }
  }
  o.baselineSeconds = baselineSeconds;
  if (o.rate <= 0 || o.clients <= 0 || o.valueBytes <= 0 || o.keys <= 0 || o.revisions < 0 ||
      o.steps <= 0) {
    std::exit(2);
  }
  return o;
}

// A value that differs per write (so pages really change), about a ConfigMap's JSON.
std::string value(int64_t bytes, int64_t seq) {
  std::string v(static_cast<size_t>(bytes), 'x');
  std::string tag = "{\"seq\":" + std::to_string(seq) + "}";
  std::memcpy(v.data(), tag.data(), std::min(tag.size(), v.size()));
  return v;
}

double fileMb(const std::string& path) {
  std::error_code ec;
  double total = 0;
  for (const char* suffix : {"", "-wal"}) {
    auto n = fs::file_size(path + suffix, ec);
    if (!ec) total += static_cast<double>(n);
  }
  return total / 1e6;
}

struct Summary {
  size_t count = 0;
  double p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;  // milliseconds
  double seconds = 0;
  int64_t errors = 0;
};

Summary summarize(std::vector<double> ms, double seconds, int64_t errors) {
  Summary s;
  s.count = ms.size();
  s.seconds = seconds;
  s.errors = errors;
  if (ms.empty()) return s;
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    size_t i = static_cast<size_t>(q * static_cast<double>(ms.size() - 1) + 0.5);
    return ms[std::min(i, ms.size() - 1)];
  };
  s.p50 = at(0.50);
  s.p90 = at(0.90);
  s.p99 = at(0.99);
  s.p999 = at(0.999);
  s.max = ms.back();
  return s;
}

// A write as the client saw it: when it was due and when it returned.
struct Sample {
  Clock::time_point due;
  Clock::time_point done;
  bool ok;
};

// `clients` clients sharing `rate` writes/s, each rewriting one key of its own, until `stop`.
std::vector<Sample> runWriters(SqliteStore& store, const Options& o, std::atomic<bool>& stop) {
  std::vector<std::vector<Sample>> perClient(static_cast<size_t>(o.clients));
  const auto interval = std::chrono::nanoseconds(1000000000LL * o.clients / o.rate);
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int64_t c = 0; c < o.clients; ++c) {
    threads.emplace_back([&, c] {
      const std::string key = "/registry/configmaps/default/hot-" + std::to_string(c);
      auto& samples = perClient[static_cast<size_t>(c)];
      // Clients start spread over one interval, so the offered load is smooth.
      const auto first = start + interval * c / o.clients;
      for (int64_t i = 0; !stop.load(); ++i) {
        const auto due = first + i * interval;
        std::this_thread::sleep_until(due);
        bool ok = store.update(key, value(o.valueBytes, i), 0).ok();
        samples.push_back({due, Clock::now(), ok});
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<Sample> all;
  for (auto& l : perClient) all.insert(all.end(), l.begin(), l.end());
  return all;
}

void printRow(const char* name, const Summary& s, const Summary& base) {
  std::printf("| %s | %zu | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2fx | %.2fx | %lld |\n",
              name, s.count, static_cast<double>(s.count) / std::max(s.seconds, 1e-9), s.p50, s.p90,
              s.p99, s.p999, s.max, s.p99 / base.p99, s.max / base.max,
              static_cast<long long>(s.errors));
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  std::string tmpl = (fs::temp_directory_path() / "berth-compaction-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) return 1;
  const fs::path dir(tmpl);
  const std::string path = (dir / "store.db").string();
  int rc = 0;
  {
    auto opened = SqliteStore::open(path);
    if (!opened.ok()) {
      std::fprintf(stderr, "open: %s\n", opened.status().message().c_str());
      return 1;
    }
    SqliteStore& store = **opened;

    // Fill: keys created once, then rewritten until `revisions` rows exist.
    const auto fillStart = Clock::now();
    std::atomic<int64_t> next{0};
    std::vector<std::thread> fillers;
    for (int t = 0; t < 32; ++t) {
      fillers.emplace_back([&] {
        for (int64_t n; (n = next.fetch_add(1)) < o.revisions;) {
          std::string key = "/registry/configmaps/fill/cm-" + std::to_string(n % o.keys);
          if (n < o.keys) {
            (void)store.create(key, value(o.valueBytes, n));
          } else {
            (void)store.update(key, value(o.valueBytes, n), 0);
          }
        }
      });
    }
    for (auto& th : fillers) th.join();
    const double fillSeconds = std::chrono::duration<double>(Clock::now() - fillStart).count();
    std::printf("fill: %lld revisions of %lld bytes over %lld keys in %.1f s; file %.1f MB\n\n",
                static_cast<long long>(store.currentRevision()),
                static_cast<long long>(o.valueBytes), static_cast<long long>(o.keys), fillSeconds,
                fileMb(path));

    for (int64_t c = 0; c < o.clients; ++c) {
      std::string key = "/registry/configmaps/default/hot-" + std::to_string(c);
      if (!store.create(key, value(o.valueBytes, 0)).ok()) return 1;
    }
    // One writer load for the whole measurement. Baseline windows and compaction windows
    // alternate under it (compaction in --steps steps up to current - --keep), so the two are
    // compared over the same stretch of time, whatever else the machine does meanwhile.
    std::atomic<bool> stop{false};
    std::vector<Sample> samples;
    std::thread writers([&] { samples = runWriters(store, o, stop); });
    const auto baselineWindow = std::chrono::duration<double>(o.baselineSeconds / o.steps);
    std::this_thread::sleep_for(baselineWindow);
    const int64_t first = store.compactedRevision();
    const int64_t target = store.currentRevision() - o.keep;
    const double mbBefore = fileMb(path);
    std::vector<std::pair<Clock::time_point, Clock::time_point>> windows;
    double compactSeconds = 0;
    double mbAfter = 0;  // right after the last step, before new writes grow the WAL again
    for (int64_t step = 1; step <= o.steps; ++step) {
      const int64_t to = first + (target - first) * step / o.steps;
      const auto t0 = Clock::now();
      berth::core::Status st = store.compact(to);
      windows.emplace_back(t0, Clock::now());
      if (step == o.steps) mbAfter = fileMb(path);
      compactSeconds += std::chrono::duration<double>(windows.back().second - t0).count();
      if (!st.ok()) {
        std::fprintf(stderr, "compact: %s\n", st.message().c_str());
        rc = 1;
      }
      if (getenv("BENCH_VERBOSE") != nullptr) {
        std::fprintf(stderr, "  step %lld: to %lld, %.2f s, file %.1f MB\n",
                     static_cast<long long>(step), static_cast<long long>(to),
                     std::chrono::duration<double>(windows.back().second - t0).count(),
                     fileMb(path));
      }
      std::this_thread::sleep_for(baselineWindow);
    }
    stop.store(true);
    writers.join();
    // Without load, everything but the newest --keep revisions: the size compaction gets to.
    const int64_t finalTarget = store.currentRevision() - o.keep;
    if (!store.compact(finalTarget).ok()) rc = 1;
    const double mbQuiet = fileMb(path);

    // A write that was in flight at any moment of a compaction counts for the compaction.
    std::vector<double> base;
    std::vector<double> during;
    int64_t baseErrors = 0;
    int64_t duringErrors = 0;
    for (const Sample& x : samples) {
      bool overlaps = std::any_of(windows.begin(), windows.end(), [&](const auto& w) {
        return x.due <= w.second && x.done >= w.first;
      });
      (overlaps ? during : base)
          .push_back(std::chrono::duration<double, std::milli>(x.done - x.due).count());
      if (!x.ok) ++(overlaps ? duringErrors : baseErrors);
    }
    const double baseSeconds = o.baselineSeconds * (o.steps + 1) / o.steps;
    const Summary before = summarize(std::move(base), baseSeconds, baseErrors);
    const Summary while_ = summarize(std::move(during), compactSeconds, duringErrors);

    std::printf(
        "Writers: %lld clients, each updating its own key with a %lld-byte value, "
        "offered %lld/s in all, open loop (latency from when each write was due).\n",
        static_cast<long long>(o.clients), static_cast<long long>(o.valueBytes),
        static_cast<long long>(o.rate));
    std::printf(
        "Compaction of %lld revisions (to %lld, the newest %lld kept) in %lld steps under "
        "the load: %.1f s in all; file (database + WAL) %.1f MB -> %.1f MB (%.1f%%), "
        "while the writers added their own revisions.\n",
        static_cast<long long>(target - first), static_cast<long long>(target),
        static_cast<long long>(o.keep), static_cast<long long>(o.steps), compactSeconds, mbBefore,
        mbAfter, 100.0 * mbAfter / std::max(mbBefore, 1e-9));
    std::printf(
        "After the load stopped, compaction to %lld (the newest %lld kept): file %.1f MB "
        "(%.1f%% of %.1f MB).\n\n",
        static_cast<long long>(finalTarget), static_cast<long long>(o.keep), mbQuiet,
        100.0 * mbQuiet / std::max(mbBefore, 1e-9), mbBefore);
    std::printf(
        "| phase | writes | writes/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | "
        "p99 / baseline | max / baseline | errors |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
    printRow("no compaction", before, before);
    printRow("during compaction", while_, before);
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return rc;
}
