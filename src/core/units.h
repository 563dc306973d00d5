// Parsing of human-written durations and byte sizes in the config file and on the command line.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "core/status.h"

namespace pipy {

// Parses a duration: one or more <digits><unit> terms with units "ms", "s", "m", "h", "d" (24h),
// largest first and each unit at most once ("500ms", "30s", "10m", "1h", "90d", "1h30m",
// "2m30s500ms").
// Surrounding whitespace is ignored. A bare number, a negative or fractional value, an unknown
// unit, or a value that overflows gives kInvalidArgument.
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);

// Parses a byte count: <digits>[ ][unit], where unit is B, or an SI unit kB/MB/GB/TB (powers of
// 1000), or a binary unit KiB/MiB/GiB/TiB (powers of 1024); units are case-insensitive and "K",
// "M", "G", "T" alone mean the SI ones. "1000" is 1000 bytes. Surrounding whitespace is ignored.
// A negative or fractional value, an unknown unit, or overflow gives kInvalidArgument.
Result<std::uint64_t> ParseByteSize(std::string_view text);

}  // namespace pipy
