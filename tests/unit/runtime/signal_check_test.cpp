// engine::CheckSignal (vm/engine/signal_check.h): what `flow signal` checks
// against the run's stored program before it records a signal. The CLI's
// wording of each verdict is in the golden tests (tests/run/signals/).
#include <gtest/gtest.h>

#include "vm/bytecode/builder.h"
#include "vm/engine/signal_check.h"

namespace flow::engine {
namespace {

using bytecode::FunctionKind;
using bytecode::Op;
using nlohmann::json;
using Kind = SignalVerdict::Kind;

// Workflow `w` with one Wait per entry of `waits` ({event, type}: "" is a
// computed event, a kNone type any JSON), and workflow `other` waiting for
// "elsewhere". Types: T0 int, T1 { level: int }.
auto Program(const std::vector<std::pair<std::string, int64_t>>& waits) -> bytecode::Module {
  bytecode::ModuleBuilder mb("p.flow");
  uint32_t t_int = mb.ScalarType(bytecode::TypeKind::Int);
  mb.Type(bytecode::TypeDesc{bytecode::TypeKind::Record, 0, {{mb.Name("level"), t_int}}, {}});
  for (const char* name : {"w", "other"}) {
    uint32_t fn = mb.DeclareFunction(name, 0, FunctionKind::Workflow);
    bytecode::FunctionBuilder f(mb, fn);
    auto add = [&](const std::string& event, int64_t type) {
      bytecode::WaitDesc d;
      d.function = fn;
      d.pc = f.pc();
      f.ABC(Op::Wait, 0, 1);
      d.event = event;
      d.computed = event.empty();
      d.type = type;
      mb.Wait(d);
    };
    if (std::string(name) == "w") {
      for (const auto& [event, type] : waits) add(event, type);
    } else {
      add("elsewhere", bytecode::kNone);
    }
    f.ABC(Op::Ret, 0);
    f.Finish(3);
  }
  return std::move(mb).Finish();
}

TEST(SignalCheck, AnEventNoWaitOfTheWorkflowNamesIsUnknown) {
  auto m = Program({{"ack", bytecode::kNone}, {"escalated", bytecode::kNone}, {"ack", bytecode::kNone}});
  SignalVerdict v = CheckSignal(m, "w", "acked", json(1));
  EXPECT_EQ(v.kind, Kind::UnknownEvent);
  EXPECT_EQ(v.events, (std::vector<std::string>{"ack", "escalated"}));
  // Another workflow's wait does not count: that is another run's program.
  EXPECT_EQ(CheckSignal(m, "w", "elsewhere", json()).kind, Kind::UnknownEvent);
  EXPECT_EQ(CheckSignal(m, "w", "ack", json()).kind, Kind::Accepted);
  auto none = Program({});
  EXPECT_EQ(CheckSignal(none, "w", "ack", json()).kind, Kind::UnknownEvent);
  EXPECT_TRUE(CheckSignal(none, "w", "ack", json()).events.empty());
}

TEST(SignalCheck, APayloadMustFitOneTypeOfTheWaitsOnTheEvent) {
  auto m = Program({{"ack", 1}, {"ack", 0}, {"plain", bytecode::kNone}});
  SignalVerdict bad = CheckSignal(m, "w", "ack", json{{"level", "high"}});
  EXPECT_EQ(bad.kind, Kind::PayloadMismatch);
  EXPECT_EQ(bad.mismatch, "$.level: expected int, got string");
  EXPECT_EQ(bad.types, 2u);
  EXPECT_EQ(CheckSignal(m, "w", "ack", json{{"level", 3}, {"extra", true}}).kind, Kind::Accepted);
  EXPECT_EQ(CheckSignal(m, "w", "ack", json(7)).kind, Kind::Accepted);
  EXPECT_EQ(CheckSignal(m, "w", "ack", json()).kind, Kind::PayloadMismatch);
  // What the run's own `as int` refuses although it looks like an int.
  EXPECT_EQ(CheckSignal(m, "w", "ack", json(uint64_t{1} << 63)).kind, Kind::PayloadMismatch);
  EXPECT_EQ(CheckSignal(m, "w", "plain", json::array({1, "x"})).kind, Kind::Accepted);
}

TEST(SignalCheck, AComputedEventAcceptsAnyNameAndJoinsTheCandidates) {
  auto m = Program({{"ack", bytecode::kNone}, {"", 0}});
  EXPECT_EQ(CheckSignal(m, "w", "ack-42", json(5)).kind, Kind::Accepted);
  EXPECT_EQ(CheckSignal(m, "w", "ack-42", json("x")).kind, Kind::PayloadMismatch);
  EXPECT_EQ(CheckSignal(m, "w", "ack", json("x")).kind, Kind::Accepted);  // the plain "ack" wait takes any JSON
}

TEST(SignalCheck, AProgramWithoutAWaitTableAcceptsEverything) {
  auto m = Program({{"ack", 0}});
  m.waits.clear();
  m.waits_known = false;
  EXPECT_EQ(CheckSignal(m, "w", "anything", json("x")).kind, Kind::Accepted);
}

}  // namespace
}  // namespace flow::engine
