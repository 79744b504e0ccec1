// Validating a workflow's JSON input against its parameter types before a
// run is created (SPEC §5: invalid input is exit 2 and writes nothing).
//
// The messages speak flow, not JSON Schema, because the user wrote flow
// types: "$.items[1].qty: expected int, got string", "$.customer: missing",
// "$.plan: expected "free" | "pro", got "gold"". An optional parameter or
// field may be absent or null.
//
// Misspellings are errors, with a did-you-mean: a key that names no
// parameter of the workflow ("$.custmer: the workflow has no parameter
// 'custmer'; did you mean 'customer'?"), and, inside a record, a key that is
// a misspelling of one of its fields the input leaves out. Other extra keys
// inside records are allowed (width subtyping: a customer record from a CRM
// may carry more than the workflow reads). A duration or time that does not
// parse names the accepted forms.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "vm/base/result.h"
#include "vm/bytecode/module.h"

namespace flow::engine {

// OK when `input` (a JSON object of the parameters by name) fits function
// `fn` of the verified `module`; otherwise the first problem, path first.
auto ValidateInput(const bytecode::Module& module, uint32_t fn, const nlohmann::json& input) -> Status;

// OK when the JSON value `j` fits type `type` of the verified `module`
// (the rules above); otherwise the first problem, as "<path>...: expected T,
// got U" with `path` ("$" at the top) leading.
auto CheckJsonType(const bytecode::Module& module, uint32_t type, const nlohmann::json& j, const std::string& path)
    -> Status;

// The flow spelling of a type descriptor: int, [string], { id: string }, T?.
auto FlowTypeName(const bytecode::Module& module, uint32_t type) -> std::string;

}  // namespace flow::engine
