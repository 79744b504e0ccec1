// See signal_check.h.
#include "vm/engine/signal_check.h"

#include <algorithm>

#include "vm/engine/input_check.h"
#include "vm/value/convert.h"

namespace flow::engine {

namespace {

// The waits a run of workflow function `fn` can reach: its own and those of
// helper functions (fns cannot wait; other workflows are other runs).
auto Reachable(const bytecode::Module& m, int fn, const bytecode::WaitDesc& w) -> bool {
  return static_cast<int>(w.function) == fn || m.functions[w.function].kind == bytecode::FunctionKind::Helper;
}

// Why `payload` does not fit type `type` as `as T` checks it, or "".
auto Misfit(const bytecode::Module& m, uint32_t type, const nlohmann::json& payload) -> std::string {
  // The flow-worded check names the path as the user wrote the type; the
  // run's own conversion has the last word on the few cases it alone
  // refuses (an integer beyond int64, nesting past the value depth limit).
  if (auto s = CheckJsonType(m, type, payload, "$"); !s) return s.error().message;
  if (auto v = value::FromJson(payload, m, type); !v) return v.error().message;
  return "";
}

}  // namespace

auto CheckSignal(const bytecode::Module& m, const std::string& workflow, const std::string& event,
                 const nlohmann::json& payload) -> SignalVerdict {
  SignalVerdict verdict;
  const int fn = m.FindFunction(workflow);
  if (!m.waits_known || fn < 0) return verdict;
  std::vector<int64_t> types;  // distinct `as T` of the candidate waits
  bool any_payload = false;    // a candidate without `as T`
  bool candidate = false;
  for (const bytecode::WaitDesc& w : m.waits) {
    if (!Reachable(m, fn, w)) continue;
    if (!w.computed && std::find(verdict.events.begin(), verdict.events.end(), w.event) == verdict.events.end()) {
      verdict.events.push_back(w.event);
    }
    if (!w.computed && w.event != event) continue;
    candidate = true;
    if (w.type == bytecode::kNone) any_payload = true;
    else if (std::find(types.begin(), types.end(), w.type) == types.end()) types.push_back(w.type);
  }
  if (!candidate) {
    verdict.kind = SignalVerdict::Kind::UnknownEvent;
    return verdict;
  }
  verdict.events.clear();
  if (any_payload) return verdict;
  std::string first;
  for (int64_t t : types) {
    std::string why = Misfit(m, static_cast<uint32_t>(t), payload);
    if (why.empty()) return verdict;
    if (first.empty()) first = why;
  }
  verdict.kind = SignalVerdict::Kind::PayloadMismatch;
  verdict.mismatch = first;
  verdict.types = types.size();
  return verdict;
}

}  // namespace flow::engine
