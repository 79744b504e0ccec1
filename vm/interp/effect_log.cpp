#include "vm/interp/effect_log.h"

#include <fmt/format.h>

#include "vm/value/convert.h"
#include "vm/value/time_format.h"

namespace flow::interp {

namespace {

auto Decode(bytecode::EffectId id, const nlohmann::json& v) -> std::optional<Value> {
  switch (id) {
    case bytecode::EffectId::Now:
      if (v.is_string()) {
        if (auto ms = value::ParseTime(v.get_ref<const std::string&>())) return Value::Time(*ms);
      }
      return std::nullopt;
    case bytecode::EffectId::Uuid:
      if (v.is_string()) return Value::String(v.get<std::string>());
      return std::nullopt;
    case bytecode::EffectId::Random:
      if (v.is_number()) return Value::Float(v.get<double>());
      return std::nullopt;
    case bytecode::EffectId::kCount: break;
  }
  return std::nullopt;
}

}  // namespace

EffectLog::EffectLog(std::vector<nlohmann::json> recorded) {
  for (auto& r : recorded) {
    std::string branch = r.is_object() && r.contains("branch") && r["branch"].is_string() ? r["branch"].get<std::string>() : "";
    records_[branch].push_back(std::move(r));
  }
}

auto EffectLog::Effect(bytecode::EffectId id, uint64_t seq, std::string_view branch) -> Result<Value> {
  const char* name = bytecode::GetEffectName(id);
  auto it = records_.find(branch);
  if (it == records_.end()) it = records_.emplace(std::string(branch), std::vector<nlohmann::json>{}).first;
  std::vector<nlohmann::json>& records = it->second;
  if (seq >= 1 && seq <= records.size()) {
    const nlohmann::json& r = records[seq - 1];
    if (!r.is_object() || r.value("seq", uint64_t{0}) != seq || r.value("effect", std::string()) != name) {
      return Error{fmt::format("journal mismatch: effect #{} is not a recorded {}()", seq, name),
                   ErrorCode::kCorrupt};
    }
    auto v = Decode(id, r.contains("value") ? r["value"] : nlohmann::json());
    if (!v) {
      return Error{fmt::format("journal mismatch: effect #{} has a malformed value", seq), ErrorCode::kCorrupt};
    }
    return std::move(*v);
  }
  if (seq != records.size() + 1) {
    return Error{fmt::format("journal mismatch: effect #{} follows only {} recorded effects", seq, records.size()),
                 ErrorCode::kCorrupt};
  }
  Value v = FreshEffect(id);
  nlohmann::json record{{"seq", seq}, {"effect", name}, {"value", value::ToJson(v)}};
  if (!branch.empty()) record["branch"] = std::string(branch);
  records.push_back(record);
  new_.push_back(std::move(record));
  return v;
}

auto EffectLog::HasNewOf(std::string_view branch) const -> bool {
  for (const auto& r : new_) {
    if (r.value("branch", "") == branch) return true;
  }
  return false;
}

auto EffectLog::TakeNew() -> std::vector<nlohmann::json> {
  std::vector<nlohmann::json> out = std::move(new_);
  new_.clear();
  return out;
}

}  // namespace flow::interp
