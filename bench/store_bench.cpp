// Store benchmarks: SqliteStore write throughput with 1, 8 and 64 concurrent writers (group
// commit turns many writers into few fsyncs), read throughput, and as the reference a raw SQLite
// insert loop that fsyncs every row in its own transaction (what one-commit-per-write costs).
//
// Run: store_bench --benchmark_min_time=0.2   (files go to $TMPDIR, removed at exit)
#include <benchmark/benchmark.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "store/memory/memory_store.h"
#include "store/sqlite/sqlite_store.h"

namespace {

namespace fs = std::filesystem;
using berth::store::MemoryStore;
using berth::store::SqliteStore;

// One temporary directory for the whole run.
const fs::path& benchDir() {
  static const fs::path dir = [] {
    std::string tmpl = (fs::temp_directory_path() / "berth-bench-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(benchDir(), ec);
    });
    return fs::path(tmpl);
  }();
  return dir;
}

// A ~600-byte value, about a small Pod's JSON.
const std::string& payload() {
  static const std::string v(600, 'p');
  return v;
}

std::unique_ptr<SqliteStore> g_writeStore;
std::atomic<int64_t> g_keySeq{0};

void openWriteStore(const benchmark::State&) {
  static int n = 0;
  auto s = SqliteStore::open((benchDir() / ("writes-" + std::to_string(++n) + ".db")).string());
  if (!s.ok()) std::abort();
  g_writeStore = std::move(s).value();
}
void closeWriteStore(const benchmark::State&) { g_writeStore.reset(); }

void BM_SqliteCreate(benchmark::State& state) {
  for (auto _ : state) {
    std::string key = "/registry/pods/default/p-" + std::to_string(g_keySeq.fetch_add(1));
    auto r = g_writeStore->create(key, payload());
    if (!r.ok()) state.SkipWithError(r.status().message().c_str());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SqliteCreate)
    ->Setup(openWriteStore)
    ->Teardown(closeWriteStore)
    ->Threads(1)
    ->Threads(8)
    ->Threads(64)
    ->UseRealTime();

std::unique_ptr<SqliteStore> g_readStore;
constexpr int kReadKeys = 10000;

void openReadStore(const benchmark::State&) {
  if (g_readStore) return;
  auto s = SqliteStore::open((benchDir() / "reads.db").string());
  if (!s.ok()) std::abort();
  g_readStore = std::move(s).value();
  // Filled by many writers at once so that group commit makes this quick.
  std::vector<std::thread> threads;
  for (int t = 0; t < 50; ++t) {
    threads.emplace_back([t] {
      for (int i = t; i < kReadKeys; i += 50) {
        (void)g_readStore->create("/registry/pods/default/p-" + std::to_string(i), payload());
      }
    });
  }
  for (auto& th : threads) th.join();
}

void BM_SqliteGet(benchmark::State& state) {
  uint64_t x = 88172645463325252ull + state.thread_index();
  for (auto _ : state) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    auto r = g_readStore->get("/registry/pods/default/p-" + std::to_string(x % kReadKeys));
    if (!r.ok()) state.SkipWithError(r.status().message().c_str());
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SqliteGet)->Setup(openReadStore)->Threads(1)->Threads(2)->UseRealTime();

void BM_SqliteList500(benchmark::State& state) {
  for (auto _ : state) {
    auto r = g_readStore->list({.prefix = "/registry/pods/default/", .limit = 500});
    if (!r.ok() || r->items.size() != 500) state.SkipWithError("list failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * 500);
}
BENCHMARK(BM_SqliteList500)->Setup(openReadStore)->UseRealTime();

void BM_MemoryCreate(benchmark::State& state) {
  auto store = std::make_unique<MemoryStore>();
  int64_t i = 0;
  for (auto _ : state) {
    (void)store->create("/registry/pods/default/p-" + std::to_string(++i), payload());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MemoryCreate);

// Reference: raw SQLite, WAL + synchronous=FULL, one transaction (one fsync) per insert.
void BM_RawSqliteInsertFsyncEach(benchmark::State& state) {
  std::string path = (benchDir() / "raw.db").string();
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) std::abort();
  sqlite3_exec(db,
               "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
               "CREATE TABLE IF NOT EXISTS kv(id INTEGER PRIMARY KEY, key BLOB, value BLOB)",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO kv(key, value) VALUES(?1, ?2)", -1, &st, nullptr);
  int64_t i = 0;
  for (auto _ : state) {
    std::string key = "/registry/pods/default/p-" + std::to_string(++i);
    sqlite3_bind_blob(st, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
    sqlite3_bind_blob(st, 2, payload().data(), static_cast<int>(payload().size()),
                      SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) state.SkipWithError("insert failed");
    sqlite3_reset(st);
  }
  state.SetItemsProcessed(state.iterations());
  sqlite3_finalize(st);
  sqlite3_close(db);
}
BENCHMARK(BM_RawSqliteInsertFsyncEach)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
