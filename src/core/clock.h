#pragma once
// The current time as Kubernetes writes metav1.Time: RFC 3339 in UTC, whole seconds
// ("2024-03-01T12:00:00Z").
//
// Thread-safety: stateless.
#include <string>

namespace berth::core {

std::string nowRfc3339();

}  // namespace berth::core
