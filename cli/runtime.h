// Where the `flow` binary assembles the engine's Runtime (vm/engine
// run_driver.h): the one place that decides which transports a run may
// use, which clock it reads and which engine options apply. Every command
// that drives a run builds its Runtime here around the store it opened.
#pragma once

#include "vm/connectors/transport.h"
#include "vm/engine/run_driver.h"
#include "vm/store/store.h"

namespace flow::cli {

// The transports of this process: http, exec and builtin (transport.h),
// built once; safe to use from every thread.
auto Transports() -> const connectors::TransportRegistry&;

// The Runtime for a run on `store`: Transports(), the system clock,
// `options` (EngineOptionsFromEnvironment, program_loader.h: the limits
// and resume stress, read from the environment here in cli/ and nowhere
// below) and this binary's built-in connector texts (only for programs
// compiled before they were embedded). `store` must outlive it.
auto MakeRuntime(store::Store& store, const engine::EngineOptions& options) -> engine::Runtime;

}  // namespace flow::cli
