// `flow show RUN_ID [--json] [--db PATH]`
//
// Shows one run and its audit trail (SPEC §4, §5): the run row (workflow,
// status, waiting reason, input, result or error, program hash, times), its
// journal in seq order, its checkpoints, and the outcome of each
// compensation. The journal is read generically (event type, step, attempt,
// JSON data), so new event types show up without changes here. Human text
// goes to stdout too (a report, SPEC §5); --json prints one object on stdout (docs/cli.md).
// Exit codes: 0 shown, 2 unknown run id, 4 store error (file untouched).
#include <fmt/format.h>

#include <cstdio>
#include <map>
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
};

auto EventJson(const store::JournalEvent& event) -> Json {
  Json out = Json::object();
  out["seq"] = event.seq;
  out["at"] = FormatMs(event.at_ms);
  out["event"] = event.type;
  out["step"] = event.step >= 0 ? Json(event.step) : Json(nullptr);
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
auto CompensationsJson(const Json& journal) -> Json {
  Json out = Json::array();
  std::map<std::string, size_t> index_of;
  for (const Json& event : journal) {
    std::string type = event["event"].get<std::string>();
    if (type.rfind(kCompensationPrefix, 0) != 0) continue;
    const Json& data = event["data"];
    Json position = event["step"];
    Json operation = Field(data, "operation");
    std::string key = position.dump() + "|" + operation.dump();
    auto [it, inserted] = index_of.emplace(key, out.size());
    if (inserted) out.push_back({{"step", operation}, {"position", position}});
    Json& entry = out[it->second];
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
  return out;
}

auto ShowJson(const store::RunRecord& run, const std::vector<store::JournalEvent>& events,
              const std::vector<store::Checkpoint>& checkpoints) -> Json {
  Json out = RunSummaryJson(run);
  out["program"] = run.program_hash;
  out["input"] = ParseStoredJson(run.input);
  out["result"] = run.status == store::RunStatus::Completed ? ParseStoredJson(run.result) : nullptr;
  out["error"] = ParseStoredJson(run.error);
  Json journal = Json::array();
  for (const store::JournalEvent& event : events) journal.push_back(EventJson(event));
  Json saved = Json::array();
  for (const store::Checkpoint& c : checkpoints) {
    saved.push_back({{"name", c.name}, {"seq", c.journal_seq}, {"at", FormatMs(c.created_ms)}});
  }
  out["checkpoints"] = saved;
  out["compensations"] = CompensationsJson(journal);
  out["journal"] = journal;
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

// "kind: message (step s)" for a {kind, message, step} record; any other
// shape as compact JSON.
auto ErrorText(const Json& error) -> std::string {
  if (!error.is_object() || !error.contains("kind") || !error.contains("message")) return Compact(error);
  std::string text = Compact(error["kind"]) + ": " + Compact(error["message"]);
  if (error["kind"].is_string() && error["message"].is_string()) {
    text = error["kind"].get<std::string>() + ": " + error["message"].get<std::string>();
  }
  if (auto step = Field(error, "step"); !step.is_null()) text += " (step " + Compact(step) + ")";
  return text;
}

void PrintHuman(const Json& shown) {
  auto line = [](std::string_view label, const std::string& value) {
    std::fprintf(stdout, "%-10s %s\n", std::string(label).c_str(), value.c_str());
  };
  line("Run", shown["run"].get<std::string>());
  line("Workflow", shown["workflow"].get<std::string>());
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
  std::fputs("\nJournal:\n", stdout);
  std::fprintf(stdout, "  %-4s %-24s %-24s %-5s %-7s %s\n", "SEQ", "TIME", "EVENT", "STEP", "ATTEMPT", "DETAILS");
  for (const Json& e : shown["journal"]) {
    std::string step = e["step"].is_null() ? "-" : e["step"].dump();
    std::string attempt = e["attempt"].is_null() ? "-" : e["attempt"].dump();
    std::fprintf(stdout, "  %-4s %-24s %-24s %-5s %-7s %s\n", e["seq"].dump().c_str(),
                 e["at"].get<std::string>().c_str(), e["event"].get<std::string>().c_str(), step.c_str(),
                 attempt.c_str(), DetailsText(e["data"]).c_str());
  }
  if (shown["compensations"].empty()) return;
  std::fputs("\nCompensations:\n", stdout);
  for (const Json& c : shown["compensations"]) {
    std::string what = c["step"].is_string() ? c["step"].get<std::string>() : "compensation";
    std::string where = c["position"].is_null() ? "" : " (step " + c["position"].dump() + ")";
    std::string error = c.contains("error") ? ": " + Compact(c["error"]) : "";
    std::fprintf(stdout, "  %s%s: %s%s\n", what.c_str(), where.c_str(), c["status"].get<std::string>().c_str(),
                 error.c_str());
  }
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
  auto journal = (*store)->Journal(options.run_id);
  auto checkpoints = (*store)->Checkpoints(options.run_id);
  if (!journal || !checkpoints) {
    const Error& error = !journal ? journal.error() : checkpoints.error();
    std::fprintf(stderr, "flow: cannot read run '%s': %s\n", options.run_id.c_str(), error.message.c_str());
    return kExitInternal;
  }
  Json shown = ShowJson(**run, *journal, *checkpoints);
  if (options.json) {
    PrintJsonLine(shown);
  } else {
    PrintHuman(shown);
  }
  return kExitOk;
}

}  // namespace

auto RegisterShow(CLI::App& app) -> Command {
  auto options = std::make_shared<ShowOptions>();
  CLI::App* sub = app.add_subcommand("show", "Show a run and its journal (the audit trail)");
  sub->add_option("RUN_ID", options->run_id, "The run to show")->required();
  sub->add_flag("--json", options->json, "Print one JSON object on stdout");
  AddDbOption(*sub, options->db);
  return Command{sub, [options] { return RunShow(*options); }};
}

}  // namespace flow::cli
