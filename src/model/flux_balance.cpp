#include "model/flux_balance.h"

namespace soma::model {

const FluxBounds* FluxBalance::FindBounds(std::string_view reaction) const {
  for (const FluxBounds& b : bounds) {
    if (b.reaction == reaction) return &b;
  }
  return nullptr;
}

const Objective* FluxBalance::FindObjective(std::string_view id) const {
  for (const Objective& o : objectives) {
    if (o.id == id) return &o;
  }
  return nullptr;
}

}  // namespace soma::model
