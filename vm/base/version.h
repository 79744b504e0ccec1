// The version of flow itself, printed by `flow --version` and recorded with
// every stored program so a database says which flow wrote it.
#pragma once

namespace flow {

auto FlowVersion() -> const char*;

}  // namespace flow
