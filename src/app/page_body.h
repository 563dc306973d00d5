// A cached page's body as a response body: shared from memory, or sent from the page
// cache's spill file with sendfile (the response keeps the file open while it is sent).
#pragma once

#include "http/message.h"
#include "index/page_cache.h"

namespace pipy::app {

inline void SetPageBody(http::Response& response, const index::CachedPage& page) {
  if (page.spilled.file != nullptr) {
    response.body = http::FileBody{page.spilled.file->fd(), page.spilled.offset,
                                   page.spilled.length, page.spilled.file};
  } else {
    response.body = page.body;
  }
}

}  // namespace pipy::app
