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

EffectLog::EffectLog(std::vector<nlohmann::json> recorded) : records_(std::move(recorded)), taken_(records_.size()) {}

auto EffectLog::Effect(bytecode::EffectId id, uint64_t seq) -> Result<Value> {
  const char* name = bytecode::GetEffectName(id);
  if (seq >= 1 && seq <= records_.size()) {
    const nlohmann::json& r = records_[seq - 1];
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
  if (seq != records_.size() + 1) {
    return Error{fmt::format("journal mismatch: effect #{} follows only {} recorded effects", seq, records_.size()),
                 ErrorCode::kCorrupt};
  }
  Value v = FreshEffect(id);
  records_.push_back(nlohmann::json{{"seq", seq}, {"effect", name}, {"value", value::ToJson(v)}});
  return v;
}

auto EffectLog::TakeNew() -> std::vector<nlohmann::json> {
  std::vector<nlohmann::json> out(records_.begin() + static_cast<std::ptrdiff_t>(taken_), records_.end());
  taken_ = records_.size();
  return out;
}

}  // namespace flow::interp
