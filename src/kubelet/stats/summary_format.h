#pragma once
// The kubelet's two views of a stats Summary (stats_provider.h):
//   GET /stats/summary     JSON in upstream's shape (k8s.io/kubelet/pkg/apis/stats/v1alpha1:
//                          node{nodeName,startTime,cpu,memory,fs,rlimit}, pods[{podRef,startTime,
//                          cpu,memory,network,volume[],ephemeral-storage,
//                          containers[{name,startTime,cpu,memory,rootfs,logs}]}])
//   GET /metrics/resource  Prometheus text of the resource metrics (node_/pod_/container_
//                          cpu_usage_seconds_total and memory_working_set_bytes,
//                          container_start_time_seconds, resource_scrape_error), each sample
//                          with its reading's timestamp in milliseconds, as upstream writes them.
//
// Thread-safety: pure functions.
#include <string>

#include "kubelet/stats/stats_provider.h"

namespace berth::kubelet::stats {

std::string summaryJson(const Summary& summary);
std::string resourceMetricsText(const Summary& summary);

}  // namespace berth::kubelet::stats
