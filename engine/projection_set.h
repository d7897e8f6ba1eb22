// The projections a store maintains, in apply order. Internal to engine/.
#pragma once

#include <memory>
#include <vector>

#include "projections/canvas.h"
#include "projections/indexes.h"
#include "projections/memory.h"
#include "projections/scheduler.h"

namespace tink::engine {

struct ProjectionSet {
  projections::IdsIndex ids;
  projections::StreamsIndex streams;
  projections::RunsIndex runs;
  projections::TypesIndex types;
  projections::TimesIndex times;
  projections::SchedulerProjection scheduler;
  projections::CanvasProjection canvas;
  projections::MemoryProjection memory;
  std::vector<projections::Projection*> all() {
    return {&ids, &streams, &runs, &types, &times, &scheduler, &canvas, &memory};
  }
};

}  // namespace tink::engine
