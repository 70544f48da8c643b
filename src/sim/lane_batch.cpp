#include "sim/lane_batch.h"

#include <algorithm>

namespace soma::sim {

LaneBatch::LaneBatch(const CompiledModel& cm, int slots, std::function<void(int slot)> wait)
    : lanes_(static_cast<size_t>(cm.rhs().lanes())),
      slots_(static_cast<size_t>(std::max(slots, 1))),
      wait_(std::move(wait)),
      num_states_(cm.num_states()) {
  for (size_t k = 0; k < slots_.size(); ++k) {
    if (k % lanes_ == 0) groups_.push_back(std::make_unique<Group>(cm));
    slots_[k].batch = this;
    slots_[k].group = groups_.back().get();
    slots_[k].lane = static_cast<int>(k % lanes_);
    slots_[k].index = static_cast<int>(k);
  }
  batch_.assign(lanes_, nullptr);
  stage_.assign(std::max<size_t>(num_states_, 1), 0.0);
}

int LaneBatch::Slot::Attempt(solvers::OdeSystem* system, solvers::LaneAttempt& a) {
  if (system != seen) {
    seen = system;
    model = dynamic_cast<const ModelSystem*>(system);
    if (model != nullptr && static_cast<size_t>(model->num_states()) != batch->num_states_) model = nullptr;
  }
  if (model == nullptr) return solvers::internal::DormandPrinceAttempt(system, batch->stage_.data(), a);
  workspace = model->workspace();
  attempt = &a;
  batch->wait_(index);
  return a.result;
}

void LaneBatch::Slot::Stages(double* k3, double* k4, double* k5, double* k6) {
  group->stepper.Stages(lane, k3, k4, k5, k6);
}

void LaneBatch::Run() {
  for (size_t g = 0; g < groups_.size(); ++g) {
    bool any = false;
    for (size_t l = 0; l < lanes_; ++l) {
      const size_t k = g * lanes_ + l;
      Slot* s = k < slots_.size() ? &slots_[k] : nullptr;
      batch_[l] = s != nullptr ? s->attempt : nullptr;
      if (batch_[l] == nullptr) continue;
      any = true;
      // A member's inputs change only where its integration restarts
      // (events, input changes): its first attempt after that is fresh.
      if (batch_[l]->fresh) groups_[g]->system.SetLane(static_cast<int>(l), s->workspace);
      s->attempt = nullptr;
    }
    if (!any) continue;
    groups_[g]->stepper.Attempt(batch_);
    ++batches_;
  }
}

}  // namespace soma::sim
