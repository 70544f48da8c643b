#pragma once
// Straight-line register bytecode compiled from Graph nodes: the evaluator
// used in the solver's hot loop (right-hand sides, Jacobians, event triggers,
// assignment rules). No tree walking, no branches on data except kSelect
// (a conditional move), no allocation in Run.
//
// A Program computes a fixed list of output nodes. Common subexpressions are
// computed once; only nodes reachable from the outputs are emitted.

#include <cstdint>
#include <span>
#include <vector>

#include "expr/graph.h"

namespace soma::expr {

class Program {
 public:
  Program() = default;

  // Compiles `outputs` (node ids of `g`). The program reads Variable(slot)
  // from in[slot], so `in` must be at least max slot + 1 long.
  static Program Compile(const Graph& g, std::span<const NodeId> outputs);

  // A register file for Run: constants pre-filled. One per thread; reuse it
  // across calls.
  std::vector<double> NewScratch() const;

  // out[i] = value of outputs[i]. `in` and `out` may not overlap. `scratch`
  // comes from NewScratch(). Thread safe for distinct scratch buffers.
  void Run(const double* in, double* out, double* scratch) const;

  size_t num_outputs() const { return num_outputs_; }
  size_t num_instructions() const { return code_.size(); }

 private:
  struct Instr {
    uint8_t op;          // a GOp
    uint32_t dst, a, b, c;
  };
  std::vector<Instr> code_;
  std::vector<double> init_;      // scratch initial contents (constants)
  std::vector<uint32_t> out_reg_; // register holding each output
  size_t num_outputs_ = 0;
};

}  // namespace soma::expr
