#include "kubelet/logs/log_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace berth::kubelet::logs {
namespace fs = std::filesystem;
namespace {

bool writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t w = ::write(fd, data.data(), data.size());
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data.remove_prefix(static_cast<size_t>(w));
  }
  return true;
}

// The stamp of a rotated file's name relative to `base` ("0.log"), or -1 if it is not one.
int64_t stampOf(const std::string& base, const std::string& name) {
  if (name.size() <= base.size() + 1 || name.compare(0, base.size(), base) != 0 ||
      name[base.size()] != '.')
    return -1;
  std::string_view rest = std::string_view(name).substr(base.size() + 1);
  if (rest.size() > 3 && rest.substr(rest.size() - 3) == ".gz") rest.remove_suffix(3);
  return parseRotationStamp(rest);
}

bool gzipFile(const std::string& from, const std::string& to) {
  std::string content = readLogFile(from);
  std::string tmp = to + ".tmp";
  gzFile out = ::gzopen(tmp.c_str(), "wb");
  if (out == nullptr) return false;
  bool ok =
      content.empty() || ::gzwrite(out, content.data(), static_cast<unsigned>(content.size())) > 0;
  ok = ::gzclose(out) == Z_OK && ok;
  if (!ok || ::rename(tmp.c_str(), to.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return false;
  }
  ::unlink(from.c_str());
  return true;
}

}  // namespace

std::string rotationStamp(int64_t unixSeconds) {
  time_t t = static_cast<time_t>(unixSeconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
  return buf;
}

int64_t parseRotationStamp(std::string_view s) {
  if (s.size() != 15 || s[8] != '-') return -1;
  int v[6];
  const size_t pos[6] = {0, 4, 6, 9, 11, 13}, len[6] = {4, 2, 2, 2, 2, 2};
  for (int i = 0; i < 6; ++i) {
    auto [p, ec] = std::from_chars(s.data() + pos[i], s.data() + pos[i] + len[i], v[i]);
    if (ec != std::errc() || p != s.data() + pos[i] + len[i]) return -1;
  }
  std::tm tm{};
  tm.tm_year = v[0] - 1900;
  tm.tm_mon = v[1] - 1;
  tm.tm_mday = v[2];
  tm.tm_hour = v[3];
  tm.tm_min = v[4];
  tm.tm_sec = v[5];
  return static_cast<int64_t>(timegm(&tm));
}

int64_t parseQuantityBytes(std::string_view text) {
  int64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || n < 0) return -1;
  std::string_view suffix(p, static_cast<size_t>(text.data() + text.size() - p));
  static const std::pair<std::string_view, int64_t> kUnits[] = {
      {"", 1},     {"Ki", 1LL << 10}, {"Mi", 1LL << 20}, {"Gi", 1LL << 30},
      {"k", 1000}, {"K", 1000},       {"M", 1000000},    {"G", 1000000000}};
  for (const auto& [unit, factor] : kUnits)
    if (suffix == unit) return n * factor;
  return -1;
}

CriLogWriter::CriLogWriter(std::string path, LogRotation rotation)
    : path_(std::move(path)), rotation_(rotation) {}

CriLogWriter::~CriLogWriter() {
  if (fd_ >= 0) ::close(fd_);
}

bool CriLogWriter::open() {
  // O_CLOEXEC: the container must not inherit the log file.
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd_ < 0) return false;
  struct stat st {};
  size_ = ::fstat(fd_, &st) == 0 ? st.st_size : 0;
  return true;
}

void CriLogWriter::write(std::string_view line) {
  if (fd_ < 0) return;
  if (rotation_.maxSize > 0 && size_ > 0 &&
      size_ + static_cast<int64_t>(line.size()) > rotation_.maxSize)
    rotate();
  if (writeAll(fd_, line)) size_ += static_cast<int64_t>(line.size());
}

void CriLogWriter::rotate() {
  int64_t stamp = std::max<int64_t>(::time(nullptr), lastStamp_ + 1);
  std::string rotated = path_ + "." + rotationStamp(stamp);
  // A file of that name from before an agent restart: take a later stamp.
  while (fs::exists(rotated) || fs::exists(rotated + ".gz"))
    rotated = path_ + "." + rotationStamp(++stamp);
  lastStamp_ = stamp;
  if (::rename(path_.c_str(), rotated.c_str()) != 0) return;  // keep writing where we are
  int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return;
  ::close(fd_);
  fd_ = fd;
  size_ = 0;
  auto files = rotatedLogFiles(path_);
  // The current file counts against maxFiles: keep the newest maxFiles-1 rotated ones.
  size_t keep = static_cast<size_t>(std::max(1, rotation_.maxFiles - 1));
  while (files.size() > keep) {
    ::unlink(files.front().c_str());
    files.erase(files.begin());
  }
  if (!rotation_.compress) return;
  for (size_t i = 0; i + 1 < files.size(); ++i)
    if (files[i].size() < 3 || files[i].compare(files[i].size() - 3, 3, ".gz") != 0)
      gzipFile(files[i], files[i] + ".gz");
}

std::vector<std::string> rotatedLogFiles(const std::string& path) {
  fs::path p(path);
  std::string base = p.filename().string();
  std::vector<std::pair<int64_t, std::string>> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(p.parent_path(), ec)) {
    std::string name = entry.path().filename().string();
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".tmp") == 0) continue;
    int64_t stamp = stampOf(base, name);
    if (stamp >= 0) found.emplace_back(stamp, entry.path().string());
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (auto& [stamp, name] : found) out.push_back(std::move(name));
  return out;
}

std::vector<std::string> logFileSet(const std::string& path) {
  auto files = rotatedLogFiles(path);
  files.push_back(path);
  return files;
}

std::string readLogFile(const std::string& file) {
  if (file.size() > 3 && file.compare(file.size() - 3, 3, ".gz") == 0) {
    gzFile in = ::gzopen(file.c_str(), "rb");
    if (in == nullptr) return {};
    std::string out;
    char buf[65536];
    int n;
    while ((n = ::gzread(in, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    ::gzclose(in);
    return out;
  }
  std::ifstream in(file, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace berth::kubelet::logs
