#include "expr/program.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstring>
#include <limits>

#include "expr/gop_eval.h"

namespace soma::expr {
namespace {

using internal::Opcode;
using internal::ToOpcode;

constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();

bool IsLeaf(Opcode op) { return op == ToOpcode(GOp::kConst) || op == ToOpcode(GOp::kVar); }

// A node as the program computes it: a graph node, or a graph node with an
// arithmetic operand fused into it (internal::FusedOpcode; `ops` are then
// the inner operation's two operands and the outer one's other operand).
struct PNode {
  Opcode op = 0;
  uint8_t arity = 0;
  NodeId ops[3] = {0, 0, 0};
};

// The nodes reachable from `outputs` in depth-first post-order (operands
// left to right), which is topological. Iterative, so graphs of any depth
// compile.
std::vector<NodeId> Reachable(const Graph& g, std::span<const NodeId> outputs, size_t table_size) {
  enum : uint8_t { kNew, kOpen, kDone };
  std::vector<uint8_t> state(table_size, kNew);
  std::vector<NodeId> order;
  std::vector<NodeId> stack;
  for (NodeId root : outputs) {
    stack.push_back(root);
    while (!stack.empty()) {
      const NodeId id = stack.back();
      if (state[id] == kDone) {
        stack.pop_back();
      } else if (state[id] == kOpen) {
        stack.pop_back();
        state[id] = kDone;
        order.push_back(id);
      } else {
        state[id] = kOpen;
        const Node& n = g.node(id);
        const NodeId ops[3] = {n.a, n.b, n.c};
        for (int i = n.arity - 1; i >= 0; --i) {
          if (state[ops[i]] == kNew) stack.push_back(ops[i]);
        }
      }
    }
  }
  return order;
}

// List scheduling of the non-leaf nodes of `order` (a topological order):
// among the operations whose operands are computed, keep emitting the
// current opcode while any is ready, then switch to the opcode with the
// most ready operations. Ready operations of one opcode leave in the order
// of `order` (FIFO), which keeps values near their readers.
std::vector<NodeId> GroupByOpcode(const std::vector<PNode>& pn, const std::vector<NodeId>& order, size_t table_size) {
  constexpr size_t kNumOps = internal::kNumOpcodes;
  std::vector<NodeId> ops;
  std::vector<uint32_t> local(table_size, kNone);
  for (NodeId id : order) {
    if (IsLeaf(pn[id].op)) continue;
    local[id] = static_cast<uint32_t>(ops.size());
    ops.push_back(id);
  }
  const size_t n = ops.size();
  // Readers of each operation (one entry per operand occurrence), as CSR.
  std::vector<uint32_t> pending(n, 0);
  std::vector<uint32_t> first(n + 1, 0);
  for (NodeId id : ops) {
    const PNode& nd = pn[id];
    const NodeId* operands = nd.ops;
    for (int k = 0; k < nd.arity; ++k) {
      if (local[operands[k]] != kNone) {
        ++first[local[operands[k]] + 1];
        ++pending[local[id]];
      }
    }
  }
  for (size_t i = 0; i < n; ++i) first[i + 1] += first[i];
  std::vector<uint32_t> readers(first[n]);
  std::vector<uint32_t> fill(first.begin(), first.end() - 1);
  for (NodeId id : ops) {
    const PNode& nd = pn[id];
    const NodeId* operands = nd.ops;
    for (int k = 0; k < nd.arity; ++k) {
      if (local[operands[k]] != kNone) readers[fill[local[operands[k]]]++] = local[id];
    }
  }

  std::array<std::vector<uint32_t>, kNumOps> ready;
  std::array<size_t, kNumOps> head{};
  for (uint32_t i = 0; i < n; ++i) {
    if (pending[i] == 0) ready[pn[ops[i]].op].push_back(i);
  }
  std::vector<NodeId> out;
  out.reserve(n);
  size_t cur = kNumOps;
  while (out.size() < n) {
    if (cur == kNumOps || head[cur] == ready[cur].size()) {
      size_t best = 0;
      cur = kNumOps;
      for (size_t op = 0; op < kNumOps; ++op) {
        const size_t count = ready[op].size() - head[op];
        if (count > best) {
          best = count;
          cur = op;
        }
      }
      assert(cur != kNumOps && "GroupByOpcode: cycle or lost node");
    }
    const uint32_t i = ready[cur][head[cur]++];
    out.push_back(ops[i]);
    for (uint32_t k = first[i]; k < first[i + 1]; ++k) {
      const uint32_t r = readers[k];
      if (--pending[r] == 0) ready[pn[ops[r]].op].push_back(r);
    }
  }
  return out;
}

// The registers an instruction writes and reads, from either encoding.
struct Operands {
  uint32_t dst, a, b, c;
};

// Runs blocks [first, last) of instructions from `ip` on registers `r`.
// One loop per opcode: x, y, z are the operand values.
template <typename Block, typename Code, typename Decode>
void ExecuteBlocks(const Block* first, const Block* last, const Code* ip, double* __restrict r, Decode decode) {
  using namespace internal;  // NOLINT(google-build-using-namespace): scalar helpers
  for (const Block* block = first; block != last; ++block) {
    const Code* const end = ip + block->count;
#define SOMA_OP(OP, VALUE)                       \
  case ToOpcode(GOp::OP):                        \
    _Pragma("GCC unroll 4")                      \
    for (; ip != end; ++ip) {                    \
      const Operands o = decode(ip);              \
      [[maybe_unused]] const double x = r[o.a];   \
      r[o.dst] = (VALUE);                        \
    }                                            \
    break;
#define SOMA_OP2(OP, VALUE)                                        \
  case ToOpcode(GOp::OP):                                          \
    _Pragma("GCC unroll 4")                                        \
    for (; ip != end; ++ip) {                                      \
      const Operands o = decode(ip);                               \
      const double x = r[o.a];                                     \
      const double y = r[o.b];                                     \
      r[o.dst] = (VALUE);                                          \
    }                                                              \
    break;
  static_assert(internal::kNumFused == 4 * 7, "one case below for each fused pair");
  static_assert(internal::kNumOpcodes <= 256, "opcodes are 8 bits");
#define SOMA_FUSED(INNER, OUTER, RIGHT)                                                       \
  case internal::FusedOpcode(GOp::INNER, GOp::OUTER, RIGHT):                                  \
    _Pragma("GCC unroll 4")                                                                   \
    for (; ip != end; ++ip) {                                                                 \
      const Operands o = decode(ip);                                                          \
      const double z = GOp::OUTER == GOp::kNeg ? 0.0 : r[o.c]; /* -(x . y) has no third */    \
      r[o.dst] = FusedValue<GOp::INNER, GOp::OUTER, RIGHT>(r[o.a], r[o.b], z);                \
    }                                                                                         \
    break;
#define SOMA_FUSED_INTO(INNER)       \
  SOMA_FUSED(INNER, kAdd, false)     \
  SOMA_FUSED(INNER, kSub, false)     \
  SOMA_FUSED(INNER, kSub, true)      \
  SOMA_FUSED(INNER, kMul, false)     \
  SOMA_FUSED(INNER, kDiv, false)     \
  SOMA_FUSED(INNER, kDiv, true)      \
  SOMA_FUSED(INNER, kNeg, false)
    switch (block->op) {
      case ToOpcode(GOp::kConst):
      case ToOpcode(GOp::kVar):
        break;  // never in code_
      SOMA_OP2(kAdd, x + y)
      SOMA_OP2(kSub, x - y)
      SOMA_OP2(kMul, x * y)
      SOMA_OP2(kDiv, x / y)
      SOMA_OP2(kPow, std::pow(x, y))
      SOMA_OP(kNeg, -x)
      SOMA_OP(kExp, std::exp(x))
      SOMA_OP(kLn, std::log(x))
      SOMA_OP(kLog10, std::log10(x))
      SOMA_OP(kSqrt, std::sqrt(x))
      SOMA_OP(kAbs, std::fabs(x))
      SOMA_OP(kFloor, std::floor(x))
      SOMA_OP(kCeil, std::ceil(x))
      SOMA_OP(kFactorial, FactorialOp(x))
      SOMA_OP(kSin, std::sin(x))
      SOMA_OP(kCos, std::cos(x))
      SOMA_OP(kTan, std::tan(x))
      SOMA_OP(kSinh, std::sinh(x))
      SOMA_OP(kCosh, std::cosh(x))
      SOMA_OP(kTanh, TanhOp(x))
      SOMA_OP(kAsin, std::asin(x))
      SOMA_OP(kAcos, std::acos(x))
      SOMA_OP(kAtan, std::atan(x))
      SOMA_OP(kAsinh, std::asinh(x))
      SOMA_OP(kAcosh, std::acosh(x))
      SOMA_OP(kAtanh, std::atanh(x))
      SOMA_OP2(kMin, MinOp(x, y))
      SOMA_OP2(kMax, MaxOp(x, y))
      SOMA_OP2(kRem, std::fmod(x, y))
      SOMA_OP2(kQuotient, QuotientOp(x, y))
      SOMA_OP2(kEq, Bool(x == y))
      SOMA_OP2(kNeq, Bool(x != y))
      SOMA_OP2(kLt, Bool(x < y))
      SOMA_OP2(kLe, Bool(x <= y))
      SOMA_OP2(kGt, Bool(x > y))
      SOMA_OP2(kGe, Bool(x >= y))
      SOMA_OP2(kAnd, Bool(x != 0.0 && y != 0.0))
      SOMA_OP2(kOr, Bool(x != 0.0 || y != 0.0))
      SOMA_OP2(kXor, Bool((x != 0.0) != (y != 0.0)))
      SOMA_OP(kNot, Bool(x == 0.0))
      SOMA_OP2(kSelect, EvalSelect(x, y, r[o.c]))
      SOMA_FUSED_INTO(kAdd)
      SOMA_FUSED_INTO(kSub)
      SOMA_FUSED_INTO(kMul)
      SOMA_FUSED_INTO(kDiv)
      default:
        assert(false && "Program: unknown opcode");
        break;
    }
#undef SOMA_OP
#undef SOMA_OP2
#undef SOMA_FUSED
#undef SOMA_FUSED_INTO
  }
}

}  // namespace

Program Program::Compile(const Graph& g, std::span<const NodeId> outputs) { return Compile(g, outputs, {}); }

Program Program::Compile(const Graph& g, std::span<const NodeId> outputs, const std::vector<bool>& steady_slots) {
  Program p;
  p.num_outputs_ = outputs.size();
  if (outputs.empty()) return p;
  // Dense per-node tables, indexed by NodeId: operands have smaller ids than
  // their users, so every reachable id is <= the largest output id.
  const size_t table_size = static_cast<size_t>(*std::max_element(outputs.begin(), outputs.end())) + 1;
  std::vector<NodeId> order = Reachable(g, outputs, table_size);

  // Constants: registers [0, #constants), filled by NewScratch().
  std::vector<uint32_t> reg(table_size, kNone);
  std::vector<NodeId> emit;  // variables, then the scheduled operations
  for (NodeId id : order) {
    const Node& n = g.node(id);
    if (n.op == GOp::kConst) {
      reg[id] = static_cast<uint32_t>(p.init_.size());
      p.init_.push_back(n.value);
    } else if (n.op == GOp::kVar) {
      emit.push_back(id);
    }
  }
  const uint32_t num_constants = static_cast<uint32_t>(p.init_.size());

  // Hoisting: an operation is steady when all its operands are constants,
  // steady inputs or steady operations (`order` is topological).
  std::vector<char> steady(table_size, 0);
  size_t num_steady_ops = 0;
  if (!steady_slots.empty()) {
    for (NodeId id : order) {
      const Node& n = g.node(id);
      if (n.op == GOp::kConst) {
        steady[id] = 1;
      } else if (n.op == GOp::kVar) {
        steady[id] = n.slot < steady_slots.size() && steady_slots[n.slot] ? 1 : 0;
      } else {
        const NodeId ops[3] = {n.a, n.b, n.c};
        bool all = true;
        for (int i = 0; i < n.arity; ++i) all = all && steady[ops[i]] != 0;
        steady[id] = all ? 1 : 0;
        num_steady_ops += all ? 1 : 0;
      }
    }
  }
  // A handful of operations is cheaper to compute than the comparison.
  constexpr size_t kMinHoisted = 4;
  const bool hoist = num_steady_ops >= kMinHoisted;

  // The program's nodes: graph nodes, with arithmetic operations that have
  // one reader fused into it (internal::FusedOpcode): one instruction and
  // one register less each. An output keeps its own instruction, and a
  // per-call operation does not absorb a hoisted one.
  std::vector<PNode> pn(table_size);
  std::vector<uint32_t> uses(table_size, 0);
  for (NodeId id : order) {
    const Node& n = g.node(id);
    pn[id] = {ToOpcode(n.op), n.arity, {n.a, n.b, n.c}};
    for (int i = 0; i < n.arity; ++i) ++uses[pn[id].ops[i]];
  }
  for (NodeId o : outputs) uses[o] += 2;
  {
    std::vector<char> absorbed(table_size, 0);
    auto fusable = [&](NodeId m, NodeId reader) {
      const GOp op = g.node(m).op;
      return uses[m] == 1 && pn[m].op == ToOpcode(op) && internal::InnerIndex(op) >= 0 &&
             (!hoist || steady[m] == steady[reader]);
    };
    for (NodeId id : order) {
      const GOp outer = g.node(id).op;
      if (outer != GOp::kNeg && internal::InnerIndex(outer) < 0) continue;
      PNode& n = pn[id];
      for (int k = 0; k < n.arity; ++k) {
        const NodeId m = n.ops[k];
        if (!fusable(m, id)) continue;
        const NodeId other = n.ops[1 - k];  // unused for kNeg
        const bool right = k == 1 && !internal::IsCommutative(outer);
        n = {internal::FusedOpcode(g.node(m).op, outer, right), static_cast<uint8_t>(outer == GOp::kNeg ? 2 : 3),
             {pn[m].ops[0], pn[m].ops[1], outer == GOp::kNeg ? 0 : other}};
        absorbed[m] = 1;
        break;
      }
    }
    std::erase_if(order, [&](NodeId id) { return absorbed[id] != 0; });
  }
  auto hoisted = [&](NodeId id) { return hoist && steady[id] != 0 && !IsLeaf(pn[id].op); };
  size_t prelude_end = emit.size();  // position in `emit` where the per-call code starts
  if (hoist) {
    // The steady inputs the hoisted operations read, as runs of slots
    // (bridging gaps of steady slots nobody reads, which cost little to
    // compare).
    std::vector<char> guarded(steady_slots.size(), 0);
    std::vector<NodeId> prelude_order, rest_order;
    for (NodeId id : order) {
      (hoisted(id) ? prelude_order : rest_order).push_back(id);
      if (!hoisted(id)) continue;
      const PNode& n = pn[id];
      for (int i = 0; i < n.arity; ++i) {
        if (g.node(n.ops[i]).op == GOp::kVar) guarded[g.node(n.ops[i]).slot] = 1;
      }
    }
    for (uint32_t slot = 0; slot < guarded.size(); ++slot) {
      if (guarded[slot] == 0) continue;
      constexpr uint32_t kMaxBridge = 8;
      if (!p.guard_.empty()) {
        GuardRun& last = p.guard_.back();
        const uint32_t end = last.slot + last.count;
        bool bridge = slot - end <= kMaxBridge;
        for (uint32_t k = end; bridge && k < slot; ++k) bridge = steady_slots[k];
        if (bridge) {
          last.count = slot + 1 - last.slot;
          continue;
        }
      }
      const uint32_t offset = p.guard_.empty() ? 0 : p.guard_.back().offset + p.guard_.back().count;
      p.guard_.push_back({slot, 1, offset});
    }
    // (No runs when the hoisted operations read constants only: the prelude
    // then runs once.)
    p.guard_size_ = p.guard_.empty() ? 0 : p.guard_.back().offset + p.guard_.back().count;
    std::vector<NodeId> prelude = GroupByOpcode(pn, prelude_order, table_size);
    emit.insert(emit.end(), prelude.begin(), prelude.end());
    prelude_end = emit.size();
    p.prelude_instrs_ = static_cast<uint32_t>(prelude.size());
    std::vector<NodeId> rest = GroupByOpcode(pn, rest_order, table_size);
    emit.insert(emit.end(), rest.begin(), rest.end());
  } else {
    std::vector<NodeId> scheduled = GroupByOpcode(pn, order, table_size);
    emit.insert(emit.end(), scheduled.begin(), scheduled.end());
  }

  // Liveness: position in `emit` of each node's last reader; outputs stay
  // live to the end.
  std::vector<uint32_t> last_use(table_size, 0);
  for (uint32_t pos = 0; pos < emit.size(); ++pos) {
    const PNode& n = pn[emit[pos]];
    for (int i = 0; i < n.arity; ++i) last_use[n.ops[i]] = pos;
  }
  for (NodeId o : outputs) last_use[o] = kNone;
  if (hoist) {
    // Hoisted values read by the per-call code keep their registers for
    // good (Run may skip the prelude). So do loaded variables: a register a
    // variable gave up in the prelude would be overwritten by its load on
    // the next call.
    for (size_t pos = prelude_end; pos < emit.size(); ++pos) {
      const PNode& n = pn[emit[pos]];
      for (int i = 0; i < n.arity; ++i) {
        if (hoisted(n.ops[i])) last_use[n.ops[i]] = kNone;
      }
    }
    for (NodeId id : emit) {
      if (g.node(id).op == GOp::kVar) last_use[id] = kNone;
    }
  }

  // Variables: when the program reads a large enough share of `in`, the
  // whole of in[0, num_inputs) is copied into registers [num_constants,
  // num_constants + num_inputs) by one memcpy (register = base + slot, never
  // reused), which is much cheaper than one indexed load per variable;
  // otherwise each variable is loaded into its own register.
  size_t num_vars = 0, max_slot_plus_1 = 0;
  for (NodeId id : emit) {
    if (g.node(id).op != GOp::kVar) break;  // variables come first
    ++num_vars;
    max_slot_plus_1 = std::max<size_t>(max_slot_plus_1, static_cast<size_t>(g.node(id).slot) + 1);
  }
  constexpr size_t kBlockLoadRatio = 4;  // copy up to 4 slots per variable read
  p.num_variables_ = num_vars;
  const bool block_load = num_vars > 0 && max_slot_plus_1 <= kBlockLoadRatio * num_vars;
  const uint32_t var_base = num_constants;
  const uint32_t var_end = block_load ? var_base + static_cast<uint32_t>(max_slot_plus_1) : var_base;
  if (block_load) {
    p.block_load_base_ = var_base;
    p.block_load_count_ = static_cast<uint32_t>(max_slot_plus_1);
    p.num_inputs_ = max_slot_plus_1;
  }
  auto is_temporary = [&](uint32_t r) { return r >= num_constants && !(r >= var_base && r < var_end); };
  if (hoist && block_load) {
    // Every guarded slot is read, so inside the block (runs in slot order);
    // its copy is the block's register for it.
    p.guard_in_registers_ = true;
    uint32_t at = 0;
    for (GuardRun& run : p.guard_) {
      run.offset = run.slot;
      if (run.slot > at) p.unguarded_.push_back({at, run.slot - at});
      at = run.slot + run.count;
    }
    if (at < p.block_load_count_) p.unguarded_.push_back({at, p.block_load_count_ - at});
  }

  // Register allocation in emission order. A register returns to the free
  // list at its value's last reader, which may take it as its destination
  // (every operation reads its operands before writing).
  std::vector<uint32_t> free_regs;
  uint32_t next_reg = var_end;
  for (uint32_t pos = 0; pos < emit.size(); ++pos) {
    const NodeId id = emit[pos];
    const PNode& n = pn[id];
    const NodeId* ops = n.ops;
    Instr ins{};
    uint32_t* fields[3] = {&ins.a, &ins.b, &ins.c};
    for (int i = 0; i < n.arity; ++i) *fields[i] = reg[ops[i]];
    for (int i = 0; i < n.arity; ++i) {
      const NodeId o = ops[i];
      const bool repeated = (i >= 1 && ops[0] == o) || (i == 2 && ops[1] == o);
      if (!repeated && is_temporary(reg[o]) && last_use[o] == pos) free_regs.push_back(reg[o]);
    }
    const bool is_var = n.op == ToOpcode(GOp::kVar);
    if (is_var && block_load) {
      reg[id] = var_base + g.node(id).slot;
      continue;
    }
    uint32_t dst;
    if (!free_regs.empty()) {
      dst = free_regs.back();
      free_regs.pop_back();
    } else {
      dst = next_reg++;
    }
    reg[id] = dst;
    if (is_var) {
      const uint32_t slot = g.node(id).slot;
      p.loads_.push_back({dst, slot});
      p.num_inputs_ = std::max<size_t>(p.num_inputs_, static_cast<size_t>(slot) + 1);
      continue;
    }
    ins.dst = dst;
    p.code_.push_back(ins);
    // The per-call code starts a block of its own.
    const bool starts_per_call = hoist && pos == prelude_end;
    if (p.blocks_.empty() || p.blocks_.back().op != n.op || starts_per_call) p.blocks_.push_back({n.op, 0});
    ++p.blocks_.back().count;
  }
  for (uint32_t covered = 0; covered < p.prelude_instrs_; ++p.prelude_blocks_) {
    covered += p.blocks_[p.prelude_blocks_].count;
  }
  if (next_reg <= (1u << 16)) {
    p.packed_.reserve(p.code_.size());
    for (const Instr& i : p.code_) {
      p.packed_.push_back(uint64_t{i.dst} | uint64_t{i.a} << 16 | uint64_t{i.b} << 32 | uint64_t{i.c} << 48);
    }
  }
  p.init_.resize(next_reg, 0.0);
  constexpr size_t kMinFill = 4;
  for (size_t i = 0; i < outputs.size();) {
    const uint32_t r = reg[outputs[i]];
    size_t j = i + 1;
    while (j < outputs.size() && reg[outputs[j]] == r) ++j;
    if (r < num_constants && j - i >= kMinFill) {
      const bool zero = std::bit_cast<uint64_t>(p.init_[r]) == 0;  // +0.0
      p.fills_.push_back({static_cast<uint32_t>(i), static_cast<uint32_t>(j - i), r, zero ? 1u : 0u});
    } else {
      for (size_t k = i; k < j; ++k) p.copies_.push_back({static_cast<uint32_t>(k), r});
    }
    i = j;
  }
  return p;
}

std::vector<double> Program::NewScratch() const {
  std::vector<double> scratch(scratch_size(), 0.0);  // the prelude-done flag starts at 0
  std::copy(init_.begin(), init_.end(), scratch.begin());
  return scratch;
}


namespace {
// 1 when v is NaN or infinite (all exponent bits set), without a branch.
inline uint64_t NotFinite(double v) {
  constexpr uint64_t kExponent = 0x7ff0000000000000ULL;
  return static_cast<uint64_t>((std::bit_cast<uint64_t>(v) & kExponent) == kExponent);
}

}  // namespace

// The interpreter (Run and RunFinite call native code themselves).
template <bool kCheckFinite>
bool Program::Execute(const double* __restrict in, double* __restrict out, double* __restrict scratch) const {
  double* const r = scratch;
  const Instr* ip = code_.data();
  const Block* first_block = blocks_.data();
  // Whether the steady inputs the hoisted operations read are what they
  // were last computed from: compared with their copy (guard run k at
  // guard_copy + offset), before the loads below, which overwrite that copy
  // where it is the block's own registers. The last scratch entry is 1 once
  // the prelude has run.
  bool skip_prelude = false;
  double* const guard_copy = r + (guard_in_registers_ ? block_load_base_ : init_.size());
  double* const prelude_ran = prelude_instrs_ > 0 ? r + scratch_size() - 1 : nullptr;
  if (prelude_ran != nullptr) {
    skip_prelude = *prelude_ran != 0.0;
    for (size_t k = 0; skip_prelude && k < guard_.size(); ++k) {
      const GuardRun& g = guard_[k];
      skip_prelude = std::memcmp(guard_copy + g.offset, in + g.slot, g.count * sizeof(double)) == 0;
    }
  }
  if (skip_prelude && guard_in_registers_) {
    // The guarded part of the block is unchanged: copy the rest.
    for (const Span& u : unguarded_) std::memcpy(guard_copy + u.slot, in + u.slot, u.count * sizeof(double));
  } else if (block_load_count_ > 0) {
    std::memcpy(r + block_load_base_, in, block_load_count_ * sizeof(double));
  }
  for (const Load& l : loads_) r[l.reg] = in[l.slot];
  if (skip_prelude) {
    ip += prelude_instrs_;
    first_block += prelude_blocks_;
  } else if (prelude_ran != nullptr) {
    if (!guard_in_registers_) {
      for (const GuardRun& g : guard_) std::memcpy(guard_copy + g.offset, in + g.slot, g.count * sizeof(double));
    }
    *prelude_ran = 1.0;
  }
  if (!packed_.empty()) {
    // Registers fit 16 bits: each instruction is one 8-byte load.
    ExecuteBlocks(first_block, blocks_.data() + blocks_.size(), packed_.data() + (ip - code_.data()), r,
                  [](const uint64_t* i) {
                    const uint64_t w = *i;
                    return Operands{static_cast<uint32_t>(w & 0xffff), static_cast<uint32_t>((w >> 16) & 0xffff),
                                    static_cast<uint32_t>((w >> 32) & 0xffff), static_cast<uint32_t>(w >> 48)};
                  });
  } else {
    ExecuteBlocks(first_block, blocks_.data() + blocks_.size(), ip, r,
                  [](const Instr* i) { return Operands{i->dst, i->a, i->b, i->c}; });
  }
  uint64_t bad = 0;
  for (const Copy& c : copies_) {
    const double v = r[c.reg];
    out[c.out] = v;
    if constexpr (kCheckFinite) bad |= NotFinite(v);
  }
  for (const Fill& f : fills_) {
    if (f.zero != 0) {
      std::memset(out + f.begin, 0, f.count * sizeof(double));
    } else {
      std::fill_n(out + f.begin, f.count, r[f.reg]);
      if constexpr (kCheckFinite) bad |= NotFinite(r[f.reg]);
    }
  }
  return bad == 0;
}

template bool Program::Execute<false>(const double*, double*, double*) const;
template bool Program::Execute<true>(const double*, double*, double*) const;

}  // namespace soma::expr
