#include "catalog/attributes.h"

#include <boost/json.hpp>

namespace pipy::catalog {

namespace {

}  // namespace

std::string EncodeAttributes(const Attributes& attributes) {
  boost::json::object object;
  for (const auto& [key, value] : attributes) {
    if (!value.empty()) {
      object[key] = value;
    }
  }
  return boost::json::serialize(object);
}

Attributes DecodeAttributes(std::string_view json) {
  Attributes out;
  if (json.empty()) {
    return out;
  }
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(json, ec);
  if (ec || !value.is_object()) {
    return out;
  }
  for (const auto& [key, item] : value.get_object()) {
    if (item.is_string() && !item.get_string().empty()) {
      out.emplace(std::string(key), std::string(item.get_string()));
    }
  }
  return out;
}

}  // namespace pipy::catalog
