#pragma once
// The process_* metrics every Prometheus client exports (client_golang's process collector):
// CPU time, resident and virtual memory, open and maximum file descriptors, start time. Read
// from /proc/self at each scrape. Linux only.
//
// Thread-safety: registration once; the samples are computed on the scraping thread.
#include "metrics/metrics.h"

namespace berth::metrics {

void registerProcessMetrics(Registry& registry);

struct ProcessStats {
  double cpuSeconds = 0;  // user + system
  double residentBytes = 0;
  double virtualBytes = 0;
  double openFds = 0;
  double maxFds = 0;            // the soft RLIMIT_NOFILE
  double startTimeSeconds = 0;  // since the Unix epoch
};
// Current values; fields that cannot be read stay 0.
ProcessStats readProcessStats();

}  // namespace berth::metrics
