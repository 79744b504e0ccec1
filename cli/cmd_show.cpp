// `flow show RUN_ID [--json] [--limit N] [--after SEQ] [--db PATH]`
//
// Shows one run and its audit trail (SPEC §4, §5): the run row (workflow,
// status, waiting reason, input, result or error, program hash, times), its
// journal in seq order, its checkpoints, and the outcome of each
// compensation. The journal is read generically (event type, step, attempt,
// JSON data), so new event types show up without changes here. Human text
// goes to stdout too (a report, SPEC §5); --json prints one object on stdout
// (docs/cli.md).
//
// The journal is streamed: read one row at a time (Store::ScanJournal) and
// printed as it is read, so memory stays flat however long the journal is
// (a run of 520k events used 1.3 GB when the whole journal was built as one
// JSON value first; docs/performance.md). Everything printed before the
// journal is small and read first: the run row, the checkpoints and the
// compensation summary (a scan of the compensation events only). --limit
// and --after page through the journal; only then does the JSON object get
// its `next_after` field.
// Exit codes: 0 shown, 2 unknown run id, 4 store error (file untouched).
#include <fmt/format.h>

#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/command.h"
#include "cli/run_report.h"

namespace flow::cli {
namespace {

// Journal event types of compensations share this prefix
// (compensation_started, compensation_completed, compensation_failed, ...).
constexpr std::string_view kCompensationPrefix = "compensation";

struct ShowOptions {
  std::string run_id;
  bool json = false;
  std::string db;
  int64_t limit = -1;  // --limit: at most this many journal events (-1: all)
  int64_t after = 0;   // --after: only events with a greater seq
  auto paged() const -> bool { return limit >= 0 || after > 0; }
};

auto EventJson(const store::JournalEvent& event) -> Json {
  Json out = Json::object();
  out["seq"] = event.seq;
  out["at"] = FormatMs(event.at_ms);
  out["event"] = event.type;
  out["step"] = event.step >= 0 ? Json(event.step) : Json(nullptr);
  // The branch fiber of the event (docs/composition.md); absent on the root's.
  if (!event.branch.empty()) out["branch"] = event.branch;
  out["attempt"] = event.attempt > 0 ? Json(event.attempt) : Json(nullptr);
  Json data = ParseStoredJson(event.data);
  out["data"] = data.is_null() ? Json::object() : data;
  return out;
}

// The field `key` of an object, or null.
auto Field(const Json& object, const char* key) -> Json {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? Json(nullptr) : *it;
}

// One entry per compensation, in the order the first event about it
// appears, keyed by step position and operation. Like `flow run --json`,
// "step" names the compensating operation; "position" is its step position.
// Its latest event decides the outcome: "completed", "failed", or the last
// state reached when the run stopped in between (e.g. "started").
class CompensationSummary {
 public:
  void Add(const Json& event) {
    const std::string type = event["event"].get<std::string>();
    const Json& data = event["data"];
    Json position = event["step"];
    Json operation = Field(data, "operation");
    std::string key = position.dump() + "|" + operation.dump();
    auto [it, inserted] = index_of_.emplace(key, list_.size());
    if (inserted) list_.push_back({{"step", operation}, {"position", position}});
    Json& entry = list_[it->second];
    entry["status"] = type.size() > kCompensationPrefix.size() + 1 ? type.substr(kCompensationPrefix.size() + 1) : type;
    entry["seq"] = event["seq"];
    if (!event["attempt"].is_null()) entry["attempts"] = event["attempt"];
    if (auto kind = Field(data, "kind"); !kind.is_null()) {
      entry["error"] = {{"kind", kind}, {"message", Field(data, "message")}};
    }
    if (auto error = Field(data, "error"); !error.is_null()) entry["error"] = error;
    // A failed attempt that a later retry made good is not the outcome.
    if (entry["status"] == "completed") entry.erase("error");
  }
  auto list() const -> const Json& { return list_; }

 private:
  Json list_ = Json::array();
  std::map<std::string, size_t> index_of_;
};

// Everything `flow show` prints before the journal.
auto HeadJson(const store::RunRecord& run, const std::vector<store::Checkpoint>& checkpoints,
              const Json& compensations, const std::vector<store::RunRecord>& children) -> Json {
  Json out = RunSummaryJson(run);
  Json kids = Json::array();  // docs/composition.md: the child runs, oldest first
  for (const store::RunRecord& c : children) {
    kids.push_back({{"run", c.id}, {"workflow", c.workflow}, {"status", store::StatusName(c.status)}});
  }
  out["children"] = kids;
  out["program"] = run.program_hash;
  out["input"] = ParseStoredJson(run.input);
  out["result"] = run.status == store::RunStatus::Completed ? ParseStoredJson(run.result) : nullptr;
  out["error"] = ParseStoredJson(run.error);
  Json saved = Json::array();
  for (const store::Checkpoint& c : checkpoints) {
    saved.push_back({{"name", c.name}, {"seq", c.journal_seq}, {"at", FormatMs(c.created_ms)}});
  }
  out["checkpoints"] = saved;
  out["compensations"] = compensations;
  return out;
}

auto Compact(const Json& value) -> std::string {
  std::string line = DumpLine(value);
  return line.substr(0, line.size() - 1);
}

// `key=value` pairs of an event's data, values as compact JSON.
auto DetailsText(const Json& data) -> std::string {
  if (!data.is_object()) return Compact(data);
  std::string text;
  for (auto& [key, value] : data.items()) {
    if (!text.empty()) text += " ";
    text += key + "=" + Compact(value);
  }
  return text;
}

// "file:line:col: kind: message (step s)" for a {kind, message, step, at}
// record (the position only when the error has one); any other shape as
// compact JSON.
auto ErrorText(const Json& error) -> std::string {
  if (!error.is_object() || !error.contains("kind") || !error.contains("message")) return Compact(error);
  std::string text = Compact(error["kind"]) + ": " + Compact(error["message"]);
  if (error["kind"].is_string() && error["message"].is_string()) {
    text = error["kind"].get<std::string>() + ": " + error["message"].get<std::string>();
  }
  if (auto step = Field(error, "step"); !step.is_null()) text += " (step " + Compact(step) + ")";
  if (auto at = Field(error, "at"); at.is_string()) text = at.get<std::string>() + ": " + text;
  return text;
}

void PrintHumanHead(const Json& shown) {
  auto line = [](std::string_view label, const std::string& value) {
    std::fprintf(stdout, "%-10s %s\n", std::string(label).c_str(), value.c_str());
  };
  line("Run", ShownId(shown["run"].get<std::string>()));
  line("Workflow", shown["workflow"].get<std::string>());
  if (shown["parent"].is_string()) line("Parent", ShownId(shown["parent"].get<std::string>()));
  line("Status", shown["status"].get<std::string>());
  if (!shown["waiting"].is_null()) line("Waiting", Compact(shown["waiting"]));
  line("Program", shown["program"].get<std::string>());
  line("Created", shown["created"].get<std::string>());
  line("Updated", shown["updated"].get<std::string>());
  line("Input", Compact(shown["input"]));
  if (!shown["result"].is_null()) line("Result", Compact(shown["result"]));
  if (!shown["error"].is_null()) line("Error", ErrorText(shown["error"]));
  for (const Json& c : shown["checkpoints"]) {
    line("Checkpoint", fmt::format("{} (seq {}, {})", c["name"].get<std::string>(), c["seq"].dump(),
                                   c["at"].get<std::string>()));
  }
  for (const Json& c : shown["children"]) {
    line("Child", fmt::format("{} ({}, {})", ShownId(c["run"].get<std::string>()), c["workflow"].get<std::string>(),
                              c["status"].get<std::string>()));
  }
  std::fputs("\nJournal:\n", stdout);
  std::fprintf(stdout, "  %-4s %-24s %-24s %-5s %-7s %s\n", "SEQ", "TIME", "EVENT", "STEP", "ATTEMPT", "DETAILS");
}

void PrintHumanEvent(const Json& e) {
  std::string step = e["step"].is_null() ? "-" : e["step"].dump();
  std::string attempt = e["attempt"].is_null() ? "-" : e["attempt"].dump();
  std::string details = DetailsText(e["data"]);
  if (e.contains("branch")) details = "[" + e["branch"].get<std::string>() + "] " + details;
  std::fprintf(stdout, "  %-4s %-24s %-24s %-5s %-7s %s\n", e["seq"].dump().c_str(), e["at"].get<std::string>().c_str(),
               e["event"].get<std::string>().c_str(), step.c_str(), attempt.c_str(), details.c_str());
}

void PrintHumanTail(const Json& compensations, const ShowOptions& o, std::optional<int64_t> next_after) {
  if (next_after) {
    std::string limit = o.limit >= 0 ? fmt::format(" --limit {}", o.limit) : "";
    std::fprintf(stdout, "  ... more events: flow show %s --after %lld%s\n", o.run_id.c_str(),
                 static_cast<long long>(*next_after), limit.c_str());
  }
  if (compensations.empty()) return;
  std::fputs("\nCompensations:\n", stdout);
  for (const Json& c : compensations) {
    std::string what = c["step"].is_string() ? c["step"].get<std::string>() : "compensation";
    std::string where = c["position"].is_null() ? "" : " (step " + c["position"].dump() + ")";
    std::string error = c.contains("error") ? ": " + Compact(c["error"]) : "";
    std::fprintf(stdout, "  %s%s: %s%s\n", what.c_str(), where.c_str(), c["status"].get<std::string>().c_str(),
                 error.c_str());
  }
}

// Streams the page of the journal `o` asks for to `print`, one event at a
// time. Returns the seq to pass as --after for the next page, or nullopt
// when the page reached the end of the journal.
auto StreamJournal(store::Store& store, const ShowOptions& o, const std::function<void(const Json&)>& print)
    -> Result<std::optional<int64_t>> {
  store::JournalQuery query;
  query.after_seq = o.after;
  // One more than the page, to learn whether another page follows.
  query.limit = o.limit >= 0 ? o.limit + 1 : -1;
  int64_t shown = 0, last_seq = o.after;
  bool more = false;
  auto scanned = store.ScanJournal(o.run_id, query, [&](const store::JournalEvent& e) {
    if (o.limit >= 0 && shown == o.limit) {
      more = true;
      return false;
    }
    print(EventJson(e));
    ++shown;
    last_seq = e.seq;
    return true;
  });
  if (!scanned) return scanned.error();
  return more ? std::optional<int64_t>(last_seq) : std::nullopt;
}

auto ShowRun(store::Store& store, const store::RunRecord& run, const ShowOptions& o) -> Status {
  CompensationSummary compensations;
  store::JournalQuery only_compensations;
  only_compensations.type_prefix = std::string(kCompensationPrefix);
  auto scanned = store.ScanJournal(o.run_id, only_compensations, [&](const store::JournalEvent& e) {
    compensations.Add(EventJson(e));
    return true;
  });
  if (!scanned) return scanned.error();
  auto checkpoints = store.Checkpoints(o.run_id);
  if (!checkpoints) return checkpoints.error();
  auto children = store.ListChildren(o.run_id);
  if (!children) return children.error();
  Json head = HeadJson(run, *checkpoints, compensations.list(), *children);
  if (!o.json) {
    PrintHumanHead(head);
    auto next = StreamJournal(store, o, PrintHumanEvent);
    if (!next) return next.error();
    PrintHumanTail(compensations.list(), o, *next);
    return Ok{};
  }
  // The object of docs/cli.md, written piecewise: the head without its
  // closing brace, then "journal" one event at a time.
  std::string text = Compact(head);
  text.pop_back();
  std::fputs(text.c_str(), stdout);
  std::fputs(",\"journal\":[", stdout);
  bool first = true;
  auto next = StreamJournal(store, o, [&](const Json& event) {
    if (!first) std::fputc(',', stdout);
    first = false;
    std::string line = Compact(event);
    std::fwrite(line.data(), 1, line.size(), stdout);
  });
  if (!next) {
    std::fputs("]}\n", stdout);  // still one complete object; the error goes to stderr
    return next.error();
  }
  std::fputc(']', stdout);
  if (o.paged()) std::fprintf(stdout, ",\"next_after\":%s", *next ? std::to_string(**next).c_str() : "null");
  std::fputs("}\n", stdout);
  return Ok{};
}

auto RunShow(const ShowOptions& options) -> int {
  auto store = OpenStoreForReading(options.db);
  if (!store) {
    std::fprintf(stderr, "flow: %s\n", store.error().message.c_str());
    return kExitInternal;
  }
  auto unknown = [&] {
    std::fprintf(stderr, "flow: unknown run '%s'\n", options.run_id.c_str());
    return kExitUsage;
  };
  if (!*store) return unknown();
  auto run = (*store)->GetRun(options.run_id);
  if (!run) {
    std::fprintf(stderr, "flow: cannot read run '%s': %s\n", options.run_id.c_str(), run.error().message.c_str());
    return kExitInternal;
  }
  if (!*run) return unknown();
  if (auto shown = ShowRun(**store, **run, options); !shown) {
    std::fprintf(stderr, "flow: cannot read run '%s': %s\n", options.run_id.c_str(), shown.error().message.c_str());
    return kExitInternal;
  }
  return kExitOk;
}

}  // namespace

auto RegisterShow(CLI::App& app) -> Command {
  auto options = std::make_shared<ShowOptions>();
  CLI::App* sub = app.add_subcommand("show", "Show a run and its journal (the audit trail)");
  sub->add_option("RUN_ID", options->run_id, "The run to show")->required()->check(RunIdCheck());
  sub->add_flag("--json", options->json, "Print one JSON object on stdout");
  sub->add_option("--limit", options->limit, "Show at most N journal events (a page)")
      ->check(CLI::Range(int64_t{1}, INT64_MAX));
  sub->add_option("--after", options->after, "Show only journal events after seq SEQ (the next page)")
      ->check(CLI::Range(int64_t{0}, INT64_MAX));
  AddDbOption(*sub, options->db);
  return Command{sub, [options] { return RunShow(*options); }};
}

}  // namespace flow::cli
