// `flow signal RUN_ID EVENT [--data JSON] [--json] [--db PATH]`
//
// Sends a signal to a run (SPEC §2.5 `wait`, §5): one `signal_received`
// event {event, payload} (payload: --data parsed, null without it),
// appended only while the run is running or waiting, checked and written in
// one transaction (Store::AppendEventIf). Signals are buffered, as Temporal's
// are: the run's `wait "EVENT"` consumes the oldest signal of that event it
// has not consumed yet, also one sent before the wait began, and each signal
// at most once (docs/runs.md). Then the run is driven in-process
// (record_and_drive.h): a run waiting for exactly this event gets it now.
//
// Before recording, the signal is checked against the run's stored program
// (vm/engine/signal_check.h): a signal no `wait` of the run's workflow
// waits for (with a did-you-mean over the events it does wait for), or a
// payload that fits none of the `as T` types of the waits on EVENT (the
// JSON path named), is refused: it could never be consumed as sent.
//
// Exit codes: 0 once the signal is recorded, whatever the run then does
// (its report, as `flow run --json` prints it, says); 2 for an unknown run,
// a finished one, an empty EVENT, --data that is not JSON, an event the
// run does not wait for or a payload that fits no wait, with nothing
// written; 4 a store error. --data travels on the command line, so the
// system's limit on one argument (128 KiB on Linux) bounds it.
#include <cstdio>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "cli/command.h"
#include "cli/record_and_drive.h"
#include "cli/run_report.h"
#include "compiler/diag/suggest.h"
#include "vm/base/json_text.h"
#include "vm/bytecode/serialize.h"
#include "vm/engine/events.h"
#include "vm/engine/run_driver.h"
#include "vm/engine/signal_check.h"
#include "vm/value/convert.h"

namespace flow::cli {
namespace {

struct SignalOptions {
  std::string id;
  std::string event;
  std::string data;
  bool data_given = false;
  std::string db;
  bool json = false;
};

// Whether a waiting run waits for signal `event`: its wait, or one of the
// other waits of its branches ("also", docs/composition.md).
auto WaitsFor(const store::RunRecord& run, const std::string& event) -> bool {
  if (run.status != store::RunStatus::Waiting) return false;
  auto w = nlohmann::json::parse(run.waiting, nullptr, false);
  if (!w.is_object()) return false;
  auto is = [&](const nlohmann::json& o) {
    return o.is_object() && o.value("kind", "") == "signal" && o.value("event", "") == event;
  };
  if (is(w)) return true;
  if (w.contains("also") && w["also"].is_array()) {
    for (const auto& o : w["also"]) {
      if (is(o)) return true;
    }
  }
  return false;
}

// The suggestion for a misspelt event: the shared did-you-mean, or else an
// event that the name extends or shortens ('acked' for 'ack', 'approve' for
// 'approved'): event names differ by tense more often than by typo, and a
// run waits for a handful of them.
auto EventSuggestion(const std::string& name, const std::vector<std::string>& events) -> std::string {
  if (auto s = DidYouMean(name, events); !s.empty()) return s;
  constexpr size_t kMinStemChars = 3;
  for (const std::string& e : events) {
    const std::string& shorter = e.size() < name.size() ? e : name;
    const std::string& longer = e.size() < name.size() ? name : e;
    if (shorter.size() >= kMinStemChars && longer.compare(0, shorter.size(), shorter) == 0) {
      return "; did you mean '" + e + "'?";
    }
  }
  return "";
}

auto Quoted(const std::vector<std::string>& names) -> std::string {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "'" : ", '") + n + "'";
  return out;
}

// Checks the signal against run `run`'s stored program (signal_check.h):
// nullopt when it may be recorded, else the exit code after one line why.
auto CheckAgainstProgram(store::Store& store, const store::RunRecord& run, const SignalOptions& o,
                         const nlohmann::json& payload) -> std::optional<int> {
  auto bytes = store.GetProgram(run.program_hash);
  auto module = bytes ? bytecode::DeserializeModule(*bytes) : Result<bytecode::Module>(bytes.error());
  if (!module) {
    std::fprintf(stderr, "flow: run '%s': stored program: %s\n", run.id.c_str(), module.error().message.c_str());
    return kExitInternal;
  }
  engine::SignalVerdict v = engine::CheckSignal(*module, run.workflow, o.event, payload);
  using Kind = engine::SignalVerdict::Kind;
  if (v.kind == Kind::UnknownEvent) {
    std::string has = v.events.empty() ? "it has no wait"
                                       : "it waits for " + Quoted(v.events);
    std::fprintf(stderr, "flow: workflow '%s' of run '%s' has no wait for signal '%s'%s (%s)\n",
                 run.workflow.c_str(), run.id.c_str(), o.event.c_str(), EventSuggestion(o.event, v.events).c_str(),
                 has.c_str());
    return kExitUsage;
  }
  if (v.kind == Kind::PayloadMismatch) {
    std::string why = v.types <= 1 ? v.mismatch
                                   : fmt::format("it fits none of the {} types the waits on '{}' accept; the first: {}",
                                                 v.types, o.event, v.mismatch);
    std::fprintf(stderr, "flow: invalid --data for signal '%s' of run '%s': %s\n", o.event.c_str(), run.id.c_str(),
                 why.c_str());
    return kExitUsage;
  }
  return std::nullopt;
}

// Refusal of a signal to a run that ended: exit 2.
auto Ended(const store::RunRecord& run) -> int {
  std::fprintf(stderr, "flow: run '%s' is already %s; only a running or waiting run can be signalled\n",
               run.id.c_str(), store::StatusName(run.status));
  return kExitUsage;
}

auto RunSignal(const SignalOptions& o) -> int {
  if (o.event.empty()) {
    std::fprintf(stderr, "flow: a signal needs an EVENT name; see 'flow --help'\n");
    return kExitUsage;
  }
  nlohmann::json payload;  // null without --data
  if (o.data_given) {
    auto parsed = ParseJsonText(o.data);
    if (!parsed) {
      std::fprintf(stderr, "flow: invalid --data: %s\n", parsed.error().message.c_str());
      return kExitUsage;
    }
    payload = std::move(*parsed);
  }
  int exit_code = kExitOk;
  auto store = OpenStoreForRun(o.db, o.id, exit_code);
  if (!store) return exit_code;
  auto run = ReadKnownRun(*store, o.id, exit_code);
  if (!run) return exit_code;
  if (run->status != store::RunStatus::Running && run->status != store::RunStatus::Waiting) return Ended(*run);
  if (auto refused = CheckAgainstProgram(*store, *run, o, payload)) return *refused;
  store::JournalEvent received;
  received.type = std::string(engine::events::kSignalReceived);
  received.data = value::DumpJson(nlohmann::json{{"event", o.event}, {"payload", payload}});
  received.at_ms = engine::NowMs();
  store::AppendCondition alive;
  alive.statuses = {store::RunStatus::Running, store::RunStatus::Waiting};
  store::AppendRowChange due;  // a killed sender leaves the signal to `flow worker`
  due.make_due = true;
  // Waits inside branches: the run's reason is its oldest wait's, which may
  // not be this event's (docs/composition.md), so any waiting run is made due.
  if (!WaitingJson(*run).contains("branch")) due.due_event = o.event;
  due.now_ms = received.at_ms;
  auto out = store->AppendEventIf(o.id, received, alive, due);
  if (auto exit = AppendFailureExit(out, o.id)) return *exit;
  if (out->refusal != store::AppendRefusal::None) return Ended(*out->run);
  if (o.json) {
    // The report object alone: --json prints exactly one object.
  } else if (WaitsFor(*out->run, o.event)) {
    std::fprintf(stdout, "run %s: signal '%s' recorded\n", o.id.c_str(), o.event.c_str());
  } else {
    std::fprintf(stdout, "run %s: signal '%s' recorded; it is kept until the run waits for '%s'\n", o.id.c_str(),
                 o.event.c_str(), o.event.c_str());
  }
  return DriveRecordedRun(*store, o.id, "signal", o.json);
}

}  // namespace

auto RegisterSignal(CLI::App& app) -> Command {
  auto o = std::make_shared<SignalOptions>();
  CLI::App* sub = app.add_subcommand("signal", "Send a signal (an event with a JSON payload) to a run");
  sub->add_option("RUN_ID", o->id, "The run to signal")->required()->check(RunIdCheck());
  sub->add_option("EVENT", o->event, "The event name its 'wait' waits for")->required();
  sub->add_option("--data", o->data, "The payload, as JSON (default: null)")
      ->each([o](const std::string&) { o->data_given = true; });
  sub->add_option("--db", o->db, "The database (default: $FLOW_DB, else ./flow.db)");
  sub->add_flag("--json", o->json, "Print the run's report as one JSON object on stdout");
  return Command{sub, [o] { return RunSignal(*o); }};
}

}  // namespace flow::cli
