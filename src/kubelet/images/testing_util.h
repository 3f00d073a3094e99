#pragma once
// Test helpers for the image store's tests: temp dirs, the test images (scripts/
// build_test_images.py) and a real docker-registry on 127.0.0.1 (scripts/local-registry.sh),
// each cleaned up by its destructor, also when a test fails.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace berth::kubelet::images::testing {

inline std::string sourceDir() { return BERTH_SOURCE_DIR; }

// Runs a shell command; its stdout, or "" and *ok=false when it fails.
inline std::string run(const std::string& command, bool* ok = nullptr) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) {
    if (ok) *ok = false;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int rc = ::pclose(p);
  if (ok) *ok = rc == 0;
  return out;
}

inline std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void writeFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/berth-images-test-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The test images, built once per process into a temp dir.
inline const std::string& testImages() {
  static TempDir dir;
  static bool built = [] {
    return run("/usr/bin/python3 " + sourceDir() + "/scripts/build_test_images.py " + dir.path()),
           true;
  }();
  (void)built;
  return dir.path();
}

// A docker-registry with the test images pushed, stopped (by its PID) on destruction.
// `env` is prepended to the script (e.g. "REGISTRY_AUTH=u:p").
class LocalRegistry {
 public:
  explicit LocalRegistry(const std::string& env = "") {
    bool ok = false;
    std::string out = run(env + " IMAGES=" + testImages() + " bash " + sourceDir() +
                              "/scripts/local-registry.sh " + dir_.path() + " 2>&1",
                          &ok);
    pid_ = ok ? std::atoi(out.c_str()) : 0;
    port_ = std::atoi(readFile(dir_.path() + "/port").c_str());
    if (!ok) error_ = out;
  }
  ~LocalRegistry() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 100 && ::kill(pid_, 0) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (::kill(pid_, 0) == 0) ::kill(pid_, SIGKILL);
  }
  bool ok() const { return pid_ > 0; }
  const std::string& error() const { return error_; }
  int port() const { return port_; }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::string& dir() const { return dir_.path(); }

 private:
  TempDir dir_;
  int pid_ = 0, port_ = 0;
  std::string error_;
};

}  // namespace berth::kubelet::images::testing
