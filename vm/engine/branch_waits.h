// What `flow approve`, `flow reject` and `flow inbox` read about the
// approvals inside parallel branches (docs/composition.md, "Waits inside
// branches as built"): each `approval_requested` of a branch is open until
// an event names its seq as `"request"` (the decision, the engine's timeout,
// the branch's stop). Several may be open in one run; they are answered
// oldest first.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vm/base/result.h"
#include "vm/store/store.h"

namespace flow::engine {

struct OpenBranchApproval {
  int64_t seq = 0;             // its approval_requested
  std::string branch;          // "2.1"
  std::string prompt;
  std::optional<std::string> from;
  int64_t since_ms = 0;        // when it was requested
  int64_t deadline_ms = -1;    // its timeout as a time, -1 without
};

// The approval requests of branch fibers in `journal` that nothing has
// answered yet, oldest first (a timed-out one is listed until the engine
// writes its timeout: callers compare deadline_ms with their clock).
auto OpenBranchApprovals(const std::vector<store::JournalEvent>& journal) -> std::vector<OpenBranchApproval>;

// The same for run `run_id`, reading only the events that open or close
// an approval (Store::ScanJournal by type: `flow inbox` looks at every
// running run).
auto OpenBranchApprovals(store::Store& store, const std::string& run_id) -> Result<std::vector<OpenBranchApproval>>;

}  // namespace flow::engine
