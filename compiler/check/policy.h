// The policy checks of SPEC §2.6 over one checked workflow: E060 (a step
// whose operation requires approval must be approved on every path; see
// cfg.h), W060 (an irreversible step without `compensate`) and W061 (`retry`
// on a step that is neither idempotent nor sent with an idempotency key).
#pragma once

#include <cstdint>

#include "compiler/check/checked_program.h"
#include "compiler/diag/diagnostics.h"

namespace flow::check {

// Reports the policy diagnostics of workflow ast.functions[function].
void CheckPolicy(const CheckedProgram& program, int32_t function, Diagnostics& diags);

}  // namespace flow::check
