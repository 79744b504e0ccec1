// Fuzz target: the whole front end on arbitrary .flow text — parse, check,
// render the diagnostics, and for a program without errors lower it to
// bytecode, verify it and round-trip it through the .flowc format. Every
// `connector` declaration loads the onboarding example's billing connector,
// so step calls are checked against a real schema.
//
// Built with GCC, ASan and UBSan (-DFLOW_SANITIZE=ON) and linked with
// libFuzzer's driver, which then mutates the seeds without coverage
// feedback: Clang cannot compile the ANTLR runtime headers
// (docs/testing.md "Fuzzing"). A crash, a sanitizer report, or a
// FLOW_CHECK failure (bytecode the verifier rejects, a round trip that
// changes the module) is a finding.
#include <cstdint>
#include <string>

#include "compiler/check/check.h"
#include "compiler/codegen/lower.h"
#include "compiler/diag/diagnostics.h"
#include "compiler/parse/parse.h"
#include "compiler/schema/connector_types.h"
#include "compiler/source/source.h"
#include "vm/base/check.h"
#include "vm/bytecode/serialize.h"
#include "vm/bytecode/verify.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace flow;
  SourceManager sources;
  Diagnostics diags;
  FileId id = sources.Add("fuzz.flow", std::string(reinterpret_cast<const char*>(data), size));
  const SourceFile& file = sources.file(id);
  check::CheckInput input;
  input.ast = parse::ParseFile(file, id, diags);
  for (const ast::ConnectorDecl& decl : input.ast.connectors) {
    input.declared.push_back(schema::LoadConnector(FLOW_SOURCE_DIR "/examples/onboarding/billing.json",
                                                   decl.path_range, sources, input.types, diags, decl.name));
  }
  input.builtins = schema::BuiltinConnectors(input.types);
  input.source_text = file.text();
  auto program = check::Check(std::move(input), diags);
  (void)RenderText(diags, sources);
  (void)RenderJson(diags, sources);
  if (!program || diags.has_errors()) return 0;
  bytecode::Module module = codegen::Lower(*program, &file);
  auto verified = bytecode::Verify(module);
  FLOW_CHECK(verified.ok(), "codegen produced bytecode the verifier rejects");
  std::string bytes = bytecode::SerializeModule(module);
  auto back = bytecode::DeserializeModule(bytes);
  FLOW_CHECK(back.ok(), "a serialized module does not deserialize");
  FLOW_CHECK(bytecode::SerializeModule(*back) == bytes, "the .flowc round trip changed the module");
  return 0;
}
