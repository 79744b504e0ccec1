// The steps of branch fibers (driver.h; docs/composition.md, "Concurrency
// in the engine" and "Durable points and resume").
//
// The engine thread owns the VM and the store connection. Each step a
// branch fiber suspends at is sent on a thread of its own (a Transport
// call blocks: an exec process, an HTTP request), at most
// kMaxStepsInFlight at once, and the thread posts the attempt's outcome to
// a queue the engine thread waits on. The engine thread takes outcomes one
// at a time, in the order they arrive: it delivers the result to the
// fiber, commits `step_started` + `step_completed` (or the final
// `step_failed`) with the whole VM state -- each completion its own
// durable point -- and runs the VM until no fiber is ready again (so the
// fiber's `compensate` is registered before the next completion is
// delivered: registration order is completion order), then sends the
// steps that became due. Steps of the built-in connector (`log.*`, which
// return at once) are performed on the engine thread in fiber order, so
// what they print does not depend on thread timing.
//
// A step in branch `2.3` at position n of that fiber sends the
// idempotency key "<run>:2.3:n" on every attempt; its events carry the
// branch in the journal's `branch` column and `step` = n. Nothing is
// committed before a send (as for the root, issue 10): a crash leaves the
// last committed state, whose fibers suspended at a step are each sent
// again with the same key on resume (several at once), while a completion
// that was committed is part of that state and never sent again.
//
// A retryable failure commits `step_started` + a non-final `step_failed`
// with the state, then the next attempt's thread waits the backoff before
// sending. A backoff longer than EngineOptions::max_in_process_backoff, or
// a step that cannot be sent (blocked), lets the steps in flight finish
// and then suspends the run (reason `retry` / `blocked`); resuming sends
// that attempt again. A cancellation request or a stopping process sends
// nothing more and waits for the steps in flight, each delivered and
// committed as above (a retryable failure is committed and not retried).
// The cancellation then sends again, once, each branch step whose outcome
// is unknown and that has a `compensate` (ResendBranchesAtCancel).
#include <fmt/format.h>

#include <limits>
#include <random>

#include "vm/engine/attempt_pool.h"
#include "vm/engine/driver.h"
#include "vm/engine/events.h"
#include "vm/value/convert.h"
#include "vm/value/time_format.h"

namespace flow::engine {

using store::RunStatus;
namespace conn = connectors;

// One branch step being attempted.
struct Driver::BranchFlight {
  std::string branch;
  StepCall call;
  int attempt = 1;
  bool resent = false;
  int64_t not_before_ms = 0;  // a retry's backoff: the attempt waits until then
  bool blocked_before = false;
};

namespace {

auto ParseData(const store::JournalEvent& e) -> json {
  json d = json::parse(e.data, nullptr, false);
  return d.is_object() ? d : json::object();
}

auto Uniform01() -> double {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(gen);
}

// Sends attempt `a` of branch `branch` through `pool` after `delay_ms`:
// on a thread of its own, or at once on this thread for the built-in
// connector; an attempt that could not be prepared fails with kind config.
void StartAttempt(AttemptPool& pool, const std::string& branch, int64_t delay_ms, Result<conn::StepAttempt> a,
                  const conn::TransportRegistry& transports, const Clock& clock) {
  if (!a) {
    pool.Post(Posted{branch, conn::FailOutcome(conn::kKindConfig, a.error().message), clock.NowMs()});
    return;
  }
  if (a->connector->transport.kind == conn::TransportKind::Builtin && delay_ms == 0) {
    pool.Post(Posted{branch, conn::PerformAttempt(transports, *a), clock.NowMs()});
    return;
  }
  pool.Launch(branch, delay_ms, clock,
              [a = std::move(*a), &transports]() { return conn::PerformAttempt(transports, a); });
}

}  // namespace

auto Driver::BranchAttempt(const BranchFlight& f) -> Result<conn::StepAttempt> {
  const auto& d = module_.steps[f.call.desc];
  auto c = Connector(d.connector);  // loaded here: the threads only read it
  if (!c) return c.error();
  const conn::Operation* op = (*c)->file.FindOperation(d.operation);
  if (op == nullptr) return Error{fmt::format("connector '{}' has no operation '{}'", d.connector, d.operation)};
  conn::StepAttempt a;
  a.connector = &(*c)->file;
  a.op = op;
  a.connector_dir = (*c)->dir;
  a.args = f.call.args;
  a.secrets = f.call.secrets;
  a.idempotency_key = f.call.key;
  a.run_id = run_id_;
  a.resent = f.resent;
  std::optional<std::chrono::milliseconds> clause;
  if (d.timeout_ms != bytecode::kNone) clause = std::chrono::milliseconds(d.timeout_ms);
  a.timeout = conn::AttemptTimeout(clause, *op);
  return a;
}

auto Driver::BranchEvent(std::string_view type, json data, const std::string& branch, int64_t step, int64_t attempt)
    -> store::JournalEvent {
  store::JournalEvent e = Event(type, std::move(data), step, attempt);
  e.branch = branch;
  return e;
}

auto Driver::BranchCall(const interp::BranchSuspension& s) -> Result<BranchFlight> {
  BranchFlight f;
  f.branch = s.branch;
  f.call = StepCall{s.step, s.reason.step, json(), false, fmt::format("{}:{}:{}", run_id_, s.branch, s.step), {}};
  f.call.args = value::ToJson(s.reason.args, &f.call.secrets);
  if (!branches_loaded_) return f;
  // Loaded: the previous driver may have sent it; the journal says which
  // attempt comes next and when.
  f.resent = true;
  for (const auto& e : journal_) {
    if (e.branch != s.branch || e.step != s.step) continue;
    if (e.type == events::kStepStarted) {
      json d = ParseData(e);
      if (d.value("operation", "") != StepName(s.reason.step)) {
        return Error{fmt::format("run '{}': the journal records '{}' at step {} of branch {}, which does not match "
                                 "the program",
                                 run_id_, d.value("operation", ""), s.step, s.branch)};
      }
    } else if (e.type == events::kStepFailed) {
      json d = ParseData(e);
      if (d.value("final", true)) return Error{fmt::format("run '{}': a failed step left branch {} suspended", run_id_, s.branch)};
      f.attempt = static_cast<int>(e.attempt) + 1;
      f.not_before_ms = d.value("retry_at_ms", int64_t{0});
      f.resent = false;
      f.blocked_before = false;
    } else if (e.type == events::kStepBlocked) {
      f.attempt = static_cast<int>(e.attempt);
      f.resent = false;
      f.blocked_before = true;
    }
  }
  return f;
}

auto Driver::FinishBranchStep(const BranchFlight& f, std::optional<store::JournalEvent> started,
                              const conn::StepOutcome& out) -> Status {
  const std::string name = StepName(f.call.desc);
  store::DurableUpdate u = NotWaiting(RunStatus::Running);
  if (started) u.events.push_back(std::move(*started));
  bool ok = out.ok();
  std::string kind = out.error_kind, message = out.message;
  if (ok) {
    auto v = ConvertOutput(f.call.desc, out.output);
    if (v) {
      if (auto s = vm_.DeliverTo(f.branch, std::move(*v)); !s) return s;
      u.events.push_back(BranchEvent(events::kStepCompleted, json{{"operation", name}, {"result", out.output}},
                                     f.branch, f.call.pos, f.attempt));
    } else {
      ok = false;
      kind = conn::kKindContract;
      message = v.error().message;
    }
  }
  if (!ok) {
    if (auto s = vm_.DeliverErrorTo(f.branch, kind, message, name); !s) return s;
    u.events.push_back(BranchEvent(events::kStepFailed,
                                   json{{"operation", name}, {"kind", kind}, {"message", message}, {"final", true}},
                                   f.branch, f.call.pos, f.attempt));
  }
  u.state = vm_.SaveState();
  return Commit(std::move(u));
}

auto Driver::DriveBranches(interp::Outcome& o) -> Result<std::optional<RunReport>> {
  AttemptPool pool;
  std::map<std::string, BranchFlight> flying;
  // A step that stops the run once the others have landed: blocked, or a
  // retry backoff too long to wait here.
  std::optional<std::pair<std::string, json>> park;  // reason, waiting object
  std::vector<store::JournalEvent> park_events;
  int64_t park_at = -1;
  bool vm_stopped = false;  // the VM was interrupted: it runs no more here
  auto stopping = [&] { return options_.stop != nullptr && options_.stop->load(); };

  BranchChildren kids;  // branches at a child call (driver_branch_children.cpp)
  auto launch = [&](BranchFlight f) -> Status {
    auto a = BranchAttempt(f);
    const std::string branch = f.branch;
    const int64_t delay = std::max<int64_t>(0, f.not_before_ms - Now());
    flying[branch] = std::move(f);
    StartAttempt(pool, branch, delay, std::move(a), transports_, clock_);
    return Ok{};
  };

  for (;;) {
    if (o.status == interp::RunStatus::Interrupted) vm_stopped = true;
    const bool in_branches = o.status == interp::RunStatus::Branches || o.status == interp::RunStatus::Interrupted;
    if (auto s = TendBranchChildren(pool, kids); !s) return s.error();
    // A child's turn counts as a step in flight.
    const size_t in_flight = flying.size() + ChildTurns(kids);
    if (!in_branches && in_flight == 0) {
      if (auto s = NoteStoppedBranchWaits(); !s) return s.error();  // driver_branch_waits.cpp
      return std::optional<RunReport>();  // Drive takes `o`
    }
    if (o.status == interp::RunStatus::Branches && !cancel_requested_ && !stopping() && !park &&
        in_flight < kMaxStepsInFlight) {
      auto taken = vm_.TakeBranchSuspensions(kMaxStepsInFlight - in_flight);
      // Effect values drawn on the way may be in the arguments: durable first.
      if (!taken.empty()) {
        if (auto s = CommitEffects(); !s) return s.error();
      }
      for (const auto& s : taken) {
        if (s.reason.kind == interp::SuspendKind::Child) {
          if (auto st = StartBranchChild(s, pool, kids); !st) return st.error();
          continue;
        }
        auto f = BranchCall(s);
        if (!f) return f.error();
        if (auto st = launch(std::move(*f)); !st) return st.error();
      }
      branches_loaded_ = false;
    }
    // Waits (approve, wait, sleep) of fibers: journaled, delivered when they can end
    // (after the loaded steps were taken: a fiber it wakes is not `resent`).
    if (o.status == interp::RunStatus::Branches && !cancel_requested_ && !stopping()) {
      auto woke = SettleBranchWaits();  // driver_branch_waits.cpp
      if (!woke) return woke.error();
      if (*woke) {
        o = vm_.Run();
        continue;
      }
    }
    if (flying.empty() && ChildTurns(kids) == 0) {
      if (park) {
        return StopDriving(Suspend(std::move(park_events), park->first, std::move(park->second), park_at));
      }
      if (in_branches && !cancel_requested_ && !stopping()) {
        if (o.status == interp::RunStatus::Branches && !vm_.BranchWaits().empty()) {
          // Every live fiber waits, on a wait or a child: the waits' object,
          // the waiting children under "also" (driver_branch_children.cpp).
          auto [children, children_wake] = WaitingBranchChildren(kids);
          auto waiting = SuspendAtBranchWaits(std::move(children), children_wake);
          if (!waiting) return waiting.error();
          if (!*waiting) {  // a record that arrived meanwhile was delivered
            o = vm_.Run();
            continue;
          }
          auto ended = PostEndedBranchChildren(pool, kids);
          if (!ended) return ended.error();
          if (!*ended) return waiting;
          continue;  // a child ended meanwhile: its turn is posted
        }
        auto waiting = SuspendOnBranchChildren(pool, kids);
        if (!waiting) return waiting.error();
        if (*waiting) return waiting;
        if (ChildTurns(kids) > 0) continue;  // one ended meanwhile
      }
      return std::optional<RunReport>();  // cancel or stop: Drive decides, `o` is Branches
    }
    std::optional<Posted> p = pool.Next(kCancelPollInterval.count());
    if (auto s = Heartbeat(); !s) return s.error();
    // A cancellation requested meanwhile (ShouldStop reads the store at
    // most every kCancelPollInterval) or a stopping worker: the attempts
    // still waiting out a backoff are not sent, so the run learns of it
    // within that interval, not when the backoff ends. Their fibers stay
    // at their steps, whose failed attempt may have taken effect
    // (ResendBranchesAtCancel).
    if (!cancel_requested_) (void)ShouldStop();
    if (cancel_requested_ || stopping()) pool.Withdraw();
    if (!p) continue;
    if (p->child) {  // a child's turn ended
      if (!in_branches) {  // the run failed a limit meanwhile: nothing to deliver to
        kids.erase(p->branch);
        continue;
      }
      auto delivered = OnBranchChildTurn(*p, pool, kids);
      if (!delivered) return delivered.error();
      if (*delivered && in_branches && !vm_stopped) o = vm_.Run();
      continue;
    }
    auto it = flying.find(p->branch);
    if (it == flying.end()) return Error{fmt::format("internal error: an outcome for branch {} not in flight", p->branch)};
    BranchFlight f = std::move(it->second);
    flying.erase(it);
    if (p->withdrawn) continue;
    if (!in_branches) continue;  // the run failed a limit meanwhile: nothing to deliver to
    const std::string name = StepName(f.call.desc);
    json started_data = StepData(f.call);
    if (f.resent) started_data["resent"] = true;
    auto started = BranchEvent(events::kStepStarted, started_data, f.branch, f.call.pos, f.attempt);
    started.at_ms = p->sent_ms;
    conn::StepOutcome& out = p->out;
    if (out.blocked()) {
      if (!park) {
        const int64_t at = Now() + BlockedDelay(f.call.pos, events::kStepBlocked, f.branch).count();
        json data = StepData(f.call);
        data["message"] = out.message;
        data["retry_at_ms"] = at;
        park_events.push_back(BranchEvent(events::kStepBlocked, std::move(data), f.branch, f.call.pos, f.attempt));
        park = std::make_pair(std::string("blocked"),
                              json{{"kind", "blocked"}, {"step", name}, {"branch", f.branch}, {"message", out.message},
                                   {"wake_at", value::FormatTime(at)}});
        park_at = at;
      }
      continue;  // the fiber stays at its step: sent again when the run resumes
    }
    const auto policy = PolicyOf(module_.steps[f.call.desc], false);
    if (!out.ok() && conn::ShouldRetry(policy, f.attempt, out)) {
      auto delay = conn::BackoffDelay(policy, f.attempt, Uniform01(), out.retry_after);
      const int64_t retry_at = Now() + delay.count();
      store::DurableUpdate u = NotWaiting(RunStatus::Running);
      u.events.push_back(std::move(started));
      u.events.push_back(BranchEvent(events::kStepFailed,
                                     json{{"operation", name}, {"kind", out.error_kind}, {"message", out.message},
                                          {"final", false}, {"retry_in_ms", delay.count()}, {"retry_at_ms", retry_at}},
                                     f.branch, f.call.pos, f.attempt));
      u.state = vm_.SaveState();
      if (auto s = Commit(std::move(u)); !s) return s.error();
      // A cancellation ends a step's retries: the fiber stays at its step,
      // whose failed attempt may have taken effect (ResendBranchesAtCancel).
      if (cancel_requested_) continue;
      if (delay > options_.max_in_process_backoff) {
        if (!park) {
          park = std::make_pair(std::string("retry"), json{{"kind", "retry"}, {"step", name}, {"branch", f.branch},
                                                           {"attempt", f.attempt + 1},
                                                           {"wake_at", value::FormatTime(retry_at)}});
          park_at = retry_at;
        }
        continue;
      }
      f.attempt += 1;
      f.resent = false;
      f.not_before_ms = retry_at;
      if (auto s = launch(std::move(f)); !s) return s.error();
      continue;
    }
    // The step's end: delivered, then committed with the state after it.
    if (auto st = FinishBranchStep(f, std::move(started), out); !st) return st.error();
    // The fiber's pure code up to its next step, its `compensate` first.
    if (!vm_stopped) o = vm_.Run();
  }
}


auto Driver::UnsettledBranchStep(const interp::BranchSuspension& s, const std::vector<store::JournalEvent>& journal,
                                 bool after_crash) -> Result<std::optional<BranchFlight>> {
  using Unsettled = std::optional<BranchFlight>;
  BranchFlight f;
  f.branch = s.branch;
  f.call = StepCall{s.step, s.reason.step, json(), false, fmt::format("{}:{}:{}", run_id_, s.branch, s.step), {}};
  f.call.args = value::ToJson(s.reason.args, &f.call.secrets);
  const store::JournalEvent* last = nullptr;
  bool failed = false;  // an attempt failed retryably: it may have taken effect
  for (const auto& e : journal) {
    if (e.branch != s.branch || e.step != s.step) continue;
    if (e.type != events::kStepStarted && e.type != events::kStepFailed && e.type != events::kStepBlocked &&
        e.type != events::kStepCompleted) {
      continue;
    }
    if (e.type == events::kStepStarted && ParseData(e).value("operation", "") != StepName(s.reason.step)) {
      return Error{fmt::format("run '{}': the journal records '{}' at step {} of branch {}, which does not match "
                               "the program",
                               run_id_, ParseData(e).value("operation", ""), s.step, s.branch)};
    }
    last = &e;
    if (e.type == events::kStepFailed) failed = true;
  }
  if (last == nullptr) {
    // Never journaled: in flight only if the dead driver got as far as
    // sending it, which it did not when the fiber drew effect values on the
    // way that were never journaled (CommitEffects comes before sends).
    if (!after_crash || log_.HasNewOf(s.branch)) return Unsettled();
    f.resent = true;
    return Unsettled(std::move(f));
  }
  f.attempt = static_cast<int>(last->attempt);
  if (last->type == events::kStepStarted) {
    f.resent = true;  // a cancellation's resend that did not come back
  } else if (last->type == events::kStepFailed) {
    if (ParseData(*last).value("final", true)) return Unsettled();
    f.attempt += 1;
  } else if (last->type == events::kStepBlocked) {
    // Not sent; an earlier attempt of it may have been.
    if (!failed && !after_crash) return Unsettled();
  } else {
    return Unsettled();  // completed
  }
  return Unsettled(std::move(f));
}

// The steps in flight are all sent at once and their ends taken as they
// arrive, as in DriveBranches, but nothing is retried (the attempt is
// final either way), nothing new is sent (a fiber that goes on reaches its
// next step and stays there) and the steps are journaled before they are
// sent (`step_started`, `resent`): a canceller that dies leaves them in
// flight for the next one, which sends them again, and no other.
auto Driver::ResendBranchesAtCancel() -> Status {
  const bool after_crash = maybe_in_flight_ && commits_ == 0;
  maybe_in_flight_ = false;
  if (!vm_.in_branches()) return Ok{};
  auto journal = store_.Journal(run_id_);
  if (!journal) return journal.error();
  vm_.TakeBranchSuspensions(std::numeric_limits<size_t>::max());  // every one is now in flight or left
  std::vector<BranchFlight> resend;
  for (const auto& s : vm_.BranchesInFlight()) {
    if (s.reason.kind == interp::SuspendKind::Child) continue;  // a child run: Cancel() cancels it
    // Without a `compensate` the outcome changes nothing: there is nothing to undo.
    if (module_.steps[s.reason.step].compensate_step == bytecode::kNone) continue;
    auto f = UnsettledBranchStep(s, *journal, after_crash);
    if (!f) return f.error();
    if (*f) resend.push_back(std::move(**f));
  }
  if (resend.empty()) return Ok{};
  store::DurableUpdate marked;
  for (const auto& f : resend) {
    json data = StepData(f.call);
    data["resent"] = true;
    marked.events.push_back(BranchEvent(events::kStepStarted, std::move(data), f.branch, f.call.pos, f.attempt));
  }
  if (auto s = Commit(std::move(marked)); !s) return s;
  AttemptPool pool;
  std::map<std::string, BranchFlight> flying;
  for (auto& f : resend) {
    f.resent = true;  // journaled as started: its previous send may still be at work
    auto a = BranchAttempt(f);
    const std::string branch = f.branch;
    flying[branch] = std::move(f);
    StartAttempt(pool, branch, 0, std::move(a), transports_, clock_);
  }
  while (!flying.empty()) {
    std::optional<Posted> p = pool.Next(kCancelPollInterval.count());
    if (auto s = Heartbeat(); !s) return s;
    if (!p) continue;
    auto it = flying.find(p->branch);
    if (it == flying.end()) return Error{fmt::format("internal error: an outcome for branch {} not in flight", p->branch)};
    BranchFlight f = std::move(it->second);
    flying.erase(it);
    if (p->out.blocked()) {
      // Not sent now: nothing is known to undo. Journaled, so that it is
      // no longer in flight for a later canceller.
      json data = StepData(f.call);
      data["message"] = p->out.message;
      store::DurableUpdate u;
      u.events.push_back(BranchEvent(events::kStepBlocked, std::move(data), f.branch, f.call.pos, f.attempt));
      if (auto s = Commit(std::move(u)); !s) return s;
      continue;
    }
    // Its end, final either way; then its `compensate` is registered.
    if (auto s = FinishBranchStep(f, std::nullopt, p->out); !s) return s;
    interp::Outcome o = vm_.Run(kCancelInstructionBudget);
    if (o.status == interp::RunStatus::Interrupted) return Interrupted();
  }
  return Ok{};
}

}  // namespace flow::engine
