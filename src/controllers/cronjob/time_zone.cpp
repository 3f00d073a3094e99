#include "controllers/cronjob/time_zone.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace berth::controllers::cronjob {

namespace {

core::Status unknown(std::string_view name) {
  return core::Status::badRequest("unknown time zone " + std::string(name));
}

// A zone name is a relative path of letters, digits and "_+-" components (Go's LoadLocation
// refuses names that could escape the zoneinfo root).
bool validName(std::string_view name) {
  if (name.empty() || name.front() == '/' || name.find("..") != std::string_view::npos) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' ||
           c == '+';
  });
}

class Reader {
 public:
  explicit Reader(std::string_view d) : d_(d) {}
  bool has(size_t n) const { return pos_ + n <= d_.size(); }
  std::int64_t be(int bytes) {
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(d_[pos_++]);
    if (bytes == 4) return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
    return static_cast<std::int64_t>(v);
  }
  unsigned byte() { return static_cast<unsigned char>(d_[pos_++]); }
  void skip(size_t n) { pos_ += n; }
  size_t pos() const { return pos_; }

 private:
  std::string_view d_;
  size_t pos_ = 0;
};

struct Header {
  std::int64_t isut, isstd, leap, time, type, chars;
};

bool readHeader(Reader& r, Header& h, int& version) {
  if (!r.has(44)) return false;
  std::string magic;
  for (int i = 0; i < 4; ++i) magic += static_cast<char>(r.byte());
  if (magic != "TZif") return false;
  unsigned v = r.byte();
  version = v == 0 ? 1 : static_cast<int>(v - '0');
  r.skip(15);
  h.isut = r.be(4);
  h.isstd = r.be(4);
  h.leap = r.be(4);
  h.time = r.be(4);
  h.type = r.be(4);
  h.chars = r.be(4);
  for (std::int64_t n : {h.isut, h.isstd, h.leap, h.time, h.type, h.chars}) {
    if (n < 0 || n > 100000) return false;
  }
  return h.type > 0;
}

}  // namespace

TimeZone TimeZone::utc() {
  TimeZone z;
  z.name_ = "UTC";
  return z;
}

core::Result<TimeZone> TimeZone::load(std::string_view name, const std::string& root) {
  if (name.empty() || name == "UTC") return utc();
  std::string path;
  if (name == "Local") {
    path = "/etc/localtime";
  } else if (validName(name)) {
    path = root + "/" + std::string(name);
  } else {
    return unknown(name);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return unknown(name);
  std::stringstream buf;
  buf << in.rdbuf();
  auto z = parse(name, buf.str());
  if (!z.ok()) return unknown(name);
  return z;
}

core::Result<TimeZone> TimeZone::parse(std::string_view name, std::string_view data) {
  Reader r(data);
  Header h{};
  int version = 0;
  if (!readHeader(r, h, version)) return unknown(name);
  int timeBytes = 4;
  if (version >= 2) {
    // Skip the 32-bit block; the 64-bit one after the second header is authoritative.
    size_t v1 =
        static_cast<size_t>(h.time * 5 + h.type * 6 + h.chars + h.leap * 8 + h.isstd + h.isut);
    if (!r.has(v1)) return unknown(name);
    r.skip(v1);
    if (!readHeader(r, h, version)) return unknown(name);
    timeBytes = 8;
  }
  size_t need = static_cast<size_t>(h.time * (timeBytes + 1) + h.type * 6);
  if (!r.has(need)) return unknown(name);
  TimeZone z;
  z.name_ = std::string(name);
  std::vector<std::int64_t> times(static_cast<size_t>(h.time));
  for (auto& t : times) t = r.be(timeBytes);
  std::vector<unsigned> idx(static_cast<size_t>(h.time));
  for (auto& i : idx) i = r.byte();
  std::vector<int> offsets(static_cast<size_t>(h.type));
  std::vector<bool> dst(static_cast<size_t>(h.type));
  for (size_t i = 0; i < offsets.size(); ++i) {
    offsets[i] = static_cast<int>(r.be(4));
    dst[i] = r.byte() != 0;
    r.byte();  // abbreviation index
  }
  for (size_t i = 0; i < times.size(); ++i) {
    if (idx[i] >= offsets.size()) return unknown(name);
    if (i > 0 && times[i] < times[i - 1]) return unknown(name);
    z.transitions_.push_back(times[i]);
    z.offsetAfter_.push_back(offsets[idx[i]]);
  }
  // Before the first transition: the first standard-time type (RFC 8536's rule of thumb).
  z.initialOffset_ = offsets[0];
  for (size_t i = 0; i < offsets.size(); ++i) {
    if (!dst[i]) {
      z.initialOffset_ = offsets[i];
      break;
    }
  }
  return z;
}

int TimeZone::offsetAt(std::int64_t t) const {
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), t);
  if (it == transitions_.begin()) return initialOffset_;
  return offsetAfter_[static_cast<size_t>(it - transitions_.begin() - 1)];
}

}  // namespace berth::controllers::cronjob
