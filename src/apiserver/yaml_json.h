#pragma once
// The API server's YAML request bodies go through the client library's converter (shared with
// the node agent, which reads static pod manifests with it).
#include "client/yaml_json.h"

namespace berth::apiserver {

using client::yamlToJson;

}  // namespace berth::apiserver
