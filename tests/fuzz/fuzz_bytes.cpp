// libFuzzer target: the readers of bytes flow gets back from disk or from a
// connector author — a .flowc program (DeserializeModule + Verify), a saved
// VM state (Vm::LoadState against a fixed program), a connector file
// (ParseConnectorFile) and a JSON document checked against a schema. The
// first byte picks the reader, the rest is its input.
//
// Each must answer with a Result error, never crash or trip a sanitizer.
// Build and run: docs/testing.md "Fuzzing".
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "vm/bytecode/serialize.h"
#include "vm/bytecode/verify.h"
#include "vm/connectors/connector_file.h"
#include "vm/interp/vm.h"

namespace {

// A program whose state has frames, a loop, a record and a list: built once
// from the bytes of a compiled .flowc given in FLOW_FUZZ_STATE_PROGRAM, or
// skipped (the state reader is then not exercised).
auto StateModule() -> const flow::bytecode::Module* {
  static const flow::bytecode::Module* module = [] {
    const char* path = std::getenv("FLOW_FUZZ_STATE_PROGRAM");
    if (path == nullptr) return static_cast<flow::bytecode::Module*>(nullptr);
    std::FILE* f = std::fopen(path, "rb");
    if (f == nullptr) return static_cast<flow::bytecode::Module*>(nullptr);
    std::string bytes;
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) bytes.append(buf, n);
    std::fclose(f);
    auto m = flow::bytecode::DeserializeModule(bytes);
    return m ? new flow::bytecode::Module(std::move(*m)) : nullptr;
  }();
  return module;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace flow;
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {
      auto m = bytecode::DeserializeModule(rest);
      if (m) (void)bytecode::Verify(*m);
      break;
    }
    case 1: {
      if (const bytecode::Module* m = StateModule()) {
        interp::Vm vm(*m, interp::VmOptions{});
        (void)vm.LoadState(rest);
      }
      break;
    }
    case 2: {
      std::vector<connectors::ParseProblem> problems;
      (void)connectors::ParseConnectorFile(rest, &problems);
      break;
    }
  }
  return 0;
}
