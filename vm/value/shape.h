// Record shapes and the field-name table of one VM instance.
//
// A record value points at its Shape: the record's field names, sorted by
// their text, as name ids. Field access goes by name id (an integer) -- the
// interpreter caches (shape, slot) per GetField instruction, and a miss is a
// scan of a few integers, never a string compare. Width subtyping needs
// nothing more: a record with extra fields simply has a bigger shape.
//
// Symbols starts with the module's names and shapes, so the ids in bytecode
// are valid as is; records built at run time from JSON (inputs, connector
// responses, `as T`) intern their shapes here too. Shapes are owned by the
// table and never move, so a Shape* is stable for the VM's lifetime -- but
// it is an address, so serialised state stores field names instead.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace flow::value {

struct Shape {
  uint32_t id = 0;
  std::vector<uint32_t> names;       // name ids, sorted by text
  std::vector<std::string> texts;    // the same names as text

  // The slot of `name` in this shape, or -1.
  auto Find(uint32_t name) const -> int {
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == name) return static_cast<int>(i);
    }
    return -1;
  }
};

class Symbols {
 public:
  Symbols() = default;
  Symbols(const Symbols&) = delete;
  auto operator=(const Symbols&) -> Symbols& = delete;

  // Interns `text`, returning its id (stable for this table's lifetime).
  auto Name(std::string_view text) -> uint32_t;
  auto NameText(uint32_t id) const -> const std::string& { return names_[id]; }
  auto name_count() const -> size_t { return names_.size(); }

  // The shape of exactly these name ids; they must be sorted by text and
  // unique (module shapes are, by the verifier).
  auto ShapeOf(const std::vector<uint32_t>& sorted_names) -> const Shape*;
  // The shape of these field names, in any order (sorts them).
  auto ShapeOfTexts(std::vector<std::string> texts) -> const Shape*;
  auto ShapeById(uint32_t id) const -> const Shape* { return shapes_[id].get(); }
  auto shape_count() const -> size_t { return shapes_.size(); }

  // {kind, message, step}: the shape of an error value (SPEC §2.4).
  auto ErrorShape() -> const Shape*;

 private:
  std::vector<std::string> names_;
  std::unordered_map<std::string, uint32_t> name_ids_;
  std::vector<std::unique_ptr<Shape>> shapes_;
  std::map<std::vector<uint32_t>, uint32_t> shape_ids_;
  const Shape* error_shape_ = nullptr;
};

}  // namespace flow::value
