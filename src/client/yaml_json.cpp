#include "client/yaml_json.h"

#include <boost/json.hpp>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>

namespace berth::client {

namespace json = boost::json;

namespace {

constexpr int kMaxDepth = 100;

json::value scalar(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  // Quoted (non-plain) scalars carry the "!" tag: always strings.
  if (n.Tag() == "!") return json::string(s);
  if (n.Tag() == "tag:yaml.org,2002:str") return json::string(s);
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  {
    int64_t v = 0;
    const char* b = s.data();
    const char* e = s.data() + s.size();
    if (*b == '+') ++b;
    auto [p, ec] = std::from_chars(b, e, v);
    if (ec == std::errc() && p == e && b != e) return v;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
      auto [p2, ec2] = std::from_chars(s.data() + 2, e, v, s[1] == 'x' ? 16 : 8);
      if (ec2 == std::errc() && p2 == e) return v;
    }
  }
  {
    bool looksNumeric =
        !s.empty() && (std::isdigit(static_cast<unsigned char>(s[0])) ||
                       ((s[0] == '-' || s[0] == '+' || s[0] == '.') && s.size() > 1));
    if (looksNumeric) {
      double d = 0;
      auto [p, ec] = std::from_chars(s.data() + (s[0] == '+' ? 1 : 0), s.data() + s.size(), d);
      if (ec == std::errc() && p == s.data() + s.size() && std::isfinite(d)) return d;
    }
  }
  return json::string(s);
}

core::Result<json::value> convert(const YAML::Node& n, int depth) {
  if (depth > kMaxDepth) return core::Status::badRequest("yaml: document nested too deeply");
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return json::value(nullptr);
    case YAML::NodeType::Scalar:
      return scalar(n);
    case YAML::NodeType::Sequence: {
      json::array a;
      for (const auto& item : n) {
        auto v = convert(item, depth + 1);
        if (!v.ok()) return v;
        a.push_back(std::move(*v));
      }
      return json::value(std::move(a));
    }
    case YAML::NodeType::Map: {
      json::object o;
      for (const auto& kv : n) {
        if (!kv.first.IsScalar()) return core::Status::badRequest("yaml: map keys must be scalars");
        auto v = convert(kv.second, depth + 1);
        if (!v.ok()) return v;
        o[kv.first.Scalar()] = std::move(*v);
      }
      return json::value(std::move(o));
    }
  }
  return json::value(nullptr);
}

}  // namespace

core::Result<json::value> yamlToJson(std::string_view yaml) {
  // JSON is YAML, and what kubectl and client libraries send for apply: parse it directly.
  {
    boost::system::error_code ec;
    json::parse_options po;
    po.max_depth = kMaxDepth;
    json::value v = json::parse(yaml, ec, {}, po);
    if (!ec) return v;
  }
  try {
    // YAML::Load reads the first document. (yaml-cpp 0.7's LoadAll loops forever on some
    // malformed input such as ",@", so it is not used on request bodies.)
    return convert(YAML::Load(std::string(yaml)), 0);
  } catch (const YAML::Exception& e) {
    return core::Status::badRequest(std::string("error converting YAML to JSON: ") + e.what());
  } catch (const std::exception& e) {
    return core::Status::badRequest(std::string("error converting YAML to JSON: ") + e.what());
  }
}

}  // namespace berth::client
