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
// Exit codes: 0 once the decision is recorded, whatever the run then does
// (its report, as `flow run --json` prints it, says); 2 for an unknown run or
// one not waiting for approval, with the reason in one line and nothing
// written; 4 a store error.
#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/record_and_drive.h"
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
    auto d = nlohmann::json::parse(out.answer->data, nullptr, false);
    bool approved = d.is_object() && d.value("approved", false);
    std::string by = d.is_object() ? d.value("by", "") : "";
    return std::string("it was already ") + (approved ? "approved" : "rejected") + (by.empty() ? "" : " by " + by);
  }
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
  return "it is waiting for " + run.waiting_reason;
}

auto RunDecision(const DecisionOptions& o) -> int {
  if (o.as_given && o.as.empty()) {
    std::fprintf(stderr, "flow: --as needs a name; see 'flow --help'\n");
    return kExitUsage;
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
  store::AppendCondition waiting_for_approval;
  waiting_for_approval.statuses = {store::RunStatus::Waiting};
  waiting_for_approval.waiting_reason = "approval";
  waiting_for_approval.opened_by = std::string(engine::events::kApprovalRequested);
  waiting_for_approval.answered_by = std::string(engine::events::kApprovalDecided);
  waiting_for_approval.not_due_at_ms = now;
  store::AppendRowChange due;  // a killed approver leaves the decision to `flow worker`
  due.make_due = true;
  due.now_ms = now;
  auto out = store->AppendEventIf(o.id, decided, waiting_for_approval, due);
  if (auto exit = AppendFailureExit(out, o.id)) return *exit;
  if (out->refusal != store::AppendRefusal::None) {
    std::fprintf(stderr, "flow: run '%s' is not waiting for approval (%s)\n", o.id.c_str(), Situation(*out).c_str());
    return kExitUsage;
  }
  std::fprintf(stderr, "run %s %s by %s\n", o.id.c_str(), o.approved ? "approved" : "rejected", by.c_str());
  return DriveRecordedRun(*store, o.id, "decision", o.json);
}

auto RegisterDecision(CLI::App& app, bool approved) -> Command {
  auto o = std::make_shared<DecisionOptions>();
  o->approved = approved;
  CLI::App* sub = app.add_subcommand(approved ? "approve" : "reject",
                                     approved ? "Approve a run waiting on 'approve' and drive it on"
                                              : "Reject a run waiting on 'approve': it fails with kind rejected");
  sub->add_option("RUN_ID", o->id, "The run waiting for approval")->required();
  sub->add_option("--as", o->as, "Who decides (default: the operating-system user)")
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
