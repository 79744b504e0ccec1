#include "compiler/format/doc.h"

#include "vm/base/check.h"

namespace flow::format {

namespace {

using Op = Doc::Op;

// Display width of UTF-8 text: one column per code point.
auto Width(std::string_view text) -> int {
  int n = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

auto IsBreakOpportunity(const Doc::Command& c) -> bool {
  switch (c.op) {
    case Op::Line: case Op::SoftLine: case Op::HardLine: case Op::OwnLineComment:
      return true;
    case Op::Text:
      return c.text.find('\n') != std::string::npos;
    default:
      return false;
  }
}

// Width of a command when its group is flat (and of the text up to its
// first line break, for a multi-line text).
auto FlatWidth(const Doc::Command& c) -> int {
  switch (c.op) {
    case Op::Text: {
      size_t nl = c.text.find('\n');
      return Width(nl == std::string::npos ? c.text : std::string_view(c.text).substr(0, nl));
    }
    case Op::Line: return 1;
    default: return 0;
  }
}

// What Render needs to know about each group before printing: where it
// ends, whether it must break, how wide it is flat.
struct Layout {
  std::vector<size_t> group_end;   // by BeginGroup index
  std::vector<bool> must_break;    // by BeginGroup index
  std::vector<int64_t> prefix;     // prefix[i]: flat width of commands [0, i)
  std::vector<int64_t> rest;       // rest[i]: flat width from i to the next break opportunity
};

auto Analyse(const std::vector<Doc::Command>& cmds) -> Layout {
  size_t n = cmds.size();
  Layout layout{std::vector<size_t>(n, 0), std::vector<bool>(n, false),
                std::vector<int64_t>(n + 1, 0), std::vector<int64_t>(n + 1, 0)};
  // Open groups, innermost last, each with "a line suffix waits in it for
  // a line break".
  std::vector<std::pair<size_t, bool>> open;
  for (size_t i = 0; i < n; ++i) {
    const auto& c = cmds[i];
    layout.prefix[i + 1] = layout.prefix[i] + FlatWidth(c);
    bool forces = c.op == Op::HardLine || c.op == Op::OwnLineComment ||
                  (c.op == Op::Text && c.text.find('\n') != std::string::npos);
    switch (c.op) {
      case Op::BeginGroup: open.emplace_back(i, false); break;
      case Op::EndGroup: {
        FLOW_CHECK(!open.empty(), "EndGroup without BeginGroup");
        size_t begin = open.back().first;
        layout.group_end[begin] = i;
        open.pop_back();
        if (layout.must_break[begin] && !open.empty()) layout.must_break[open.back().first] = true;
        break;
      }
      case Op::LineSuffix:
        for (auto& g : open) g.second = true;
        break;
      case Op::Line: case Op::SoftLine:
        // The first possible break after a trailing comment must be taken.
        if (!open.empty() && open.back().second) {
          layout.must_break[open.back().first] = true;
          for (auto& g : open) g.second = false;
        }
        break;
      default:
        if (forces) {
          if (!open.empty()) layout.must_break[open.back().first] = true;
          for (auto& g : open) g.second = false;
        }
        break;
    }
  }
  FLOW_CHECK(open.empty(), "BeginGroup without EndGroup");
  for (size_t i = n; i-- > 0;) {
    layout.rest[i] = IsBreakOpportunity(cmds[i]) ? FlatWidth(cmds[i])
                                                 : FlatWidth(cmds[i]) + layout.rest[i + 1];
  }
  return layout;
}

// The output being written, with the rules for line breaks: indentation is
// written lazily (a line holds no trailing blanks), a comment owes a line
// break to whatever follows, and line suffixes go before the next break.
class Writer {
 public:
  void Newline(int indent) {
    WriteSuffixes();
    TrimBlanks();
    out_ += '\n';
    line_has_content_ = false;
    owes_newline_ = false;
    line_indent_ = indent;
  }
  void Text(std::string_view text, int indent) {
    if (text.empty()) return;
    // `f(a /* n */)`, `a /* n */, b`: no space between a comment and a closer.
    if (after_inline_comment_ && std::string_view(",)]}").find(text[0]) != std::string_view::npos &&
        !out_.empty() && out_.back() == ' ') {
      out_.pop_back();
    }
    after_inline_comment_ = false;
    bool only_blanks = text.find_first_not_of(' ') == std::string_view::npos;
    if (owes_newline_) {
      if (only_blanks) return;
      Newline(indent);
    }
    if (!line_has_content_) {
      if (only_blanks) return;
      if (want_blank_ && !out_.empty() && !EndsWithBlankLine()) out_ += '\n';
      out_.append(static_cast<size_t>(line_indent_), ' ');
    }
    // A blank line is kept only where the text starts a line.
    want_blank_ = false;
    out_ += text;
    line_has_content_ = true;
  }
  void Comment(std::string_view text, int indent) {
    if (line_has_content_ || owes_newline_) Newline(indent);
    Text(text, indent);
    owes_newline_ = true;
  }
  void InlineComment(std::string_view text, int indent) {
    if (line_has_content_ && !owes_newline_ && !out_.empty() &&
        std::string_view(" ([{").find(out_.back()) == std::string_view::npos) {
      out_ += ' ';
    }
    Text(text, indent);
    out_ += ' ';
    after_inline_comment_ = true;
  }
  void Suffix(std::string_view text) { suffixes_.emplace_back(text); }
  void WantBlankLine() { want_blank_ = true; }
  // Where the next character would go.
  auto column() const -> int64_t {
    if (!line_has_content_ || owes_newline_) return line_indent_;
    size_t nl = out_.rfind('\n');
    return Width(std::string_view(out_).substr(nl == std::string::npos ? 0 : nl + 1));
  }
  auto Finish() -> std::string {
    WriteSuffixes();
    TrimBlanks();
    while (!out_.empty() && out_.back() == '\n') out_.pop_back();
    if (!out_.empty()) out_ += '\n';
    return std::move(out_);
  }

 private:
  // The trailing comments held for the end of this line. Two line comments
  // cannot share a line (the second would become part of the first): each
  // one after a line comment goes on a line of its own, indented like this
  // line (where a second formatting will find it as a comment of its own). A
  // line break was due here anyway, so one more changes nothing.
  void WriteSuffixes() {
    int indent = line_indent_;
    bool after_line_comment = false;
    for (const std::string& s : suffixes_) {
      if (after_line_comment) {
        TrimBlanks();
        out_ += '\n';
        out_.append(static_cast<size_t>(indent), ' ');
        out_.append(s, s.find_first_not_of(' '));
      } else {
        out_ += s;
      }
      after_line_comment = after_line_comment || s.find("//") == s.find_first_not_of(' ');
    }
    suffixes_.clear();
  }
  void TrimBlanks() {
    while (!out_.empty() && (out_.back() == ' ' || out_.back() == '\t')) out_.pop_back();
  }
  auto EndsWithBlankLine() const -> bool {
    return out_.size() >= 2 && out_[out_.size() - 1] == '\n' && out_[out_.size() - 2] == '\n';
  }

  std::string out_;
  std::vector<std::string> suffixes_;
  bool line_has_content_ = false;
  bool owes_newline_ = false;
  bool want_blank_ = false;
  bool after_inline_comment_ = false;
  int line_indent_ = 0;
};

}  // namespace

auto Render(const Doc& doc, int width) -> std::string {
  const auto& cmds = doc.commands();
  Layout layout = Analyse(cmds);
  Writer w;
  std::vector<bool> flat_stack;  // per open group: printed flat?
  std::vector<int> indents{0};
  auto flat = [&] { return !flat_stack.empty() && flat_stack.back(); };
  auto line_break = [&](bool soft) {
    if (flat()) {
      if (!soft) w.Text(" ", indents.back());
    } else {
      w.Newline(indents.back());
    }
  };
  for (size_t i = 0; i < cmds.size(); ++i) {
    const auto& c = cmds[i];
    switch (c.op) {
      case Op::Text: w.Text(c.text, indents.back()); break;
      case Op::Line: line_break(false); break;
      case Op::SoftLine: line_break(true); break;
      case Op::HardLine: w.Newline(indents.back()); break;
      case Op::BlankLine: w.WantBlankLine(); break;
      case Op::BeginGroup: {
        if (flat()) {
          flat_stack.push_back(true);
          break;
        }
        size_t end = layout.group_end[i];
        int64_t needed = layout.prefix[end] - layout.prefix[i] + layout.rest[end + 1];
        flat_stack.push_back(!layout.must_break[i] && w.column() + needed <= width);
        break;
      }
      case Op::EndGroup: flat_stack.pop_back(); break;
      case Op::BeginIndent: indents.push_back(indents.back() + c.amount); break;
      case Op::EndIndent:
        FLOW_CHECK(indents.size() > 1, "EndIndent without BeginIndent");
        indents.pop_back();
        break;
      case Op::IfBreak:
        if (!flat()) w.Text(c.text, indents.back());
        break;
      case Op::LineSuffix: w.Suffix(c.text); break;
      case Op::OwnLineComment: w.Comment(c.text, indents.back()); break;
      case Op::InlineComment: w.InlineComment(c.text, indents.back()); break;
    }
  }
  FLOW_CHECK(indents.size() == 1, "BeginIndent without EndIndent");
  return w.Finish();
}

}  // namespace flow::format
