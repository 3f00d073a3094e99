#pragma once
// A container's CRI log with rotation, as upstream's kubelet keeps it: the current file (e.g.
// `0.log`) and its rotated predecessors `0.log.<YYYYMMDD-hhmmss>` (UTC), all but the newest
// rotated one gzip-compressed (`0.log.<stamp>.gz`), at most `maxFiles` files in all.
//
// CriLogWriter appends CRI lines to the current file and rotates it once it would grow past
// `maxSize`: the shim (runtime/shim.h) writes through it. The readers (the streaming server's
// `kubectl logs`) list the set with logFileSet and read compressed files with readLogFile.
// Rotation happens as the line is written rather than on upstream's 10 s check, so a file never
// exceeds maxSize (unless one line does); two rotations within one second take the next free
// second as their stamp, so names stay unique and in order.
//
// Thread-safety: a CriLogWriter is used by one thread at a time (the shim holds its lock);
// the free functions are safe anywhere.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace berth::kubelet::logs {

struct LogRotation {
  int64_t maxSize = 10 << 20;  // --container-log-max-size; 0 = never rotate
  int maxFiles = 5;            // --container-log-max-files, the current file included (>= 2)
  bool compress = true;        // gzip rotated files except the newest
};

class CriLogWriter {
 public:
  CriLogWriter(std::string path, LogRotation rotation);
  ~CriLogWriter();
  CriLogWriter(const CriLogWriter&) = delete;
  CriLogWriter& operator=(const CriLogWriter&) = delete;

  bool open();  // appends to an existing file; false when it cannot be opened
  // One complete CRI line (with its '\n'); rotates first when it would not fit.
  void write(std::string_view line);

 private:
  void rotate();
  std::string path_;
  LogRotation rotation_;
  int fd_ = -1;
  int64_t size_ = 0;
  int64_t lastStamp_ = 0;  // Unix seconds of the last rotated name
};

// The rotated files of `path`, oldest first (by their stamps), compressed ones included.
std::vector<std::string> rotatedLogFiles(const std::string& path);
// The whole set to read in order: the rotated files, then `path` itself.
std::vector<std::string> logFileSet(const std::string& path);
// A log file's content; a `.gz` file decompressed. Empty when it cannot be read.
std::string readLogFile(const std::string& file);
// "20261129-150405" for a Unix time, and back (-1 when malformed).
std::string rotationStamp(int64_t unixSeconds);
int64_t parseRotationStamp(std::string_view stamp);

// Size flags as the kubelet takes them ("10Mi", "512Ki", "1G", "4096"); -1 when malformed.
int64_t parseQuantityBytes(std::string_view text);

}  // namespace berth::kubelet::logs
