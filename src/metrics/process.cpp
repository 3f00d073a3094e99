// process_* metrics from /proc/self (see process.h).
#include "metrics/process.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace berth::metrics {
namespace {

// Seconds since the epoch at which the machine booted (/proc/stat "btime").
double bootTimeSeconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  while (in >> key) {
    if (key == "btime") {
      double value = 0;
      in >> value;
      return value;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

double countOpenFds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  int count = 0;
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  ::closedir(dir);
  return count - 1;  // not the descriptor opendir itself holds
}

}  // namespace

ProcessStats readProcessStats() {
  ProcessStats stats;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double pageSize = static_cast<double>(::sysconf(_SC_PAGESIZE));
  std::ifstream statFile("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(statFile)), std::istreambuf_iterator<char>());
  // Fields after the command name, which is in parentheses and may contain spaces.
  size_t close = stat.rfind(')');
  if (close != std::string::npos && ticks > 0) {
    std::istringstream fields(stat.substr(close + 2));
    std::string field;
    // Field 3 (state) is the first here; utime is 14, stime 15, starttime 22, vsize 23, rss 24.
    double utime = 0, stime = 0, start = 0, vsize = 0, rss = 0;
    for (int i = 3; i <= 24 && (fields >> field); ++i) {
      if (i == 14) utime = std::stod(field);
      if (i == 15) stime = std::stod(field);
      if (i == 22) start = std::stod(field);
      if (i == 23) vsize = std::stod(field);
      if (i == 24) rss = std::stod(field);
    }
    stats.cpuSeconds = (utime + stime) / ticks;
    stats.startTimeSeconds = bootTimeSeconds() + start / ticks;
    stats.virtualBytes = vsize;
    stats.residentBytes = rss * pageSize;
  }
  stats.openFds = countOpenFds();
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) stats.maxFds = static_cast<double>(limit.rlim_cur);
  return stats;
}

void registerProcessMetrics(Registry& registry) {
  struct Field {
    const char* name;
    const char* help;
    Type type;
    double ProcessStats::*value;
  };
  static const Field kFields[] = {
      {"process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
       Type::kCounter, &ProcessStats::cpuSeconds},
      {"process_resident_memory_bytes", "Resident memory size in bytes.", Type::kGauge,
       &ProcessStats::residentBytes},
      {"process_virtual_memory_bytes", "Virtual memory size in bytes.", Type::kGauge,
       &ProcessStats::virtualBytes},
      {"process_open_fds", "Number of open file descriptors.", Type::kGauge,
       &ProcessStats::openFds},
      {"process_max_fds", "Maximum number of open file descriptors.", Type::kGauge,
       &ProcessStats::maxFds},
      {"process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
       Type::kGauge, &ProcessStats::startTimeSeconds},
  };
  for (const Field& f : kFields) {
    registry.computed(f.name, f.help, f.type, {}, [value = f.value] {
      return std::vector<Sample>{{{}, readProcessStats().*value}};
    });
  }
}

}  // namespace berth::metrics
