// "Did you mean" suggestions for diagnostics: the one helper both halves
// share lives in vm/base/suggest.h (the checks of a run's input suggest too).
#pragma once

#include "vm/base/suggest.h"
