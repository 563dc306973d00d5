// The stored form of per-format attributes (catalog.h): a JSON object of strings, the same
// text on every backend, so `pipy migrate` and the schema migrations can build it in SQL.
#pragma once

#include <string>
#include <string_view>

#include "catalog/catalog.h"

namespace pipy::catalog {

// `attributes` as a JSON object; keys with empty values are left out.
std::string EncodeAttributes(const Attributes& attributes);
// The attributes in `json`; "" or anything that is not an object of strings reads as
// empty (a value that is not a string is skipped), so a damaged row never fails a read.
Attributes DecodeAttributes(std::string_view json);

}  // namespace pipy::catalog
