// libFuzzer entry point for the protobuf decoder (not built by default; the name ends in
// _fuzz.cpp so CMake skips it). Build by hand, e.g.:
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -DBOOST_JSON_NO_LIB \
//     -Isrc src/apiserver/protobuf/{codec_fuzz,codec,encode,resolved,schema,schema_data}.cpp \
//     src/apiserver/protobuf/special_types.cpp src/core/status.cpp -lboost_json \
//     -o /tmp/codec_fuzz && /tmp/codec_fuzz -max_total_time=60 <corpus dir>
// The property: any input decodes or fails with a BadRequest, and whatever decodes re-encodes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "apiserver/protobuf/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace berth::apiserver::protobuf;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto decoded = decodeEnvelope(body);
  if (!decoded.ok()) {
    if (decoded.status().code() != 400) std::abort();
    return 0;
  }
  auto encoded = encodeEnvelope(*decoded);
  if (!encoded.ok()) std::abort();
  return 0;
}
