#pragma once
// Memory a blocked handler thread need not keep. A handler that is about to wait for a long time
// with nothing to do (an idle watch) calls releaseIdleThreadMemory(): the stack pages below its
// frame, touched earlier by deeper calls (request parsing, JSON, TLS), and the thread's TLS write
// gather buffer go back to the kernel. The thread keeps working as before; the pages come back,
// zeroed, when it next goes that deep. With one thread per watch this is most of what an idle
// watch costs (about 56 of its 86 KB were stack pages, 16 KB the gather buffer).
//
// Thread-safety: affects only the calling thread's own memory.
namespace berth::apiserver::http {

void releaseIdleThreadMemory();

}  // namespace berth::apiserver::http
