// Boost.JSON (1.81) reads a number beyond a double's range as infinity (1e400) and one like
// 0e400 as NaN, and writes them back as text no JSON parser reads. A document npm sends or
// an upstream serves is stored and served again, so one such number in a manifest would
// make the whole packument unreadable for every client: such documents are refused.
#pragma once

#include <cmath>

#include <boost/json/value.hpp>

namespace pipy::npm {

// True when every number in `value` is finite (no infinity, no NaN).
inline bool AllNumbersFinite(const boost::json::value& value) {
  switch (value.kind()) {
    case boost::json::kind::double_:
      return std::isfinite(value.get_double());
    case boost::json::kind::array:
      for (const boost::json::value& item : value.get_array()) {
        if (!AllNumbersFinite(item)) {
          return false;
        }
      }
      return true;
    case boost::json::kind::object:
      for (const auto& member : value.get_object()) {
        if (!AllNumbersFinite(member.value())) {
          return false;
        }
      }
      return true;
    default:
      return true;
  }
}

}  // namespace pipy::npm
