// What a package format supplies to the neutral index (DESIGN.md "Formats"): its name, its
// name rule and its version scheme. Archive rules stay with the format's own publish code
// (python/publish.h), which hands Index::Publish a validated request. Implementations are stateless and
// thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace pipy::index {

// A version as a format reads it: the spelling to store and the key that identifies its
// release (equal versions, such as PEP 440's "1.0" and "1.0.0", share one key).
struct FormatVersion {
  std::string spelling;
  std::string key;
};

class Format {
 public:
  virtual ~Format() = default;

  // The catalog's format name, e.g. "python".
  virtual std::string_view name() const = 0;
  // The normalized project name; kInvalidArgument for a name the format does not allow.
  virtual Result<std::string> NormalizeName(std::string_view name) const = 0;
  // kInvalidArgument for a version the scheme does not allow.
  virtual Result<FormatVersion> ParseVersion(std::string_view version) const = 0;
  // True when stored version `a` sorts after `b` (newest first on pages).
  virtual bool Newer(std::string_view a, std::string_view b) const = 0;
};

}  // namespace pipy::index
