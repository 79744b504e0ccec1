// FLOW_CHECK: the third error channel of STYLE.md §3. A failed check is a bug
// in flow itself, never a problem with the user's program or environment, so
// it aborts with the file and line instead of being dressed up as a message.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FLOW_CHECK(cond, why)                                                \
  do {                                                                       \
    if (!(cond)) {                                                           \
      std::fprintf(stderr, "flow: internal error at %s:%d: %s (%s)\n",      \
                   __FILE__, __LINE__, why, #cond);                          \
      std::abort();                                                          \
    }                                                                        \
  } while (0)
