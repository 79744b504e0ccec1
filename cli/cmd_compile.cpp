// `flow compile FILE -o OUT.flowc`
//
// Checks and lowers FILE and writes the serialised Module (magic, version,
// sanity block, SHA-256, payload: vm/bytecode/serialize.h) with its
// connector files embedded, so the .flowc runs without them. Exit 0, 1 when
// the program has errors (diagnostics on stderr, as `flow check`), 2 when
// FILE cannot be read or OUT cannot be written.
#include <cstdio>
#include <fstream>
#include <memory>

#include "cli/command.h"
#include "cli/program_loader.h"

namespace flow::cli {
namespace {

struct CompileOptions {
  std::string file;
  std::string out;
};

auto RunCompile(const CompileOptions& o) -> int {
  int exit_code = kExitUsage;
  auto program = LoadProgram(o.file, exit_code, kExitFailed);
  if (!program) return exit_code;
  std::ofstream out(o.out, std::ios::binary | std::ios::trunc);
  out.write(program->bytes.data(), static_cast<std::streamsize>(program->bytes.size()));
  out.close();
  if (!out) {
    std::fprintf(stderr, "flow: cannot write '%s'\n", o.out.c_str());
    return kExitUsage;
  }
  return kExitOk;
}

}  // namespace

auto RegisterCompile(CLI::App& app) -> Command {
  auto o = std::make_shared<CompileOptions>();
  CLI::App* sub = app.add_subcommand("compile", "Compile a .flow file to a self-contained .flowc bytecode file");
  sub->add_option("FILE", o->file, "The .flow file")->required();
  sub->add_option("-o,--output", o->out, "The .flowc file to write")->required();
  return Command{sub, [o] { return RunCompile(*o); }};
}

}  // namespace flow::cli
