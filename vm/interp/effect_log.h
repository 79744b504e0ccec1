// EffectLog: the Host that makes now(), uuid() and random() replayable.
//
// A run re-executes the pure computation since its last durable point when
// it resumes, so an effect evaluated in that stretch would otherwise yield a
// new value the second time. EffectLog starts from the effects the journal
// already holds (the data of the run's "effect" events, in seq order) and
// returns them for those seqs; a seq beyond them gets a fresh value, which
// the driver takes with TakeNew() and journals in the next durable point's
// transaction. Each record is {"seq": n, "effect": "now", "value": ...},
// where the value is the effect's JSON text (RFC 3339, UUID, number) --
// exact for all three, so a replay gives the identical Value. Each branch
// fiber (docs/composition.md) numbers its own effects from 1; its records
// carry "branch": "2.3" (the root's carry none).
#pragma once

#include <cstdint>
#include <string_view>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vm/interp/vm.h"

namespace flow::interp {

class EffectLog : public Host {
 public:
  explicit EffectLog(std::vector<nlohmann::json> recorded);

  // The recorded value for `seq`, else a fresh one (remembered for
  // TakeNew). An Error when the record at `seq` is malformed or names
  // another effect: the journal does not belong to this program.
  auto Effect(bytecode::EffectId id, uint64_t seq, std::string_view branch) -> Result<Value> override;

  // Records made since the last call, oldest first.
  auto TakeNew() -> std::vector<nlohmann::json>;
  // Whether TakeNew would return any.
  auto HasNew() const -> bool { return !new_.empty(); }
  // Whether any of them was drawn by branch `branch` ("" the root).
  auto HasNewOf(std::string_view branch) const -> bool;

 private:
  std::map<std::string, std::vector<nlohmann::json>, std::less<>> records_;  // per branch: [seq - 1]
  std::vector<nlohmann::json> new_;  // made since the last TakeNew
};

}  // namespace flow::interp
