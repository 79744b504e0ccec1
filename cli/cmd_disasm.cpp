// `flow disasm FILE.flow|FILE.flowc`
//
// Prints bytecode::Disassemble() of the program on stdout: each instruction
// with its source position `[line:col]` from the position table (the place a
// run-time error raised there names). For a .flow file
// each run of instructions from one source line is preceded by that line,
// as a comment: `;   12 | let x = price(plan, seats)`. A .flowc has no
// source, so its listing is Disassemble() as is. Exit codes as `compile`.
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/program_loader.h"
#include "vm/bytecode/disasm.h"

namespace flow::cli {
namespace {

auto SplitLines(const std::string& text) -> std::vector<std::string> {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The listing with source lines interleaved before each function's
// instructions whenever the line changes.
auto Interleave(const bytecode::Module& m, const std::string& listing, const std::string& source) -> std::string {
  const std::vector<std::string> src = SplitLines(source);
  std::string out;
  int fn = -1;
  size_t pc = 0;
  uint32_t last = 0;
  for (const std::string& line : SplitLines(listing)) {
    if (line.find(" (arity ") != std::string::npos && line.find(" registers)") != std::string::npos &&
        fn + 1 < static_cast<int>(m.functions.size())) {
      ++fn;
      pc = 0;
      last = 0;
    } else if (fn >= 0 && pc < m.functions[fn].code.size() && !line.empty()) {
      uint32_t l = bytecode::PositionAt(m.functions[fn], pc).line;
      if (l != 0 && l != last && l <= src.size()) out += "; " + std::to_string(l) + " | " + src[l - 1] + "\n";
      last = l;
      ++pc;
    }
    out += line + "\n";
  }
  return out;
}

auto RunDisasm(const std::string& file) -> int {
  int exit_code = kExitUsage;
  auto program = LoadProgram(file, exit_code, kExitFailed);
  if (!program) return exit_code;
  std::string listing = bytecode::Disassemble(program->module);
  if (!program->source.empty()) listing = Interleave(program->module, listing, program->source);
  std::fwrite(listing.data(), 1, listing.size(), stdout);
  return kExitOk;
}

}  // namespace

auto RegisterDisasm(CLI::App& app) -> Command {
  auto file = std::make_shared<std::string>();
  CLI::App* sub = app.add_subcommand("disasm", "Print the bytecode of a .flow or .flowc file");
  sub->add_option("FILE", *file, "The .flow or .flowc file")->required();
  return Command{sub, [file] { return RunDisasm(*file); }};
}

}  // namespace flow::cli
