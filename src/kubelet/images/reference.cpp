#include "kubelet/images/reference.h"

#include <cctype>

namespace berth::kubelet::images {

using core::Status;

namespace {

constexpr size_t kMaxNameLength = 255;  // distribution/reference's NameTotalLengthMax
constexpr size_t kMaxTagLength = 128;

Status invalid(std::string_view ref, std::string_view why) {
  return Status::generic(400, "InvalidImageName",
                         "Failed to apply default image tag \"" + std::string(ref) +
                             "\": couldn't parse image name \"" + std::string(ref) +
                             "\": " + std::string(why));
}

bool isLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool isAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// One path component: [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)*
bool validComponent(std::string_view c) {
  if (c.empty() || !isLowerAlnum(c.front()) || !isLowerAlnum(c.back())) return false;
  for (size_t i = 0; i < c.size();) {
    if (isLowerAlnum(c[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < c.size() && !isLowerAlnum(c[j])) ++j;
    std::string_view sep = c.substr(i, j - i);
    bool dashes = sep.find_first_not_of('-') == std::string_view::npos;
    if (!(sep == "." || sep == "_" || sep == "__" || dashes)) return false;
    i = j;
  }
  return true;
}

// host ("a.b-c.d", or "[v6]") with an optional ":port".
bool validDomain(std::string_view d) {
  if (d.empty()) return false;
  std::string_view host = d;
  std::string_view port;
  if (d.front() == '[') {
    auto close = d.find(']');
    if (close == std::string_view::npos || close < 2) return false;
    for (char c : d.substr(1, close - 1))
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return false;
    std::string_view rest = d.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return false;
    port = rest.empty() ? rest : rest.substr(1);
    if (!rest.empty() && port.empty()) return false;
  } else {
    auto colon = d.find(':');
    if (colon != std::string_view::npos) {
      host = d.substr(0, colon);
      port = d.substr(colon + 1);
      if (port.empty()) return false;
    }
    size_t start = 0;
    while (start <= host.size()) {
      auto dot = host.find('.', start);
      std::string_view label =
          host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
      if (label.empty() || !isAlnum(label.front()) || !isAlnum(label.back())) return false;
      for (char c : label)
        if (!isAlnum(c) && c != '-') return false;
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
  }
  for (char c : port)
    if (c < '0' || c > '9') return false;
  return port.size() <= 5;
}

bool validTag(std::string_view t) {
  if (t.empty() || t.size() > kMaxTagLength) return false;
  if (!(isAlnum(t.front()) || t.front() == '_')) return false;
  for (char c : t)
    if (!(isAlnum(c) || c == '_' || c == '.' || c == '-')) return false;
  return true;
}

}  // namespace

bool isValidDigest(std::string_view d) {
  if (d.size() != 71 || d.substr(0, 7) != "sha256:") return false;
  for (char c : d.substr(7))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::string Reference::string() const {
  std::string s = repository();
  if (!tag.empty()) s += ":" + tag;
  if (!digest.empty()) s += "@" + digest;
  return s;
}

core::Result<Reference> parseReference(std::string_view ref) {
  if (ref.empty()) return invalid(ref, "invalid reference format");
  Reference r;
  std::string_view rest = ref;
  if (auto at = rest.find('@'); at != std::string_view::npos) {
    r.digest = std::string(rest.substr(at + 1));
    rest = rest.substr(0, at);
    if (!isValidDigest(r.digest)) return invalid(ref, "invalid reference format: bad digest");
  }
  // The tag is after the last ':' that follows the last '/' (a ':' before it is a port).
  auto slash = rest.rfind('/');
  auto colon = rest.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    r.tag = std::string(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
    if (!validTag(r.tag)) return invalid(ref, "invalid reference format: bad tag");
  }
  if (rest.size() > kMaxNameLength)
    return invalid(ref, "repository name must not be longer than 255 characters");
  // A first component with '.' or ':' or "localhost" or upper case is a registry (docker's rule).
  auto first = rest.find('/');
  std::string_view domain, path;
  if (first != std::string_view::npos) {
    std::string_view head = rest.substr(0, first);
    bool upper = false;
    for (char c : head) upper = upper || (c >= 'A' && c <= 'Z');
    if (head.find_first_of(".:") != std::string_view::npos || head == "localhost" || upper) {
      domain = head;
      path = rest.substr(first + 1);
    }
  }
  if (domain.empty()) {
    domain = "docker.io";
    path = rest;
  } else if (!validDomain(domain)) {
    return invalid(ref, "invalid reference format: bad registry host");
  }
  r.domain = domain == "index.docker.io" ? "docker.io" : std::string(domain);
  r.path = std::string(path);
  if (r.domain == "docker.io" && r.path.find('/') == std::string::npos)
    r.path = "library/" + r.path;
  for (char c : r.path)
    if (c >= 'A' && c <= 'Z')
      return invalid(ref, "invalid reference format: repository name must be lowercase");
  size_t start = 0;
  for (;;) {
    auto end = r.path.find('/', start);
    std::string_view comp = std::string_view(r.path).substr(
        start, end == std::string::npos ? std::string::npos : end - start);
    if (!validComponent(comp)) return invalid(ref, "invalid reference format");
    if (end == std::string::npos) break;
    start = end + 1;
  }
  if (r.tag.empty() && r.digest.empty()) r.tag = "latest";
  return r;
}

}  // namespace berth::kubelet::images
