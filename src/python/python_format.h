// The Python format as the neutral index sees it (index/format.h): PEP 503 names, PEP 440
// versions ("1.0" and "1.0.0" are one release), newest first by PEP 440.
#pragma once

#include "index/format.h"

namespace pipy::python {

const index::Format& PythonFormat();

}  // namespace pipy::python
