// A layout document and its renderer: the pretty-printing algorithm of
// Wadler's "A prettier printer" as Prettier and dartfmt use it, reduced to
// what `flow fmt` needs.
//
// The printer (printer.h) does not decide where lines break. It appends
// commands to a Doc -- text, possible line breaks, groups -- and Render
// chooses: a group is printed flat (every Line a space, every SoftLine
// nothing) when it fits in the remaining width, else broken (every Line and
// SoftLine of that group a line break; nested groups decide again). The same
// Doc always renders to the same text, which is what makes `flow fmt`
// idempotent.
//
// Comments are commands too: an own-line comment forces its line breaks and
// breaks every enclosing group; a trailing comment is a LineSuffix, held
// back until the next line break so it stays at the end of its line, and it
// breaks the innermost group that has a possible line break after it (so
// `[1, // one` keeps its list broken, while `f(a, b) // why` stays flat:
// breaking that call would not bring the line break any closer).
//
// The commands are a flat vector with Begin/End markers rather than a tree:
// the printer appends in source order and never needs to build a subtree
// before its parent.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace flow::format {

// The width `flow fmt` fills: the same 100 columns as the C++ sources
// (.clang-format), wide enough for a step with two named arguments.
constexpr int kLineWidth = 100;
// Spaces per nesting level (blocks, broken argument lists, clauses).
constexpr int kIndentWidth = 2;

class Doc {
 public:
  enum class Op : uint8_t {
    Text,            // text (no line break unless it is a verbatim comment or string)
    Line,            // " " flat, a line break broken
    SoftLine,        // nothing flat, a line break broken
    HardLine,        // always a line break
    BlankLine,       // the next text starts after one empty line, if it starts a line
    BeginGroup,
    EndGroup,
    BeginIndent,     // `amount` more columns for line breaks until EndIndent
    EndIndent,
    IfBreak,         // `text` when the innermost group is broken, nothing when flat
    LineSuffix,      // `text` at the end of the current line (trailing comments)
    OwnLineComment,  // `text` on a line of its own
    InlineComment,   // `text` between two tokens of one line, a space either side
  };
  struct Command {
    Op op;
    int amount = 0;
    std::string text;
  };

  void Text(std::string_view text) { Push(Op::Text, 0, text); }
  void Line() { Push(Op::Line); }
  void SoftLine() { Push(Op::SoftLine); }
  void HardLine() { Push(Op::HardLine); }
  void BlankLine() { Push(Op::BlankLine); }
  void BeginGroup() { Push(Op::BeginGroup); }
  void EndGroup() { Push(Op::EndGroup); }
  void BeginIndent(int amount = kIndentWidth) { Push(Op::BeginIndent, amount); }
  void EndIndent() { Push(Op::EndIndent); }
  void IfBreak(std::string_view text) { Push(Op::IfBreak, 0, text); }
  void LineSuffix(std::string_view text) {
    Push(Op::LineSuffix, 0, text);
  }
  void OwnLineComment(std::string_view text) {
    Push(Op::OwnLineComment, 0, text);
  }
  void InlineComment(std::string_view text) {
    Push(Op::InlineComment, 0, text);
  }

  auto commands() const -> const std::vector<Command>& { return commands_; }

 private:
  void Push(Op op, int amount = 0, std::string_view text = {}) {
    commands_.push_back(Command{op, amount, std::string(text)});
  }

  std::vector<Command> commands_;
};

// Lays `doc` out in `width` columns. Begin/End markers must balance (the
// printer's bug otherwise: FLOW_CHECK). The result ends with exactly one
// line break and has no trailing blanks on any line.
auto Render(const Doc& doc, int width = kLineWidth) -> std::string;

}  // namespace flow::format
