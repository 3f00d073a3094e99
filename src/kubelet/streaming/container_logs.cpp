#include "kubelet/streaming/container_logs.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <thread>

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
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    sendStatus(w, core::Status::notFound("log file", path));
    return;
  }
  std::string content = readFrom(fd, 0);
  // Only complete lines are read; a partial last line waits for its newline.
  size_t complete = content.rfind('\n');
  complete = complete == std::string::npos ? 0 : complete + 1;
  size_t start = options->tailLines
                     ? tailStart(std::string_view(content).substr(0, complete), *options->tailLines)
                     : 0;
  off_t offset = static_cast<off_t>(complete);
  LogRenderer renderer(*options);
  bool ok = w.beginStream(200, "text/plain");
  if (ok) {
    std::string first = renderer.render(std::string_view(content).substr(start, complete - start));
    if (!first.empty()) ok = w.writeChunk(first);
  }
  bool follow = options->follow && !options->previous;  // a terminated container has no more
  int idleRounds = 0;
  while (ok && follow && !renderer.limitReached()) {
    std::string more = readFrom(fd, offset);
    size_t nl = more.rfind('\n');
    if (nl != std::string::npos) {
      offset += static_cast<off_t>(nl + 1);
      std::string text = renderer.render(std::string_view(more).substr(0, nl + 1));
      if (!text.empty()) ok = w.writeChunk(text);
      continue;
    }
    // Nothing new: stop once the container is gone or has moved on to a new log file.
    if (++idleRounds % 10 == 0) {
      auto now = locator.find(ns, pod, container);
      if (!now || now->pid == 0 || now->logPath != path) {
        if (readFrom(fd, offset).empty()) break;
        continue;
      }
    }
    if (!w.clientConnected()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::close(fd);
  w.endStream();
}

}  // namespace berth::kubelet::streaming
