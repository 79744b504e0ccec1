// See run_report.h.
#include "cli/run_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

#include "cli/command.h"
#include "cli/program_loader.h"
#include "vm/base/json_text.h"
#include "vm/base/quote.h"
#include "vm/engine/run_id.h"
#include "vm/store/open_store.h"
#include "vm/value/time_format.h"

namespace flow::cli {

void AddDbOption(CLI::App& app, std::string& path) {
  app.add_option("--db", path, "The database (default: $FLOW_DB, else ./flow.db)");
}

auto OpenStoreForReading(const std::string& option) -> Result<std::unique_ptr<store::Store>> {
  store::StoreOptions options;
  options.read_only = true;      // never writes; works on a read-only mount
  options.existing_only = true;  // no database (or an empty file) simply holds no runs
  return store::OpenStore(DatabasePath(option), options);
}

auto ShownId(const std::string& id) -> std::string {
  return engine::CheckRunId(id) ? id : QuoteEscaped(id);
}

auto FormatMs(int64_t ms) -> std::string { return value::FormatTime(ms); }

auto ParseStoredJson(const std::string& text) -> Json {
  if (text.empty()) return nullptr;
  // Bounded like JSON from outside: a damaged or hand-edited row must not
  // crash `flow show` in a recursive dump.
  if (FindTooDeep(text, kMaxJsonDepth) != std::string::npos) return text;
  auto parsed = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return text;
  return parsed;
}

auto WaitingJson(const store::RunRecord& run) -> Json {
  if (run.status != store::RunStatus::Waiting) return nullptr;
  Json details = ParseStoredJson(run.waiting);
  Json out = Json::object();
  out["kind"] = run.waiting_reason;
  if (details.is_object()) {
    for (auto& [key, value] : details.items()) {
      if (key != "kind") out[key] = value;
    }
  } else if (!details.is_null()) {
    out["details"] = details;
  }
  return out;
}

auto RunSummaryJson(const store::RunRecord& run) -> Json {
  Json out = Json::object();
  out["run"] = run.id;
  out["workflow"] = run.workflow;
  out["parent"] = run.parent_id.empty() ? Json(nullptr) : Json(run.parent_id);
  out["status"] = store::StatusName(run.status);
  out["waiting"] = WaitingJson(run);
  out["created"] = FormatMs(run.created_ms);
  out["updated"] = FormatMs(run.updated_ms);
  return out;
}

void PrintColumns(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += i + 1 < row.size() ? fmt::format("{:<{}}  ", row[i], widths[i]) : row[i];
    }
    std::fprintf(stdout, "%s\n", line.c_str());
  }
}

auto DumpLine(const Json& value) -> std::string {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

void PrintJsonLine(const Json& value) {
  std::string line = DumpLine(value);
  std::fwrite(line.data(), 1, line.size(), stdout);
}

}  // namespace flow::cli
