// The fuzz targets' invariant check: a broken invariant names itself on stderr and aborts,
// so libFuzzer (and the smoke driver) stop there and the input is the reproducer.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace pipy::fuzz {

inline void Check(bool holds, const char* invariant) {
  if (!holds) {
    std::fprintf(stderr, "fuzz: invariant broken: %s\n", invariant);
    std::abort();
  }
}

}  // namespace pipy::fuzz
