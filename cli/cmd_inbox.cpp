// `flow inbox [--json] [--db PATH]`
//
// The approval inbox (SPEC §5): every run waiting for a person's decision,
// oldest request first, with its prompt, the role it asks (`from`), since
// when it waits and when it times out. A run whose decision is already
// recorded but not yet delivered (another process held it) waits for no one
// and is left out, and so is an approval whose timeout has passed (it can
// no longer be approved; `flow worker` or `flow resume` delivers the
// timeout). Human text is a table on stdout; with --json one object
// on stdout:
//   {"inbox": [{"run", "workflow", "prompt", "from", "since", "timeout_at"}]}
// (`from` and `timeout_at` null when the approve has none). Reads only: a
// missing database is an empty inbox. Exit codes: 0 (also when empty), 4 a
// database that is not flow's, is newer, or cannot be read.
#include <algorithm>
#include <iterator>
#include <optional>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/program_loader.h"
#include "cli/run_report.h"
#include "vm/engine/branch_waits.h"
#include "vm/engine/events.h"
#include "vm/engine/run_driver.h"

namespace flow::cli {
namespace {

struct InboxOptions {
  bool json = false;
  std::string db;
};

struct InboxEntry {
  const store::RunRecord* run = nullptr;
  int64_t since_ms = 0;  // when the approval was requested
  // An approval inside a parallel branch (several may be open in one run).
  std::optional<engine::OpenBranchApproval> branch;
};

// The open approvals of `run`'s branches whose timeout is not due (a
// running run's too: its other branches may still have steps in flight).
auto BranchEntries(store::Store& store, const store::RunRecord& run, int64_t now, std::vector<InboxEntry>& entries)
    -> Status {
  auto open = engine::OpenBranchApprovals(store, run.id);
  if (!open) return open.error();
  for (auto& a : *open) {
    if (a.deadline_ms >= 0 && a.deadline_ms <= now) continue;
    entries.push_back(InboxEntry{&run, a.since_ms, std::move(a)});
  }
  return Ok{};
}

// The run's open approval: when it was requested, or nullopt when a
// decision already answers it.
auto OpenSince(store::Store& store, const store::RunRecord& run) -> Result<std::optional<int64_t>> {
  auto journal = store.Journal(run.id);
  if (!journal) return journal.error();
  std::optional<int64_t> since = run.updated_ms;  // no request journaled: the row's last change
  for (const auto& e : *journal) {
    if (e.type == engine::events::kApprovalRequested) since = e.at_ms;
    if (e.type == engine::events::kApprovalDecided) since.reset();
  }
  return since;
}

auto EntryJson(const InboxEntry& entry) -> Json {
  Json waiting = WaitingJson(*entry.run);
  auto text_or_null = [&](const char* key) -> Json {
    return waiting.contains(key) && waiting[key].is_string() ? waiting[key] : Json();
  };
  Json out = Json::object();
  if (entry.branch) {
    const engine::OpenBranchApproval& a = *entry.branch;
    out["run"] = entry.run->id;
    out["workflow"] = entry.run->workflow;
    if (!entry.run->parent_id.empty()) out["parent"] = entry.run->parent_id;
    out["prompt"] = a.prompt;
    out["from"] = a.from ? Json(*a.from) : Json();
    out["since"] = FormatMs(a.since_ms);
    out["timeout_at"] = a.deadline_ms >= 0 ? Json(FormatMs(a.deadline_ms)) : Json();
    out["branch"] = a.branch;
    return out;
  }
  out["run"] = entry.run->id;
  out["workflow"] = entry.run->workflow;
  // An approval inside a child run is the child's (docs/composition.md).
  if (!entry.run->parent_id.empty()) out["parent"] = entry.run->parent_id;
  out["prompt"] = waiting.value("prompt", "");
  out["from"] = text_or_null("from");
  out["since"] = FormatMs(entry.since_ms);
  out["timeout_at"] = text_or_null("timeout_at");
  return out;
}

void PrintInboxTable(const std::vector<InboxEntry>& entries) {
  if (entries.empty()) {
    std::fputs("no runs waiting for approval\n", stdout);
    return;
  }
  std::vector<std::vector<std::string>> rows = {{"RUN", "WORKFLOW", "SINCE", "FROM", "TIMEOUT", "PROMPT"}};
  for (const InboxEntry& entry : entries) {
    Json j = EntryJson(entry);
    rows.push_back({ShownId(entry.run->id), entry.run->workflow, j["since"].get<std::string>(),
                    j["from"].is_string() ? j["from"].get<std::string>() : "-",
                    j["timeout_at"].is_string() ? j["timeout_at"].get<std::string>() : "-",
                    entry.branch ? "[" + entry.branch->branch + "] " + j["prompt"].get<std::string>()
                                 : j["prompt"].get<std::string>()});
  }
  PrintColumns(rows);
}

auto RunInbox(const InboxOptions& options) -> int {
  auto store = OpenStoreForReading(options.db);
  if (!store) {
    std::fprintf(stderr, "flow: %s\n", store.error().message.c_str());
    return kExitInternal;
  }
  std::vector<store::RunRecord> runs;
  if (*store) {
    // Running too: a branch may wait for approval while others run.
    for (store::RunStatus status : {store::RunStatus::Waiting, store::RunStatus::Running}) {
      auto listed = (*store)->ListRuns(status);
      if (!listed) {
        std::fprintf(stderr, "flow: cannot list runs in '%s': %s\n", DatabasePath(options.db).c_str(),
                     listed.error().message.c_str());
        return kExitInternal;
      }
      runs.insert(runs.end(), std::make_move_iterator(listed->begin()), std::make_move_iterator(listed->end()));
    }
  }
  std::vector<InboxEntry> entries;
  const int64_t now = engine::NowMs();
  for (const store::RunRecord& run : runs) {
    const Json waiting = WaitingJson(run);
    if (run.status == store::RunStatus::Running || waiting.contains("branch")) {
      if (auto s = BranchEntries(**store, run, now, entries); !s) {
        std::fprintf(stderr, "flow: %s\n", s.error().message.c_str());
        return kExitInternal;
      }
      continue;
    }
    if (run.waiting_reason != "approval") continue;
    // Its timeout has passed: nobody can approve it any more (flow approve
    // refuses it); the timeout reaches the run through the worker or resume.
    if (run.wake_at_ms >= 0 && run.wake_at_ms <= now) continue;
    auto since = OpenSince(**store, run);
    if (!since) {
      std::fprintf(stderr, "flow: %s\n", since.error().message.c_str());
      return kExitInternal;
    }
    if (*since) entries.push_back(InboxEntry{&run, **since, std::nullopt});
  }
  // Oldest request first; ListRuns gave newest first, so equal times keep
  // the older run first when reversed.
  std::reverse(entries.begin(), entries.end());
  std::stable_sort(entries.begin(), entries.end(),
                   [](const InboxEntry& a, const InboxEntry& b) {
                     if (a.since_ms != b.since_ms) return a.since_ms < b.since_ms;
                     // One run's branch approvals requested in one commit: in journal order.
                     return a.run == b.run && a.branch && b.branch && a.branch->seq < b.branch->seq;
                   });
  if (options.json) {
    Json list = Json::array();
    for (const InboxEntry& entry : entries) list.push_back(EntryJson(entry));
    PrintJsonLine({{"inbox", list}});
  } else {
    PrintInboxTable(entries);
  }
  return kExitOk;
}

}  // namespace

auto RegisterInbox(CLI::App& app) -> Command {
  auto options = std::make_shared<InboxOptions>();
  CLI::App* sub = app.add_subcommand("inbox", "List the runs waiting for approval, oldest first, with their prompts");
  sub->add_flag("--json", options->json, "Print one JSON object on stdout");
  AddDbOption(*sub, options->db);
  return Command{sub, [options] { return RunInbox(*options); }};
}

}  // namespace flow::cli
