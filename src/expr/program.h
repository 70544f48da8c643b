#pragma once
// Straight-line register bytecode compiled from Graph nodes: the evaluator
// used in the solver's hot loop (right-hand sides, Jacobians, event triggers,
// assignment rules). No tree walking, no branches on data except kSelect
// (a conditional move), no allocation in Run.
//
// A Program computes a fixed list of output nodes. Common subexpressions are
// computed once; only nodes reachable from the outputs are emitted. Results
// are bit-identical to Graph::Evaluate.
//
// Thread safety: a compiled Program is immutable; Run may be called from
// many threads at once, each with its own scratch buffer.

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "expr/graph.h"

namespace soma::expr {

namespace internal {
struct ProgramAccess;  // the native-code compiler's view of a Program (jit_llvm.cpp)
}  // namespace internal

class Program {
 public:
  Program() = default;

  // Compiles `outputs` (node ids of `g`). The program reads Variable(slot)
  // from in[slot], so `in` must be at least max slot + 1 long (see
  // num_inputs()). Outputs may repeat and may be constants or plain
  // variables. Compilation is iterative (graphs of any depth) and costs
  // O(k log k) for k reachable nodes. The Program does not refer to `g`
  // afterwards.
  //
  // Fusion: an arithmetic operation (+, -, *, /) whose value is read once,
  // by another arithmetic operation or a negation, and is not an output, is
  // computed inside its reader's instruction ((x*y)*z, (x+y)-z, z/(x*y),
  // -(x*y), ...): one dispatch, no register, same two roundings.
  //
  // Scheduling: operations are ordered topologically, grouping operations
  // of one kind into runs where dependencies allow (fewer dispatches, better
  // branch prediction); registers of temporaries are reused after their
  // last reader.
  static Program Compile(const Graph& g, std::span<const NodeId> outputs);

  // As above, with `steady_slots[slot]` true for inputs that keep their
  // value over many calls (a model's parameters between events). Operations
  // that read only steady inputs and constants are hoisted: Run computes
  // them once and keeps them in the scratch buffer, next to a copy of the
  // steady inputs they read; later calls compare those inputs with the copy
  // (bit for bit) and recompute the hoisted operations only when one
  // changed. So a steady input that does change is never missed, it only
  // costs the recomputation; results are bit-identical to Compile without
  // steady slots. Slots past the end of `steady_slots` are not steady. Few
  // hoistable operations (kMinHoisted) are not worth the comparison and are
  // left in place.
  static Program Compile(const Graph& g, std::span<const NodeId> outputs, const std::vector<bool>& steady_slots);

  // A register file for Run: constants pre-filled. One per thread; reuse it
  // across calls.
  std::vector<double> NewScratch() const;

  // out[i] = value of outputs[i]. `in` and `out` may not overlap. `scratch`
  // comes from NewScratch(). Thread safe for distinct scratch buffers.
  // Native code is called from here, inline (a right-hand side runs
  // thousands of times per simulation).
  void Run(const double* in, double* out, double* scratch) const {
    if (native_ != nullptr) {
      native_(in, out, scratch);
      return;
    }
    Execute<false>(in, out, scratch);
  }
  // As Run; false when an output is NaN or infinite. The interpreter checks
  // each value as it writes it: reading `out` again afterwards waits for the
  // stores just made (a right-hand side's check after every evaluation).
  bool RunFinite(const double* in, double* out, double* scratch) const {
    if (native_ != nullptr) return native_(in, out, scratch) == 0;
    return Execute<true>(in, out, scratch);
  }

  size_t num_outputs() const { return num_outputs_; }
  // Operations executed per Run, one load per variable read included.
  size_t num_instructions() const { return num_variables_ + code_.size(); }
  // Whether Run copies in[0, num_inputs()) with one memcpy (most slots are
  // read) rather than loading each variable read.
  bool block_load() const { return block_load_count_ > 0; }
  // Runs of one opcode (each costs one dispatch).
  size_t num_blocks() const { return blocks_.size(); }
  // Operations hoisted out of the per-call code (see Compile with steady
  // slots), and how many steady inputs Run compares to decide whether to
  // recompute them.
  size_t num_hoisted() const { return prelude_instrs_; }
  size_t num_guarded_inputs() const { return guard_size_; }
  // Length of the buffer NewScratch() returns (constants, live temporaries,
  // hoisted values and the copy of the steady inputs they were computed
  // from).
  size_t scratch_size() const {
    return init_.size() + (prelude_instrs_ > 0 ? (guard_in_registers_ ? 0 : guard_size_) + 1 : 0);
  }
  // 1 + the largest slot read from `in` (0 when no variable is read).
  size_t num_inputs() const { return num_inputs_; }
  // Whether Run calls native code (expr/jit.h) rather than interpreting.
  bool native() const { return native_ != nullptr; }

  // Native code over lanes (CompileNativeLanes in expr/jit.h): how many
  // evaluations RunLanes makes at once, 0 where it was not compiled.
  int lanes() const { return lanes_; }
  // lanes() evaluations at once, one per SIMD lane: in[slot * lanes() + l]
  // is lane l's input slot (num_inputs() slots), out[k * lanes() + l] its
  // output k; each lane gets the bits Run gives on its inputs. Returns a
  // mask with bit l set when an output of lane l is NaN or infinite.
  // Requires lanes() > 0. Thread safe; nothing is kept between calls.
  uint64_t RunLanes(const double* in, double* out) const { return lanes_native_(in, out, nullptr); }

 private:
  friend struct internal::ProgramAccess;

  template <bool kCheckFinite>
  bool Execute(const double* in, double* out, double* scratch) const;

  // One operation writing register dst from registers a, b, c (or two
  // arithmetic operations fused: (a op b) op c, see Compile). The opcode is
  // not stored per instruction: code_ is split into runs of one opcode
  // (blocks_), and Run loops over each run inside one switch case, so the
  // dispatch branch is taken once per run rather than once per operation.
  struct Instr {
    uint32_t dst, a, b, c;
  };
  struct Block {
    uint8_t op;      // a GOp, or a fused pair (internal::Opcode, gop_eval.h)
    uint32_t count;  // consecutive entries of code_
  };
  struct Load {
    uint32_t reg, slot;  // reg = in[slot]
  };
  std::vector<Load> loads_;       // each variable read once, before code_
  // Or, where most of in[] is read: r[base + slot] = in[slot] for every
  // slot < count by one memcpy (loads_ is then empty).
  uint32_t block_load_base_ = 0;
  uint32_t block_load_count_ = 0;
  // code_ and blocks_ begin with the hoisted operations (prelude_instrs_
  // entries of code_ in the first prelude_blocks_ blocks), which Run skips
  // while the steady inputs they read are unchanged. Native code computes
  // them on every call (same operations, same results).
  std::vector<Instr> code_;
  std::vector<Block> blocks_;
  // code_ again with 16 bits per register, which Run reads where every
  // register fits (one 8-byte load per instruction instead of three 4-byte
  // ones: the interpreter's loop is bound by loads); empty otherwise.
  std::vector<uint64_t> packed_;
  uint32_t prelude_instrs_ = 0;
  uint32_t prelude_blocks_ = 0;
  // The steady inputs the prelude reads, as runs in[slot, slot + count),
  // copied to scratch[init_.size() + offset ...]; the last scratch entry is
  // 1 once the prelude has run.
  struct GuardRun {
    uint32_t slot, count, offset;
  };
  std::vector<GuardRun> guard_;
  uint32_t guard_size_ = 0;
  // With a block load, the registers the block copies into already hold
  // the inputs of the last call: they are the guard's copy (offset = slot,
  // relative to the block's first register; no copy in scratch), and a call
  // that finds them unchanged copies only the rest of the block.
  bool guard_in_registers_ = false;
  struct Span {
    uint32_t slot, count;
  };
  std::vector<Span> unguarded_;  // the block's slots outside guard_'s runs
  std::vector<double> init_;      // scratch initial contents (constants)
  // Output writes: runs of consecutive outputs holding one constant are
  // filled (dense Jacobians are mostly zeros), the rest are copied.
  struct Copy {
    uint32_t out, reg;  // out[out] = r[reg]
  };
  struct Fill {
    uint32_t begin, count, reg;  // out[begin, begin + count) = r[reg]
    uint32_t zero;               // r[reg] is +0.0: memset
  };
  std::vector<Copy> copies_;
  std::vector<Fill> fills_;
  size_t num_outputs_ = 0;
  size_t num_inputs_ = 0;
  size_t num_variables_ = 0;  // distinct variables read
  // Native code for this program (CompileNative), and what keeps it loaded.
  // Returns non-zero when an output is NaN or infinite (checked in
  // registers as the outputs are stored).
  using NativeFn = uint64_t (*)(const double* in, double* out, double* scratch);
  NativeFn native_ = nullptr;
  std::shared_ptr<const void> native_code_;
  // The same over lanes (RunLanes).
  NativeFn lanes_native_ = nullptr;
  int lanes_ = 0;
  std::shared_ptr<const void> lanes_code_;
};

namespace internal {
// What libsoma_jit.so (jit_llvm.cpp, loaded at run time) and the library that
// loads it must agree on: Program's layout, which the module reads, and the
// native functions' signature. jit.cpp refuses a module built from other
// sources. Bump the version when the signature or a member's meaning changes
// without changing sizeof(Program).
// 2: NativeFn returns the finiteness check; 3: the compile function takes lanes;
// 4: and flags (vector math); 5: and the cache folder (and says whether the
// code came from it).
constexpr uint32_t kNativeInterfaceVersion = 5;
constexpr uint64_t NativeInterface() { return (uint64_t{kNativeInterfaceVersion} << 32) | sizeof(Program); }
}  // namespace internal

}  // namespace soma::expr
