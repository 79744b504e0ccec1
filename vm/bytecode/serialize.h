// The binary form of a Module: `.flowc` files and the `programs` table.
//
//   magic        8 bytes  7F 'F' 'L' 'O' 'W' 'C' '\r' '\n'  (the CR LF
//                         catches text-mode mangling, as PNG's magic does)
//   version      u32      kBytecodeFormatVersion
//   sanity       sizeof(Instr), sizeof(int64), sizeof(double) as u8 each,
//                u64 0x0102030405060708 (byte order), f64 370.5 (float
//                format), u64 EncodeABC(Move, 1, 2, 3) (instruction layout)
//                -- Lua's lundump.c checks the same things
//   hash         64 ASCII hex chars: SHA-256 of the payload
//   length       u64      payload bytes
//   payload      the module's vectors (see serialize.cpp)
//
// Every mismatch has its own one-line message; nothing in a truncated or
// corrupt file can crash the reader, and a decoded module is verified
// (verify.h) before it is returned.
#pragma once

#include <string>
#include <string_view>

#include "vm/base/result.h"
#include "vm/bytecode/module.h"

namespace flow::bytecode {

// The whole file image of `module`, in its format_version: a module read
// from an older file is written back as it was (its positions as lines
// only, before version 3), so its hash is unchanged.
auto SerializeModule(const Module& module) -> std::string;

// The content address of `module`: SHA-256 hex of its payload in its
// format_version. Equal modules have equal hashes, whatever wrote them.
auto ModuleHash(const Module& module) -> std::string;

// The content address recorded in a file image, without decoding it; an
// Error when the header is malformed.
auto ReadModuleHash(std::string_view bytes) -> Result<std::string>;

// Decodes and verifies a file image.
auto DeserializeModule(std::string_view bytes) -> Result<Module>;

}  // namespace flow::bytecode
