#include "controllers/framework/template_hash.h"

#include <cstdint>
#include <string_view>

#include "controllers/framework/object_util.h"

namespace berth::controllers {

namespace json = boost::json;

std::string computeHash(const json::value& tmpl, std::optional<long long> collisionCount) {
  std::uint32_t h = 2166136261u;
  auto feed = [&](std::string_view bytes) {
    for (unsigned char c : bytes) {
      h ^= c;
      h *= 16777619u;
    }
  };
  feed(canonicalJson(tmpl));
  if (collisionCount) {
    // Upstream writes the collision count as 8 little-endian bytes after the object.
    std::uint64_t c = static_cast<std::uint64_t>(*collisionCount);
    char bytes[8];
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((c >> (8 * i)) & 0xff);
    feed(std::string_view(bytes, 8));
  }
  // rand.SafeEncodeString: each character of the decimal string mapped into an alphabet without
  // vowels or look-alikes, so hashes never spell words.
  static constexpr std::string_view kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
  std::string out = std::to_string(h);
  for (char& c : out) c = kAlphabet[static_cast<unsigned char>(c) % kAlphabet.size()];
  return out;
}

}  // namespace berth::controllers
