#include "catalog/attributes.h"

#include <boost/json.hpp>

namespace pipy::catalog {

namespace {

void Put(Attributes& out, const char* key, const std::string& value) {
  if (!value.empty()) {
    out[key] = value;
  }
}

std::string Take(const Attributes& attributes, const char* key) {
  auto it = attributes.find(key);
  return it == attributes.end() ? std::string() : it->second;
}

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

Attributes StoredAttributes(const FileRecord& file) {
  Attributes out = file.attributes;
  Put(out, "packagetype", file.packagetype);
  Put(out, "metadata_sha256", file.metadata_sha256);
  Put(out, "requires_python", file.requires_python);
  return out;
}

Attributes StoredAttributes(const ReleaseMetadata& release) {
  Attributes out = release.attributes;
  Put(out, "description_content_type", release.description_content_type);
  Put(out, "requires_python", release.requires_python);
  return out;
}

void FillNamedFields(FileRecord& file) {
  file.packagetype = Take(file.attributes, "packagetype");
  file.metadata_sha256 = Take(file.attributes, "metadata_sha256");
  file.requires_python = Take(file.attributes, "requires_python");
}

void FillNamedFields(ReleaseMetadata& release) {
  release.description_content_type = Take(release.attributes, "description_content_type");
  release.requires_python = Take(release.attributes, "requires_python");
}

}  // namespace pipy::catalog
