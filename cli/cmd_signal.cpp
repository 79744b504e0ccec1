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
// Exit codes: 0 once the signal is recorded, whatever the run then does
// (its report, as `flow run --json` prints it, says); 2 for an unknown run,
// a finished one, an empty EVENT or --data that is not JSON, with nothing
// written; 4 a store error. --data travels on the command line, so the
// system's limit on one argument (128 KiB on Linux) bounds it.
#include <cstdio>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/record_and_drive.h"
#include "vm/engine/events.h"
#include "vm/engine/run_driver.h"
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

// The event a waiting run waits for, or "" when it waits for no signal.
auto AwaitedEvent(const store::RunRecord& run) -> std::string {
  if (run.status != store::RunStatus::Waiting || run.waiting_reason != "signal") return "";
  auto w = nlohmann::json::parse(run.waiting, nullptr, false);
  return w.is_object() ? w.value("event", "") : "";
}

auto RunSignal(const SignalOptions& o) -> int {
  if (o.event.empty()) {
    std::fprintf(stderr, "flow: a signal needs an EVENT name; see 'flow --help'\n");
    return kExitUsage;
  }
  nlohmann::json payload;  // null without --data
  if (o.data_given) {
    payload = nlohmann::json::parse(o.data, nullptr, false);
    if (payload.is_discarded()) {
      std::fprintf(stderr, "flow: invalid --data: not valid JSON\n");
      return kExitUsage;
    }
  }
  int exit_code = kExitOk;
  auto store = OpenStoreForRun(o.db, o.id, exit_code);
  if (!store) return exit_code;
  store::JournalEvent received;
  received.type = std::string(engine::events::kSignalReceived);
  received.data = value::DumpJson(nlohmann::json{{"event", o.event}, {"payload", payload}});
  received.at_ms = engine::NowMs();
  store::AppendCondition alive;
  alive.statuses = {store::RunStatus::Running, store::RunStatus::Waiting};
  store::AppendRowChange due;  // a killed sender leaves the signal to `flow worker`
  due.make_due = true;
  due.due_event = o.event;
  due.now_ms = received.at_ms;
  auto out = store->AppendEventIf(o.id, received, alive, due);
  if (auto exit = AppendFailureExit(out, o.id)) return *exit;
  if (out->refusal != store::AppendRefusal::None) {
    std::fprintf(stderr, "flow: run '%s' is already %s; only a running or waiting run can be signalled\n",
                 o.id.c_str(), store::StatusName(out->run->status));
    return kExitUsage;
  }
  if (AwaitedEvent(*out->run) == o.event) {
    std::fprintf(stderr, "run %s: signal '%s' recorded\n", o.id.c_str(), o.event.c_str());
  } else {
    std::fprintf(stderr, "run %s: signal '%s' recorded; it is kept until the run waits for '%s'\n", o.id.c_str(),
                 o.event.c_str(), o.event.c_str());
  }
  return DriveRecordedRun(*store, o.id, "signal", o.json);
}

}  // namespace

auto RegisterSignal(CLI::App& app) -> Command {
  auto o = std::make_shared<SignalOptions>();
  CLI::App* sub = app.add_subcommand("signal", "Send a signal (an event with a JSON payload) to a run");
  sub->add_option("RUN_ID", o->id, "The run to signal")->required();
  sub->add_option("EVENT", o->event, "The event name its 'wait' waits for")->required();
  sub->add_option("--data", o->data, "The payload, as JSON (default: null)")
      ->each([o](const std::string&) { o->data_given = true; });
  sub->add_option("--db", o->db, "The database (default: $FLOW_DB, else ./flow.db)");
  sub->add_flag("--json", o->json, "Print the run's report as one JSON object on stdout");
  return Command{sub, [o] { return RunSignal(*o); }};
}

}  // namespace flow::cli
