// A source of simple pages for projects that do not exist in this index (the upstream
// proxy, src/upstream/). Declared here so python/ does not depend on who implements it.
#pragma once

#include <string_view>

#include "core/status.h"
#include "index/page_cache.h"
#include "python/accept.h"

namespace pipy::python {

class UnknownProjects {
 public:
  virtual ~UnknownProjects() = default;
  // The page of `normalized` — a valid, normalized name with no internal project — in
  // `format`, with `expires_ms` set to when it must be asked for again. kNotFound when
  // the source does not know the project either; other errors (kBadGateway,
  // kDeadlineExceeded, ...) when it cannot tell now. Thread-safe.
  virtual Result<index::CachedPage> ProjectPage(std::string_view normalized,
                                                SimpleFormat format) = 0;
};

}  // namespace pipy::python
