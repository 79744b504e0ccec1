// The strict readers a connector file is parsed with, shared by the
// connector-file parser (connector_file.cpp) and each transport's own keys
// (transport_kinds.cpp). Every problem is an Error made by Fail: code
// kInvalidInput, the JSON path as its subject (ParseProblem reads it back
// from there), the message "<path>: <what>".
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "vm/base/result.h"

namespace flow::connectors {

using ojson = nlohmann::ordered_json;

// A problem at JSON path `path`.
auto Fail(const std::string& path, const std::string& what) -> Error;

// Rejects keys outside `allowed` (typos must not silently change behaviour).
// "description", "$comment" and "x-" extensions are always allowed.
auto CheckKeys(const ojson& object, const std::string& path, std::initializer_list<std::string_view> allowed)
    -> Status;

// A required (or, with `required` false, optional) non-empty string member.
auto GetString(const ojson& object, const std::string& path, const char* key, bool required, std::string& out)
    -> Status;

// `value` (found under `key`) as an array of strings, non-empty when
// `non_empty`; appended to `out`.
auto GetStringArray(const ojson& value, const std::string& path, const char* key, bool non_empty,
                    std::vector<std::string>& out) -> Status;

}  // namespace flow::connectors
