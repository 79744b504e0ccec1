// Codegen: the checked program lowered to a bytecode Module (STYLE §2:
// `auto Lower(const CheckedProgram&) -> Module`).
//
// Function i of the module is ast.functions[i]; a function's locals (params
// first, each let/var/for/catch its own slot, as the checker numbered them)
// are its registers 0..n-1, and temporaries live above them. Expressions
// are folded where all operands are literals (never folding an overflow or
// a division by zero: those stay run-time errors). Step clauses become step
// descriptors; a `compensate` clause's arguments are evaluated right after
// the step completes and registered with the Compensate instruction.
// docs/bytecode.md ("Lowering") lists the shapes codegen emits.
#pragma once

#include "compiler/check/checked_program.h"
#include "compiler/diag/diagnostics.h"
#include "compiler/source/source.h"
#include "vm/bytecode/module.h"

namespace flow::codegen {

// Lowers a complete program (the checker reported no errors). `source`, when given, fills the line tables; without
// it every line is 0. Every connector's text, as the checker read it, is
// embedded in the module (ConnectorDesc::text), built-in ones included.
// compiler/driver's CompileFile is the whole pipeline around this.
auto Lower(const check::CheckedProgram& program, const SourceFile* source = nullptr) -> bytecode::Module;

}  // namespace flow::codegen
