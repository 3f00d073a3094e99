#include "kubelet/streaming/container_logs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <utility>
#include <thread>

#include "kubelet/logs/log_files.h"
#include "kubelet/streaming/cri_log.h"

namespace berth::kubelet::streaming {
namespace {

int64_t nowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string readFrom(int fd, off_t offset) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::pread(fd, buf, sizeof(buf), offset);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    offset += n;
  }
  return out;
}

ino_t inodeOf(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 ? st.st_ino : 0;
}

ino_t inodeOf(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

size_t countLines(std::string_view s) {
  return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
}

// The rotated files' content before the open current file `fd` (logs/log_files.h), oldest first.
// With a tail, only as many files (newest first) as the tail needs beside `current`. A file
// with fd's inode is the current one, rotated after we opened it: already read.
std::string olderLogs(const std::string& path, int fd, std::optional<int64_t> tailLines,
                      const std::string& current) {
  auto files = logs::rotatedLogFiles(path);
  ino_t mine = inodeOf(fd);
  std::string older;
  size_t lines = countLines(current);
  for (auto it = files.rbegin(); it != files.rend(); ++it) {
    if (tailLines && lines > static_cast<size_t>(*tailLines)) break;
    if (inodeOf(*it) == mine) continue;
    std::string text = logs::readLogFile(*it);
    lines += countLines(text);
    older.insert(0, text);
  }
  return older;
}

// The rotated files of `path` by name without ".gz" (compression renames them).
std::set<std::string> rotatedNames(const std::string& path) {
  std::set<std::string> out;
  for (auto f : logs::rotatedLogFiles(path)) {
    if (f.ends_with(".gz")) f.resize(f.size() - 3);
    out.insert(std::move(f));
  }
  return out;
}

// A follow's current file: what it read of it, and the rotated files that existed before it
// was opened (listed first, so the file itself cannot be among them).
struct Followed {
  int fd = -1;
  off_t offset = 0;
  std::set<std::string> known;
};

// When the file `f` reads has been rotated away: the rest of it and every file rotated after it
// (a fast writer may rotate more than once between two looks), and `f` now reads the new file.
// nullopt while no rotation happened.
std::optional<std::string> followRotation(const std::string& path, Followed& f) {
  ino_t now = inodeOf(path);
  if (now == 0 || now == inodeOf(f.fd)) return std::nullopt;
  std::set<std::string> known = rotatedNames(path);
  int next = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (next < 0) return std::nullopt;
  std::string text = readFrom(f.fd, f.offset);
  ino_t nextInode = inodeOf(next);
  bool first = true;  // the first file rotated since f was opened is f's own: read through fd
  for (const auto& file : logs::rotatedLogFiles(path)) {
    std::string name = file.ends_with(".gz") ? file.substr(0, file.size() - 3) : file;
    if (f.known.count(name)) continue;
    if (std::exchange(first, false)) continue;
    if (inodeOf(file) == nextInode) break;  // rotated again meanwhile: read through `next`
    text += logs::readLogFile(file);
  }
  ::close(f.fd);
  f = {next, 0, std::move(known)};
  return text;
}

}  // namespace

void sendStatus(apiserver::http::ResponseWriter& w, const core::Status& status) {
  w.send(status.code(), "application/json", status.toJsonString());
}

void serveContainerLogs(apiserver::http::Request& req, apiserver::http::ResponseWriter& w,
                        ContainerLocator& locator, const std::string& ns, const std::string& pod,
                        const std::string& container) {
  auto options = parseLogOptions(req.query, nowNanos());
  if (!options.ok()) {
    sendStatus(w, options.status());
    return;
  }
  auto info = locator.find(ns, pod, container);
  if (!info) {
    sendStatus(w, core::Status::notFound("pods", pod));
    return;
  }
  std::string path = options->previous ? info->previousLogPath : info->logPath;
  if (path.empty()) {
    sendStatus(w, core::Status::badRequest(options->previous
                                               ? "previous terminated container \"" + container +
                                                     "\" in pod \"" + pod + "\" not found"
                                               : "container \"" + container + "\" in pod \"" + pod +
                                                     "\" has no log file"));
    return;
  }
  Followed f;
  f.known = rotatedNames(path);
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f.fd < 0) {
    sendStatus(w, core::Status::notFound("log file", path));
    return;
  }
  std::string current = readFrom(f.fd, 0);
  // Only complete lines are read; a partial last line waits for its newline.
  size_t complete = current.rfind('\n');
  complete = complete == std::string::npos ? 0 : complete + 1;
  f.offset = static_cast<off_t>(complete);
  current.resize(complete);
  std::string content = olderLogs(path, f.fd, options->tailLines, current) + current;
  size_t start = options->tailLines ? tailStart(content, *options->tailLines) : 0;
  LogRenderer renderer(*options);
  bool ok = w.beginStream(200, "text/plain");
  if (ok) {
    std::string first = renderer.render(std::string_view(content).substr(start));
    if (!first.empty()) ok = w.writeChunk(first);
  }
  bool follow = options->follow && !options->previous;  // a terminated container has no more
  int idleRounds = 0;
  while (ok && follow && !renderer.limitReached()) {
    std::string more = readFrom(f.fd, f.offset);
    size_t nl = more.rfind('\n');
    if (nl != std::string::npos) {
      f.offset += static_cast<off_t>(nl + 1);
      std::string text = renderer.render(std::string_view(more).substr(0, nl + 1));
      if (!text.empty()) ok = w.writeChunk(text);
      continue;
    }
    // The file was rotated (a new one under its name): the files written since, then the new one.
    if (auto rotated = followRotation(path, f)) {
      std::string text = renderer.render(*rotated);
      if (!text.empty()) ok = w.writeChunk(text);
      continue;
    }
    // Nothing new: stop once the container is gone or has moved on to a new log file.
    if (++idleRounds % 10 == 0) {
      auto now = locator.find(ns, pod, container);
      if (!now || now->pid == 0 || now->logPath != path) {
        if (readFrom(f.fd, f.offset).empty()) break;
        continue;
      }
    }
    if (!w.clientConnected()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::close(f.fd);
  w.endStream();
}

}  // namespace berth::kubelet::streaming
