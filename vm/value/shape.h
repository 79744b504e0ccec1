// Record shapes and the field-name table of one VM instance.
//
// A record value points at its Shape: the record's field names, sorted by
// their text, as name ids. Field access goes by name id (an integer) -- the
// interpreter caches (shape, slot) per GetField instruction, and a miss is a
// scan of a few integers, never a string compare. Width subtyping needs
// nothing more: a record with extra fields simply has a bigger shape.
//
// There is one Symbols table per process (Symbols::Global()), append only
// and guarded by a mutex: record values outlive the VM that built them (a
// run's result, a delivered step result), so their shapes must too, and a
// Shape* must never be reused for a different shape -- the interpreter's
// inline caches compare shape pointers. The table only grows with the
// distinct field-name sets programs declare, so it stays small. Module name
// ids are translated to global ids once, when a VM loads its module. A
// Shape* is still an address: serialised state stores field names instead.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
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
  // The process-wide table.
  static auto Global() -> Symbols&;
  Symbols(const Symbols&) = delete;
  auto operator=(const Symbols&) -> Symbols& = delete;

  // Interns `text`, returning its id (stable for this table's lifetime).
  auto Name(std::string_view text) -> uint32_t;
  auto NameText(uint32_t id) const -> const std::string&;

  // The shape of exactly these name ids; they must be sorted by text and
  // unique (module shapes are, by the verifier).
  auto ShapeOf(const std::vector<uint32_t>& sorted_names) -> const Shape*;
  // The shape of these field names, in any order (sorts them).
  auto ShapeOfTexts(std::vector<std::string> texts) -> const Shape*;

  // {kind, message, step}: the shape of an error value (SPEC §2.4).
  auto ErrorShape() -> const Shape*;

 private:
  Symbols() = default;
  auto NameLocked(std::string_view text) -> uint32_t;
  auto ShapeOfLocked(const std::vector<uint32_t>& sorted_names) -> const Shape*;
  mutable std::mutex mu_;
  std::deque<std::string> names_;  // a deque: NameText's references stay valid
  std::unordered_map<std::string, uint32_t> name_ids_;
  std::vector<std::unique_ptr<Shape>> shapes_;
  std::map<std::vector<uint32_t>, uint32_t> shape_ids_;
};

}  // namespace flow::value
