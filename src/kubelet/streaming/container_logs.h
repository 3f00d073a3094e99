#pragma once
// GET /containerLogs/...: a container's CRI log file as the client reads it (cri_log.h), as a
// chunked text/plain stream; with follow, new entries are sent as they are written until the
// container stops or is restarted (a new log file) or the client goes away. The rotated files
// of the log (logs/log_files.h) are read first, so --tail and --since reach across them, and
// follow continues in the new file after a rotation.
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
