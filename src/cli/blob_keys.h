// The blob keys a catalog refers to, shared by `pipy check`, `pipy gc` and `pipy backup`.
#pragma once

#include <map>
#include <string>

#include "catalog/catalog.h"
#include "core/status.h"

namespace pipy::cli {

// Every blob key `catalog` refers to (each file's blob, the blobs its attributes name such as
// a wheel's METADATA, and each release's published manifest), mapped to what refers to it
// ("file NAME", "metadata of NAME", "manifest of PROJECT VERSION"), for error messages. A key
// referred to more than once keeps its first referrer.
Result<std::map<std::string, std::string>> CatalogBlobKeys(catalog::Catalog& catalog);

}  // namespace pipy::cli
