#include "vm/value/shape.h"

#include <algorithm>

#include "vm/base/check.h"

namespace flow::value {

auto Symbols::Global() -> Symbols& {
  static Symbols* table = new Symbols();  // never destroyed: values may outlive statics
  return *table;
}

auto Symbols::Name(std::string_view text) -> uint32_t {
  std::lock_guard lock(mu_);
  return NameLocked(text);
}

auto Symbols::NameLocked(std::string_view text) -> uint32_t {
  auto it = name_ids_.find(std::string(text));
  if (it != name_ids_.end()) return it->second;
  uint32_t id = static_cast<uint32_t>(names_.size());
  names_.emplace_back(text);
  name_ids_.emplace(std::string(text), id);
  return id;
}

auto Symbols::NameText(uint32_t id) const -> const std::string& {
  std::lock_guard lock(mu_);
  FLOW_CHECK(id < names_.size(), "unknown name id");
  return names_[id];
}

auto Symbols::ShapeOf(const std::vector<uint32_t>& sorted_names) -> const Shape* {
  std::lock_guard lock(mu_);
  return ShapeOfLocked(sorted_names);
}

auto Symbols::ShapeOfLocked(const std::vector<uint32_t>& sorted_names) -> const Shape* {
  auto it = shape_ids_.find(sorted_names);
  if (it != shape_ids_.end()) return shapes_[it->second].get();
  auto shape = std::make_unique<Shape>();
  shape->id = static_cast<uint32_t>(shapes_.size());
  shape->names = sorted_names;
  for (uint32_t n : sorted_names) {
    FLOW_CHECK(n < names_.size(), "shape names an unknown field");
    shape->texts.push_back(names_[n]);
  }
  FLOW_CHECK(std::is_sorted(shape->texts.begin(), shape->texts.end()), "shape fields must be sorted");
  shape_ids_.emplace(sorted_names, shape->id);
  shapes_.push_back(std::move(shape));
  return shapes_.back().get();
}

auto Symbols::ShapeOfTexts(std::vector<std::string> texts) -> const Shape* {
  std::sort(texts.begin(), texts.end());
  texts.erase(std::unique(texts.begin(), texts.end()), texts.end());
  std::lock_guard lock(mu_);
  std::vector<uint32_t> ids;
  ids.reserve(texts.size());
  for (const auto& t : texts) ids.push_back(NameLocked(t));
  return ShapeOfLocked(ids);
}

auto Symbols::ErrorShape() -> const Shape* {
  static const Shape* shape = ShapeOfTexts({"kind", "message", "step"});
  return shape;
}

}  // namespace flow::value
