#include "compiler/driver/compile.h"

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "compiler/check/check.h"
#include "compiler/codegen/lower.h"
#include "compiler/parse/parse.h"
#include "compiler/schema/connector_types.h"
#include "vm/bytecode/serialize.h"

namespace flow {
namespace {

auto SecondsSince(std::chrono::steady_clock::time_point start) -> double {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// CheckLoaded, with the built-in connectors from `builtins` when not empty.
auto CheckWith(FileId id, SourceManager& sources, Diagnostics& diags, PhaseTimings* timings,
               const std::vector<std::string>& builtins) -> std::unique_ptr<check::CheckedProgram>;

}  // namespace

auto CheckFile(const std::string& path, SourceManager& sources, Diagnostics& diags,
               PhaseTimings* timings) -> Result<std::unique_ptr<check::CheckedProgram>> {
  auto load_start = std::chrono::steady_clock::now();
  Result<FileId> loaded = sources.Load(path);
  if (!loaded.ok()) return loaded.error();
  double load_seconds = SecondsSince(load_start);
  auto program = CheckLoaded(*loaded, sources, diags, timings);
  if (timings != nullptr) timings->parse += load_seconds;
  return program;
}

auto CheckLoaded(FileId id, SourceManager& sources, Diagnostics& diags, PhaseTimings* timings)
    -> std::unique_ptr<check::CheckedProgram> {
  return CheckWith(id, sources, diags, timings, {});
}

namespace {

auto CheckWith(FileId id, SourceManager& sources, Diagnostics& diags, PhaseTimings* timings,
               const std::vector<std::string>& builtins) -> std::unique_ptr<check::CheckedProgram> {
  auto parse_start = std::chrono::steady_clock::now();
  // SourceManager keeps files behind stable pointers, so this reference (and
  // the text view handed to the checker) survives the connector loads below.
  const SourceFile& file = sources.file(id);
  const std::string& path = file.path();
  int errors_before = diags.error_count();
  ast::Ast ast = parse::ParseFile(file, id, diags);
  bool parsed_cleanly = diags.error_count() == errors_before;
  auto check_start = std::chrono::steady_clock::now();
  if (timings != nullptr) timings->parse = SecondsSince(parse_start);

  check::CheckInput input;
  // Connector paths are relative to the .flow file's folder (SPEC §2.3), so
  // `flow check` works from any working directory.
  std::filesystem::path folder = std::filesystem::path(path).parent_path();
  for (const ast::ConnectorDecl& decl : ast.connectors) {
    std::string resolved = (folder / decl.path).lexically_normal().string();
    input.declared.push_back(
        schema::LoadConnector(resolved, decl.path_range, sources, input.types, diags));
  }
  input.builtins = builtins.empty() ? schema::BuiltinConnectors(input.types)
                                    : schema::BuiltinConnectors(input.types, builtins);

  bool has_workflow = std::any_of(ast.functions.begin(), ast.functions.end(),
                                  [](const ast::FunctionDecl& f) { return f.is_workflow; });
  // After a syntax error the workflow may be the part that failed to parse:
  // the warning would only add noise then.
  if (!has_workflow && parsed_cleanly) {
    diags.Report(DiagKind::NoWorkflow, SourceRange{id, 0, 0}, path);
  }
  input.ast = std::move(ast);
  input.source_text = file.text();
  auto program = check::Check(std::move(input), diags);
  if (timings != nullptr) timings->check = SecondsSince(check_start);
  return program;
}

}  // namespace

auto CompileFile(const std::string& path, SourceManager& sources, Diagnostics& diags,
                 const CompileOptions& options) -> Result<std::unique_ptr<CompiledProgram>> {
  Result<FileId> loaded = sources.Load(path);
  if (!loaded.ok()) return loaded.error();
  auto checked = CheckWith(*loaded, sources, diags, nullptr, options.builtin_connectors);
  if (diags.has_errors() || !checked) return std::unique_ptr<CompiledProgram>();
  auto out = std::make_unique<CompiledProgram>();
  out->module = codegen::Lower(*checked, &sources.file(*loaded));
  for (bytecode::ConnectorDesc& c : out->module.connectors) {
    if (c.path.empty()) continue;  // built-in
    std::error_code ec;
    auto absolute = std::filesystem::absolute(c.path, ec);
    if (!ec) c.path = absolute.lexically_normal().string();
  }
  out->bytes = bytecode::SerializeModule(out->module);
  out->file = *loaded;
  return out;
}

}  // namespace flow
