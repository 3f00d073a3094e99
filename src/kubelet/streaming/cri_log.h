#pragma once
// Container logs in the CRI log format ("<RFC3339Nano> <stdout|stderr> <F|P> <text>\n", one
// entry per line; P marks a partial line whose text continues in the next entry) and the
// options of upstream's PodLogOptions as the kubelet applies them: tailLines (counted in log
// entries from the end of the file), sinceSeconds/sinceTime (entries at or after the time),
// timestamps (prefix each line with its entry's timestamp), limitBytes (stop after that many
// bytes of output).
//
// Thread-safety: plain functions and values.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace berth::kubelet::streaming {

struct CriLogEntry {
  std::string_view timestamp;  // as written (RFC 3339 with nanoseconds)
  int64_t unixNanos = 0;
  std::string_view stream;  // "stdout" or "stderr"
  bool partial = false;     // tag P
  std::string_view text;    // without the newline
};

// One line of a log file (without its '\n'). nullopt for a malformed line.
std::optional<CriLogEntry> parseCriLogLine(std::string_view line);
// RFC 3339 ("2024-01-02T03:04:05.123456789Z", offsets like +02:00 too) to Unix nanoseconds.
std::optional<int64_t> parseRfc3339(std::string_view text);
// Unix nanoseconds as RFC 3339 with nine fractional digits, UTC (what the kubelet writes).
std::string formatRfc3339Nano(int64_t unixNanos);
// One entry as a CRI log line, with its newline.
std::string formatCriLogLine(int64_t unixNanos, std::string_view stream, bool partial,
                             std::string_view text);

struct LogOptions {
  std::string container;
  bool follow = false;
  bool previous = false;
  bool timestamps = false;
  std::optional<int64_t> tailLines;
  std::optional<int64_t> sinceNanos;  // absolute, Unix nanoseconds
  std::optional<int64_t> limitBytes;
};

// From the request's query (first values); BadRequest for malformed or negative numbers, both
// sinceSeconds and sinceTime, or a non-positive sinceSeconds/limitBytes, as upstream validates.
core::Result<LogOptions> parseLogOptions(const std::multimap<std::string, std::string>& query,
                                         int64_t nowNanos);

// Byte offset in `content` where its last `lines` lines start (0 when it has fewer).
size_t tailStart(std::string_view content, int64_t lines);

// Turns complete log lines into what the client reads: the text, a newline unless partial, the
// timestamp first when asked; drops entries before `since` and malformed lines; stops at
// limitBytes. Keeps an incomplete last line for the next call.
class LogRenderer {
 public:
  explicit LogRenderer(const LogOptions& options) : options_(options) {}
  std::string render(std::string_view bytes);
  bool limitReached() const { return limitReached_; }

 private:
  const LogOptions& options_;
  std::string carry_;
  int64_t written_ = 0;
  bool limitReached_ = false;
};

}  // namespace berth::kubelet::streaming
