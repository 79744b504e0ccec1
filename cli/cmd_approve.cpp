// `flow approve RUN_ID [--as WHO] [--comment TEXT] [--json] [--db PATH]`
// `flow reject  RUN_ID [--as WHO] [--comment TEXT] [--json] [--db PATH]`
//
// Records a person's decision on a run suspended on `approve` (SPEC §2.5,
// §5): one `approval_decided` event {approved, by, comment, at}, appended
// only if the run waits for an approval that nobody decided yet and whose
// timeout is not due, checked and written in one transaction
// (Store::AppendEventIf), so of two approvers at the same moment exactly one
// is recorded. Then the run is driven in-process (record_and_drive.h): an
// approval continues it, a rejection raises error kind `rejected`.
// Reject is approve with the answer no: both live here and share all of it.
//
// Roles (roles.h): when FLOW_ROLES names a roles file, a decider who does
// not hold the role of the approval's `from "role"` is refused; the append
// is then conditional on the run still waiting for that same approval
// (AppendCondition::waiting), so the role judged is the role decided.
//
// Exit codes: 0 once the decision is recorded, whatever the run then does
// (its report, as `flow run --json` prints it, says); 2 for an unknown run,
// one not waiting for approval, a decider without the role or a bad roles
// file, with the reason in one line and nothing written; 4 a store error.
#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/record_and_drive.h"
#include "cli/roles.h"
#include "vm/engine/branch_waits.h"
#include "vm/engine/events.h"
#include "vm/engine/run_driver.h"
#include "vm/value/convert.h"
#include "vm/value/time_format.h"

namespace flow::cli {
namespace {

struct DecisionOptions {
  bool approved = true;
  std::string id;
  std::string as;
  bool as_given = false;
  std::string comment;
  std::string db;
  bool json = false;
};

// Who decides when --as is absent: the operating-system user ($USER, else
// the login name, else the name of the effective uid), else "unknown".
auto OperatingSystemUser() -> std::string {
  if (const char* user = std::getenv("USER"); user != nullptr && *user != '\0') return user;
  if (const char* login = ::getlogin(); login != nullptr && *login != '\0') return login;
  if (const passwd* pw = ::getpwuid(::geteuid()); pw != nullptr && pw->pw_name != nullptr && *pw->pw_name != '\0') {
    return pw->pw_name;
  }
  return "unknown";
}

// What the run does instead of waiting for a decision, for the refusal.
auto Situation(const store::AppendOutcome& out) -> std::string {
  const store::RunRecord& run = *out.run;
  if (out.refusal == store::AppendRefusal::Answered) {
    if (out.answer->type == engine::events::kWaitTimedOut) return "its approval timed out";
    if (out.answer->type == engine::events::kBranchStopped) return "its branch was stopped";
    auto d = nlohmann::json::parse(out.answer->data, nullptr, false);
    bool approved = d.is_object() && d.value("approved", false);
    std::string by = d.is_object() ? d.value("by", "") : "";
    return std::string("it was already ") + (approved ? "approved" : "rejected") + (by.empty() ? "" : " by " + by);
  }
  if (out.refusal == store::AppendRefusal::Changed) return "it moved on while the decider's role was checked; try again";
  if (out.refusal == store::AppendRefusal::Due) {
    return "its approval timed out at " + value::FormatTime(run.wake_at_ms) + "; 'flow resume " + run.id +
           "' delivers the timeout";
  }
  if (run.status != store::RunStatus::Waiting) return std::string("it is ") + store::StatusName(run.status);
  if (run.waiting_reason == "signal") {
    auto w = nlohmann::json::parse(run.waiting, nullptr, false);
    return "it is waiting for signal '" + (w.is_object() ? w.value("event", "") : "") + "'";
  }
  if (run.waiting_reason == "timer") return "it is sleeping";
  if (run.waiting_reason == "retry") return "it is waiting to retry a step";
  if (run.waiting_reason == "child") {
    // The approval, if any, is the child's (docs/composition.md): name it.
    auto w = nlohmann::json::parse(run.waiting, nullptr, false);
    std::string child = w.is_object() ? w.value("run", "") : "";
    bool approval = w.is_object() && w.contains("child") && w["child"].is_object() &&
                    w["child"].value("kind", "") == "approval";
    if (approval) return "it waits on its child run " + child + ", which waits for approval: 'flow approve " + child + "'";
    return "it waits on its child run " + child;
  }
  return "it is waiting for " + run.waiting_reason;
}

// A run waiting for one approval changes its wait only when that approval
// is decided or times out; a decision that finds the wait changed between
// its role check and its append looks again, at most this often.
constexpr int kMaxRoleRechecks = 8;

// Under a roles file: reads run `id`, and when it waits for an approval
// asking a role that `by` does not hold, prints why and returns exit 2;
// otherwise sets `condition.waiting` to the wait judged and returns nullopt
// (a run in any other state is left to the append's refusal).
auto CheckRole(store::Store& store, const std::string& id, const std::string& by, const Roles& roles,
               store::AppendCondition& condition) -> std::optional<int> {
  int exit_code = kExitOk;
  auto run = ReadKnownRun(store, id, exit_code);
  if (!run) return exit_code;
  condition.waiting = run->waiting;
  if (run->status != store::RunStatus::Waiting || run->waiting_reason != "approval") return std::nullopt;
  auto w = nlohmann::json::parse(run->waiting, nullptr, false);
  const std::string role = w.is_object() && w.contains("from") && w["from"].is_string() ? w["from"].get<std::string>()
                                                                                       : "";
  if (role.empty() || roles.Holds(by, role)) return std::nullopt;
  std::fprintf(stderr, "flow: run '%s' asks role '%s' to decide, and %s does not hold it (roles file '%s' gives %s: %s)\n",
               id.c_str(), role.c_str(), by.c_str(), roles.path.c_str(), by.c_str(), roles.Describe(by).c_str());
  return kExitUsage;
}

// Appends `decided` (by `by`, at its at_ms) if run `id` waits for an
// approval nobody decided and whose timeout is not due; under `roles`, only
// for an approval `by` may decide, looking again when the wait changed
// between the check and the append. A role refusal sets `refused` to its
// exit code (after printing why) and returns an empty outcome.
auto AppendDecision(store::Store& store, const std::string& id, const store::JournalEvent& decided,
                    const std::string& by, const Roles* roles, std::optional<int>& refused)
    -> Result<store::AppendOutcome> {
  store::AppendCondition waiting_for_approval;
  waiting_for_approval.statuses = {store::RunStatus::Waiting};
  waiting_for_approval.waiting_reason = "approval";
  waiting_for_approval.opened_by = std::string(engine::events::kApprovalRequested);
  waiting_for_approval.answered_by = std::string(engine::events::kApprovalDecided);
  waiting_for_approval.not_due_at_ms = decided.at_ms;
  for (int look = 1;; ++look) {
    if (roles != nullptr) {
      refused = CheckRole(store, id, by, *roles, waiting_for_approval);
      if (refused) return store::AppendOutcome{};
    }
    store::AppendRowChange due;  // a killed approver leaves the decision to `flow worker`
    due.make_due = true;
    due.now_ms = decided.at_ms;
    auto out = store.AppendEventIf(id, decided, waiting_for_approval, due);
    if (!out || out->refusal != store::AppendRefusal::Changed || look >= kMaxRoleRechecks) return out;
  }
}

// Approvals inside parallel branches (docs/composition.md, "Waits inside
// branches as built"): several may be open in one run, answered oldest
// first. Appends `decided` for the oldest open request of run `id` whose
// timeout is not due, naming it ("request", "branch"), if nothing answered
// it meanwhile; a second decider racing for the same request looks again
// and takes the next one. nullopt when the run has no open request of a
// branch (the root's approval is decided as before); else the exit code.
auto DecideBranchApproval(store::Store& store, const DecisionOptions& o, store::JournalEvent decided,
                          const std::string& by, const Roles* roles) -> std::optional<int> {
  for (int look = 1;; ++look) {
    auto journal = store.Journal(o.id);
    if (!journal) {
      std::fprintf(stderr, "flow: %s\n", journal.error().message.c_str());
      return kExitInternal;
    }
    auto open = engine::OpenBranchApprovals(*journal);
    if (open.empty()) {
      if (look == 1) return std::nullopt;
      std::fprintf(stderr, "flow: run '%s' is not waiting for approval (its approvals were decided meanwhile)\n",
                   o.id.c_str());
      return kExitUsage;
    }
    const engine::OpenBranchApproval* pick = nullptr;
    for (const auto& a : open) {
      if (a.deadline_ms < 0 || a.deadline_ms > decided.at_ms) {
        pick = &a;
        break;
      }
    }
    if (pick == nullptr) {
      std::fprintf(stderr, "flow: run '%s' is not waiting for approval (its approval in branch %s timed out at %s; "
                   "'flow resume %s' delivers the timeout)\n", o.id.c_str(), open.front().branch.c_str(),
                   value::FormatTime(open.front().deadline_ms).c_str(), o.id.c_str());
      return kExitUsage;
    }
    if (roles != nullptr && pick->from && !roles->Holds(by, *pick->from)) {
      std::fprintf(stderr, "flow: run '%s' asks role '%s' to decide, and %s does not hold it (roles file '%s' gives %s: %s)\n",
                   o.id.c_str(), pick->from->c_str(), by.c_str(), roles->path.c_str(), by.c_str(),
                   roles->Describe(by).c_str());
      return kExitUsage;
    }
    auto d = nlohmann::json::parse(decided.data);
    d["request"] = pick->seq;
    d["branch"] = pick->branch;
    store::JournalEvent event = decided;
    event.data = value::DumpJson(d);
    store::AppendCondition open_request;
    open_request.statuses = {store::RunStatus::Running, store::RunStatus::Waiting};
    open_request.unanswered_request = pick->seq;
    store::AppendRowChange due;  // a killed approver leaves the decision to `flow worker`
    due.make_due = true;
    due.now_ms = decided.at_ms;
    auto out = store.AppendEventIf(o.id, event, open_request, due);
    if (auto exit = AppendFailureExit(out, o.id)) return *exit;
    if (out->refusal == store::AppendRefusal::Answered && look < kMaxRoleRechecks) continue;
    if (out->refusal != store::AppendRefusal::None) {
      std::fprintf(stderr, "flow: run '%s' is not waiting for approval (%s)\n", o.id.c_str(), Situation(*out).c_str());
      return kExitUsage;
    }
    if (!o.json) {
      std::fprintf(stdout, "run %s %s by %s (branch %s: %s)\n", o.id.c_str(), o.approved ? "approved" : "rejected",
                   by.c_str(), pick->branch.c_str(), pick->prompt.c_str());
    }
    return DriveRecordedRun(store, o.id, "decision", o.json);
  }
}

auto RunDecision(const DecisionOptions& o) -> int {
  if (o.as_given && o.as.empty()) {
    std::fprintf(stderr, "flow: --as needs a name; see 'flow --help'\n");
    return kExitUsage;
  }
  std::optional<Roles> roles;
  if (auto configured = ConfiguredRoles()) {
    if (!*configured) {
      std::fprintf(stderr, "flow: %s\n", configured->error().message.c_str());
      return kExitUsage;
    }
    roles = std::move(**configured);
  }
  int exit_code = kExitOk;
  auto store = OpenStoreForRun(o.db, o.id, exit_code);
  if (!store) return exit_code;
  const int64_t now = engine::NowMs();
  const std::string by = o.as_given ? o.as : OperatingSystemUser();
  store::JournalEvent decided;
  decided.type = std::string(engine::events::kApprovalDecided);
  decided.data = value::DumpJson(nlohmann::json{
      {"approved", o.approved}, {"by", by}, {"comment", o.comment}, {"at", value::FormatTime(now)}});
  decided.at_ms = now;
  if (auto exit = DecideBranchApproval(*store, o, decided, by, roles ? &*roles : nullptr)) return *exit;
  std::optional<int> refused;
  auto out = AppendDecision(*store, o.id, decided, by, roles ? &*roles : nullptr, refused);
  if (refused) return *refused;
  if (auto exit = AppendFailureExit(out, o.id)) return *exit;
  if (out->refusal != store::AppendRefusal::None) {
    std::fprintf(stderr, "flow: run '%s' is not waiting for approval (%s)\n", o.id.c_str(), Situation(*out).c_str());
    return kExitUsage;
  }
  if (!o.json) std::fprintf(stdout, "run %s %s by %s\n", o.id.c_str(), o.approved ? "approved" : "rejected", by.c_str());
  return DriveRecordedRun(*store, o.id, "decision", o.json);
}

auto RegisterDecision(CLI::App& app, bool approved) -> Command {
  auto o = std::make_shared<DecisionOptions>();
  o->approved = approved;
  CLI::App* sub = app.add_subcommand(approved ? "approve" : "reject",
                                     approved ? "Approve a run waiting on 'approve' and drive it on"
                                              : "Reject a run waiting on 'approve': it fails with kind rejected");
  sub->add_option("RUN_ID", o->id, "The run waiting for approval")->required()->check(RunIdCheck());
  sub->add_option("--as", o->as,
                  "Who decides, as recorded in the journal; with FLOW_ROLES set, must hold the approval's role "
                  "(default: the operating-system user)")
      ->each([o](const std::string&) { o->as_given = true; });
  sub->add_option("--comment", o->comment, "Recorded with the decision; the workflow sees it");
  sub->add_option("--db", o->db, "The database (default: $FLOW_DB, else ./flow.db)");
  sub->add_flag("--json", o->json, "Print the run's report as one JSON object on stdout");
  return Command{sub, [o] { return RunDecision(*o); }};
}

}  // namespace

auto RegisterApprove(CLI::App& app) -> Command { return RegisterDecision(app, true); }
auto RegisterReject(CLI::App& app) -> Command { return RegisterDecision(app, false); }

}  // namespace flow::cli
