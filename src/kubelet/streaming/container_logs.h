#pragma once
// GET /containerLogs/...: a container's CRI log file as the client reads it (cri_log.h), as a
// chunked text/plain stream; with follow, new entries are sent as they are written until the
// container stops or is restarted (a new log file) or the client goes away.
//
// Thread-safety: runs on the request's thread; the locator is called concurrently.
#include <string>

#include "apiserver/http/server.h"
#include "kubelet/streaming/container_locator.h"

namespace berth::kubelet::streaming {

void serveContainerLogs(apiserver::http::Request& req, apiserver::http::ResponseWriter& w,
                        ContainerLocator& locator, const std::string& ns, const std::string& pod,
                        const std::string& container);

// A Status error as the JSON body of a response.
void sendStatus(apiserver::http::ResponseWriter& w, const core::Status& status);

}  // namespace berth::kubelet::streaming
