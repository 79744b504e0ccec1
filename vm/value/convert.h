// Values to and from JSON, and the text of a value.
//
// JSON is the language of the outside world: workflow input, results,
// connector requests and responses, `to_json`/`parse_json`, `as T`. Typed
// conversion (FromJson) follows a run-time type descriptor from the module
// and reports the first mismatch with a JSON path, in the SPEC's wording:
// "$.amount: expected integer, got string". Records keep only the fields
// their type names (width subtyping: the rest is unobservable); missing
// optional fields become null.
//
// Text: string(x) and interpolation print strings raw, times as RFC 3339,
// durations as "90s", and everything else as compact JSON with object keys
// sorted -- deterministic, so golden tests can compare it.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vm/base/result.h"
#include "vm/base/secret_ref.h"
#include "vm/bytecode/module.h"
#include "vm/value/shape.h"
#include "vm/value/value.h"

namespace flow::value {

// A secret is written as "***" (kSecretMask). With `secrets`, the place of
// each one is appended to it (a JSON pointer into the result, and the
// variable it names), so that a transport can put the value there when it
// sends: how a step's arguments carry secrets (connectors/secrets.h).
auto ToJson(const Value& v, std::vector<SecretRef>* secrets = nullptr) -> nlohmann::json;

// nlohmann's dump, never throwing (invalid UTF-8 is replaced).
auto DumpJson(const nlohmann::json& j) -> std::string;

// Converts `j` to a value of `module`'s type `type` (a verified module).
// Error messages start with the path, e.g. "$.items[2]: expected ...".
auto FromJson(const nlohmann::json& j, const bytecode::Module& module, uint32_t type,
              const std::string& path = "$") -> Result<Value>;

// `v as T` for any value: json directly, others through their JSON form.
auto ConvertTo(const Value& v, const bytecode::Module& module, uint32_t type) -> Result<Value>;

// True when `j` nests arrays/objects deeper than kMaxValueDepth. Checked
// without recursion, so it is safe on any parsed document; json values that
// enter the VM (parse_json, inputs, responses) are checked with it, because
// dumping or copying a deeper document would recurse past the C++ stack.
auto JsonTooDeep(const nlohmann::json& j) -> bool;

// The text of `v` as string(v) defines it.
auto ToDisplayString(const Value& v) -> std::string;
void AppendDisplay(std::string& out, const Value& v);

}  // namespace flow::value
