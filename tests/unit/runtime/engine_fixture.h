// The fixture the engine tests share (engine_test.cpp, engine_exactly_once_test.cpp):
// real programs compiled from .flow text, a real SQLite store in a temp
// folder, the real exec test tool (tests/servers/exec_tool.py) and the real
// HTTP test server (tests/servers/http_server.py, one per suite, port read
// from its first line).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "compiler/driver/compile.h"
#include "tests/unit/runtime/test_http_server.h"
#include "vm/bytecode/serialize.h"
#include "vm/connectors/http_client.h"
#include "vm/connectors/transport.h"
#include "vm/engine/events.h"
#include "vm/engine/run_driver.h"
#include "vm/store/store.h"

namespace flow::engine {

namespace fs = std::filesystem;
using nlohmann::json;

// The exec test tool as connector "tool" (echo, undo, flaky, fail).
inline auto ToolConnector() -> std::string {
  std::string tool = std::string(FLOW_SOURCE_DIR) + "/tests/servers/exec_tool.py";
  return R"({"connector": "tool", "transport": {"kind": "exec", "command": ["python3", ")" + tool + R"("]},
    "operations": {
      "echo": {"args": ["echo"], "idempotent": true,
        "input": {"type": "object", "properties": {"x": {"type": "string"}}},
        "output": {"type": "object", "required": ["key"], "properties": {"key": {"type": "string"}}}},
      "undo": {"args": ["echo"], "idempotent": true,
        "input": {"type": "object", "properties": {"x": {"type": "string"}}},
        "output": {"type": "object"}},
      "flaky": {"args": ["flaky"], "idempotent": true,
        "input": {"type": "object", "properties": {"times": {"type": "integer"}}},
        "output": {"type": "object", "required": ["attempts"], "properties": {"attempts": {"type": "integer"}}}},
      "fail": {"args": ["fail"], "idempotent": true,
        "input": {"type": "object", "properties": {"message": {"type": "string"}}},
        "output": {"type": "object"}}}})";
}

class EngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_.Start();
    port_ = server_.port();
  }
  static void TearDownTestSuite() { server_.Stop(); }

  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("flow_engine_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    Write("tool.json", ToolConnector());
    Write("billing.json", R"({"connector": "billing",
      "transport": {"kind": "http", "base_url": "http://127.0.0.1:)" + std::to_string(port_) + R"("},
      "operations": {"charge": {"http": {"method": "POST", "path": "/customers/{customer}/charges"},
        "idempotent": true,
        "input": {"type": "object", "required": ["customer", "amount"],
          "properties": {"customer": {"type": "string"}, "amount": {"type": "integer"}}},
        "output": {"type": "object", "required": ["id", "amount"],
          "properties": {"id": {"type": "string"}, "amount": {"type": "integer"}}}}}})");
    Http("POST", "/_reset", json::object());
    auto s = store::OpenSqliteStore((dir_ / "flow.db").string());
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  void Write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }

  // The engine's Runtime over this test's store, with the real transports.
  auto Rt(EngineOptions o = {}) -> Runtime {
    Runtime runtime{*store_, transports_};
    runtime.options = std::move(o);
    return runtime;
  }

  // Compiles `source` (in the temp folder, next to the connectors).
  auto Compile(const std::string& source) -> std::string {
    Write("w.flow", source);
    SourceManager sources;
    Diagnostics diags;
    auto compiled = CompileFile((dir_ / "w.flow").string(), sources, diags);
    EXPECT_TRUE(compiled.ok() && *compiled) << RenderText(diags, sources);
    if (!compiled.ok() || !*compiled) return "";
    return (*compiled)->bytes;
  }

  auto Start(const std::string& source, json input, const std::string& id, EngineOptions o = {}) -> Result<RunReport> {
    std::string bytes = Compile(source);
    if (bytes.empty()) return Error{"compile failed"};
    auto module = bytecode::DeserializeModule(bytes);
    std::string wf;
    for (const auto& f : module->functions) {
      if (f.kind == bytecode::FunctionKind::Workflow) wf = f.name;
    }
    return StartRun(Rt(o), bytes, wf, input, id);
  }

  // Starts workflow `w` of `bytes` as run `id` on a thread of its own, with
  // its own store connection, as another process would; `report` holds its
  // end once the thread is joined.
  auto StartInThread(const std::string& bytes, const std::string& id, Result<RunReport>& report) -> std::thread {
    return std::thread([this, bytes, id, &report] {
      auto own = store::OpenSqliteStore((dir_ / "flow.db").string());
      if (!own.ok()) {
        report = own.error();
        return;
      }
      Runtime runtime{**own, transports_};
      report = StartRun(runtime, bytes, "w", json::object(), id);
    });
  }

  // Records an approval of run `id`'s pending `approve`, as `flow approve`
  // does before it drives the run (the run is not driven here).
  void RecordApproval(const std::string& id) {
    store::DurableUpdate u;
    u.run_id = id;
    store::JournalEvent e;
    e.type = std::string(events::kApprovalDecided);
    e.data = R"({"approved": true, "by": "ann", "comment": "", "at": "2026-01-15T09:30:00Z"})";
    u.events.push_back(e);
    ASSERT_TRUE(store_->Commit(u).ok());
  }

  auto Journal(const std::string& id) -> std::vector<store::JournalEvent> {
    auto j = store_->Journal(id);
    EXPECT_TRUE(j.ok());
    return j.ok() ? *j : std::vector<store::JournalEvent>{};
  }
  auto Types(const std::string& id) -> std::vector<std::string> {
    std::vector<std::string> out;
    for (const auto& e : Journal(id)) out.push_back(e.type);
    return out;
  }
  auto Invocations() -> std::vector<std::string> {
    std::ifstream in(dir_ / "invocations.log");
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    return lines;
  }

  static auto Http(const std::string& method, const std::string& path, const json& body) -> json {
    connectors::HttpRequest request{method, "http://127.0.0.1:" + std::to_string(port_) + path,
                                    {"Content-Type: application/json"},
                                    body.is_null() ? std::nullopt : std::optional(body.dump()),
                                    std::chrono::milliseconds(5000)};
    auto result = connectors::SendHttp(request);
    if (!std::holds_alternative<connectors::HttpResponse>(result)) return nullptr;
    return json::parse(std::get<connectors::HttpResponse>(result).body, nullptr, false);
  }
  static auto RequestKeys() -> std::vector<std::string> {
    std::vector<std::string> keys;
    for (const auto& r : Http("GET", "/_requests", nullptr)) {
      for (const auto& [name, value] : r["headers"].items()) {
        if (name == "Idempotency-Key" || name == "idempotency-key") keys.push_back(value.get<std::string>());
      }
    }
    return keys;
  }

  static inline flow::testing::TestHttpServer server_;
  static inline int port_ = 0;
  fs::path dir_;
  std::unique_ptr<store::Store> store_;
  connectors::TransportRegistry transports_ = connectors::DefaultTransports();
};

}  // namespace flow::engine
