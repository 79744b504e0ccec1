#include "vm/base/version.h"

namespace flow {

auto FlowVersion() -> const char* { return "0.1.0"; }

}  // namespace flow
