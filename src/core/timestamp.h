// UTC timestamps as the package protocols write them (RFC 3339 / ISO 8601 with a "Z"):
// PEP 700's upload-time has microseconds, npm's `time` fields milliseconds.
#pragma once

#include <cstdint>
#include <string>

namespace pipy {

// "2026-12-03T11:30:54.123Z" for fraction_digits 3, "...54.123000Z" for 6 (anything else
// counts as 3). Epoch milliseconds; negative values are before 1970.
std::string FormatUtcTimestamp(std::int64_t epoch_ms, int fraction_digits);

}  // namespace pipy
