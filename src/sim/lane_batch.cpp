#include "sim/lane_batch.h"

#include <algorithm>

namespace soma::sim {

LaneBatch::LaneBatch(const CompiledModel& cm, int slots, std::function<void(int slot)> wait)
    : system_(cm), stepper_(&system_), slots_(static_cast<size_t>(std::max(slots, 1))), wait_(std::move(wait)) {
  for (size_t k = 0; k < slots_.size(); ++k) {
    slots_[k].batch = this;
    slots_[k].index = static_cast<int>(k);
  }
  stage_.assign(std::max<size_t>(cm.num_states(), 1), 0.0);
}

int LaneBatch::Slot::Attempt(solvers::OdeSystem* system, solvers::LaneAttempt& a) {
  if (system != seen) {
    seen = system;
    model = dynamic_cast<const ModelSystem*>(system);
    if (model != nullptr && model->num_states() != batch->system_.num_states()) model = nullptr;
  }
  if (model == nullptr) return solvers::internal::DormandPrinceAttempt(system, batch->stage_.data(), a);
  workspace = model->workspace();
  attempt = &a;
  batch->wait_(index);
  return a.result;
}

void LaneBatch::Run() {
  posted_.clear();
  for (Slot& s : slots_) {
    if (s.attempt != nullptr) posted_.push_back(&s);
  }
  const size_t w = static_cast<size_t>(system_.lanes());
  for (size_t first = 0; first < posted_.size(); first += w) {
    const size_t m = std::min(w, posted_.size() - first);
    batch_.clear();
    for (size_t l = 0; l < w; ++l) {
      // Lanes without an attempt evaluate the first one's member again.
      const Slot& s = *posted_[first + (l < m ? l : 0)];
      system_.SetLane(static_cast<int>(l), s.workspace);
      if (l < m) batch_.push_back(*s.attempt);
    }
    stepper_.Attempt(batch_);
    ++batches_;
    for (size_t l = 0; l < m; ++l) {
      Slot& s = *posted_[first + l];
      s.attempt->result = batch_[l].result;
      s.attempt->rhs_evaluations = batch_[l].rhs_evaluations;
      s.attempt = nullptr;
    }
  }
}

}  // namespace soma::sim
