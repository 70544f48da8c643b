#pragma once
// Internal to soma::sim (Simulator and SimulateWithSensitivities): the time
// points at which relations linear in time change value, landed on instead
// of root-searched (Relation::time_direction, CompiledModel::TimePoints).

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <vector>

#include "sim/compiled_model.h"

namespace soma::sim::internal {

// The time points of the relations linear in time (Relation::time_direction)
// after the start, in order: the simulation stops at each instead of root
// finding, and reports the crossing as CVODES would a root. They are fixed
// for the run: computed from the start workspace (CompiledModel::TimePoints).
class TimeRootSchedule {
 public:
  TimeRootSchedule(const CompiledModel& cm, const std::vector<double>& start_workspace, double start)
      : searched_(cm.searched_relations()), found_(cm.relations().size(), 0) {
    const auto& rels = cm.relations();
    const auto& scheduled = cm.scheduled_relations();
    const std::vector<double> times = cm.TimePoints(start_workspace.data());
    for (size_t i = 0; i < scheduled.size(); ++i) {
      if (std::isfinite(times[i]) && times[i] > start) {
        points_.push_back({times[i], scheduled[i], rels[scheduled[i]].time_direction});
      }
    }
    std::sort(points_.begin(), points_.end(),
              [](const Point& a, const Point& b) { return a.time != b.time ? a.time < b.time : a.relation < b.relation; });
  }

  // The next time point not yet reached (infinity if none).
  double next() const {
    return next_ < points_.size() ? points_[next_].time : std::numeric_limits<double>::infinity();
  }

  // The crossings at time points <= t, as OdeIntegrator::roots_found() over
  // all relations; marks them reached.
  std::span<const int> Reached(double t) {
    std::fill(found_.begin(), found_.end(), 0);
    for (; next_ < points_.size() && points_[next_].time <= t; ++next_) {
      found_[points_[next_].relation] = points_[next_].direction;
    }
    return found_;
  }

  // The integrator's roots (over the searched relations) as roots over all
  // relations.
  std::span<const int> Found(std::span<const int> searched) {
    std::fill(found_.begin(), found_.end(), 0);
    for (size_t i = 0; i < searched.size(); ++i) found_[searched_[i]] = searched[i];
    return found_;
  }

 private:
  struct Point {
    double time;
    size_t relation;
    int direction;  // of the root's crossing: +1 rising, -1 falling
  };
  const std::vector<uint32_t>& searched_;
  std::vector<Point> points_;
  std::vector<int> found_;
  size_t next_ = 0;
};

}  // namespace soma::sim::internal
