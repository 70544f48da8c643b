// The LLVM half of expr/jit.h, built as its own shared library
// (libsoma_jit.so) that jit.cpp loads on first use: linking libLLVM into
// every soma process would add about 50 ms to each start for relocating it.
// Entry point: soma_expr_compile_native below.

#include <cmath>

#include <dlfcn.h>

#include <llvm/Bitcode/BitcodeWriter.h>
#include <llvm/Config/llvm-config.h>
#include <llvm/ExecutionEngine/ObjectCache.h>
#include <llvm/ExecutionEngine/Orc/CompileUtils.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/ADT/StringMap.h>
#include <llvm/Support/CRC.h>
#include <llvm/Support/Host.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/SHA1.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "expr/gop_eval.h"
#include "expr/program.h"

namespace soma::expr {

namespace internal {

// What the compiler reads of a Program, and where it attaches the code.
struct ProgramAccess {
  static const auto& init(const Program& p) { return p.init_; }
  static uint32_t block_base(const Program& p) { return p.block_load_base_; }
  static uint32_t block_count(const Program& p) { return p.block_load_count_; }
  static const auto& loads(const Program& p) { return p.loads_; }
  static const auto& blocks(const Program& p) { return p.blocks_; }
  static const auto& code(const Program& p) { return p.code_; }
  static const auto& copies(const Program& p) { return p.copies_; }
  static const auto& fills(const Program& p) { return p.fills_; }
  using Fn = Program::NativeFn;
  static void Attach(Program* p, Fn fn, std::shared_ptr<const void> code, int lanes) {
    if (lanes == 1) {
      p->native_ = fn;
      p->native_code_ = std::move(code);
    } else {
      p->lanes_native_ = fn;
      p->lanes_ = lanes;
      p->lanes_code_ = std::move(code);
    }
  }
};

}  // namespace internal

namespace {

// The operations LLVM has no single exact instruction for, as plain
// functions with the interpreter's semantics (gop_eval.h).
template <GOp kOp>
double Unary(double x) {
  return internal::EvalUnary(kOp, x);
}
template <GOp kOp>
double Binary(double x, double y) {
  return internal::EvalBinary(kOp, x, y);
}

using UnaryFn = double (*)(double);
using BinaryFn = double (*)(double, double);

UnaryFn UnaryFunction(GOp op) {
  switch (op) {
    case GOp::kExp: return &Unary<GOp::kExp>;
    case GOp::kLn: return &Unary<GOp::kLn>;
    case GOp::kLog10: return &Unary<GOp::kLog10>;
    case GOp::kFactorial: return &Unary<GOp::kFactorial>;
    case GOp::kSin: return &Unary<GOp::kSin>;
    case GOp::kCos: return &Unary<GOp::kCos>;
    case GOp::kTan: return &Unary<GOp::kTan>;
    case GOp::kSinh: return &Unary<GOp::kSinh>;
    case GOp::kCosh: return &Unary<GOp::kCosh>;
    case GOp::kTanh: return &Unary<GOp::kTanh>;
    case GOp::kAsin: return &Unary<GOp::kAsin>;
    case GOp::kAcos: return &Unary<GOp::kAcos>;
    case GOp::kAtan: return &Unary<GOp::kAtan>;
    case GOp::kAsinh: return &Unary<GOp::kAsinh>;
    case GOp::kAcosh: return &Unary<GOp::kAcosh>;
    case GOp::kAtanh: return &Unary<GOp::kAtanh>;
    default: return nullptr;
  }
}

BinaryFn BinaryFunction(GOp op) {
  switch (op) {
    case GOp::kPow: return &Binary<GOp::kPow>;
    case GOp::kRem: return &Binary<GOp::kRem>;
    default: return nullptr;
  }
}

// glibc's vector math library (libmvec, part of libc6): the variant of
// `name` (exp, tanh, pow, ...) for `lanes` doubles in one register on this
// CPU, or null where the CPU lacks the register width or libmvec is
// missing. The x86-64 vector function ABI names them _ZGV<isa>N<lanes><v per
// argument>_<name>: b = SSE (2 lanes), d = AVX2 (4), e = AVX-512 (8);
// their results are within 4 units in the last place of the scalar ones.
void* VectorFunction(const char* name, int arity, int lanes, std::string* symbol) {
  static void* const library = dlopen("libmvec.so.1", RTLD_NOW | RTLD_LOCAL);
  static const llvm::StringMap<bool> features = [] {
    llvm::StringMap<bool> f;
    if (!llvm::sys::getHostCPUFeatures(f)) f.clear();
    return f;
  }();
  if (library == nullptr) return nullptr;
  auto has = [&](const char* feature) { return features.lookup(feature); };
  const char* isa = nullptr;
  if (lanes == 2) isa = "b";
  if (lanes == 4 && has("avx2")) isa = "d";
  if (lanes == 8 && has("avx512f")) isa = "e";
  if (isa == nullptr) return nullptr;
  *symbol = std::string("_ZGV") + isa + "N" + std::to_string(lanes) + (arity == 2 ? "vv_" : "v_") + name;
  return dlsym(library, symbol->c_str());
}

// The libmvec name of an operation whose interpreter function is that
// function of libm (or, for tanh, the same function more cheaply).
const char* VectorName(GOp op) {
  switch (op) {
    case GOp::kExp: return "exp";
    case GOp::kLn: return "log";
    case GOp::kLog10: return "log10";
    case GOp::kSin: return "sin";
    case GOp::kCos: return "cos";
    case GOp::kTan: return "tan";
    case GOp::kSinh: return "sinh";
    case GOp::kCosh: return "cosh";
    case GOp::kTanh: return "tanh";
    case GOp::kAsin: return "asin";
    case GOp::kAcos: return "acos";
    case GOp::kAtan: return "atan";
    case GOp::kAsinh: return "asinh";
    case GOp::kAcosh: return "acosh";
    case GOp::kAtanh: return "atanh";
    case GOp::kPow: return "pow";
    default: return nullptr;
  }
}

std::string ErrorText(llvm::Error e) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << e;
  return os.str();
}

// The LLJIT instance that owns the machine code of a set of programs (and
// the object cache its compiler was given, which must outlive it).
struct Code {
  std::unique_ptr<llvm::ObjectCache> cache;
  std::unique_ptr<llvm::orc::LLJIT> jit;
};

// Operations per generated function (see Translator::Add).
constexpr size_t kChunk = 150;
// Most values passed between those functions (doubles on the stack: 1 MiB).
constexpr uint32_t kMaxSpill = 1u << 17;

class Translator {
 public:
  // lanes > 1: every value is a vector of that many doubles, one member
  // of a batch per lane (see CompileNativeLanes in jit.h).
  Translator(llvm::LLVMContext& ctx, llvm::Module& module, int lanes, bool vector_math)
      : ctx_(ctx), module_(module), b_(ctx), f64_(llvm::Type::getDoubleTy(ctx)),
        i64_(llvm::Type::getInt64Ty(ctx)), lanes_(lanes), vector_math_(vector_math && lanes > 1),
        ty_(lanes > 1 ? static_cast<llvm::Type*>(llvm::FixedVectorType::get(f64_, static_cast<unsigned>(lanes)))
                      : f64_) {}

  // One program as function `name`(in, out, scratch); see the file comment
  // in jit.h.
  //
  // Order: the interpreter's code is grouped by opcode (all products, then
  // all sums, ...), which keeps hundreds of values alive at once; native
  // code would spend its time spilling them and LLVM its time allocating
  // registers. The operations are re-emitted depth first from each output
  // instead, so a value is mostly used right after it is computed.
  //
  // Size: that order is cut into chunks of kChunk operations, each its own
  // function, because LLVM's scheduling and register allocation grow faster
  // than linearly with a function's size. Values used by a later chunk pass
  // through a stack buffer of `main`; `scratch` is not used.
  // False (nothing emitted) for a program whose values across functions
  // would not fit kMaxSpill on the stack: it stays interpreted.
  bool Add(const std::string& name, const Program& p) {
    using internal::ProgramAccess;
    const auto& init = ProgramAccess::init(p);
    const auto& code = ProgramAccess::code(p);
    const auto& copies = ProgramAccess::copies(p);
    const uint32_t block_base = ProgramAccess::block_base(p), block_count = ProgramAccess::block_count(p);
    const size_t n = code.size();
    std::vector<internal::Opcode> ops;
    ops.reserve(n);
    for (const auto& block : ProgramAccess::blocks(p)) ops.insert(ops.end(), block.count, block.op);
    // SSA view: what each register holds at each point. A source is an
    // operation (index into code), an input slot or a constant register.
    enum Kind : uint8_t { kConstReg, kInput, kOp };
    struct Source {
      Kind kind;
      uint32_t index;
    };
    std::vector<Source> holds(init.size());
    for (uint32_t reg = 0; reg < init.size(); ++reg) holds[reg] = {kConstReg, reg};
    for (uint32_t sl = 0; sl < block_count; ++sl) holds[block_base + sl] = {kInput, sl};
    size_t inputs = block_count;  // 1 + the largest slot read
    for (const auto& l : ProgramAccess::loads(p)) {
      holds[l.reg] = {kInput, l.slot};
      inputs = std::max<size_t>(inputs, l.slot + 1);
    }
    std::vector<std::array<Source, 3>> operands(n);
    for (size_t ip = 0; ip < n; ++ip) {
      const auto& in = code[ip];
      const int arity = internal::OpcodeArity(ops[ip]);
      const uint32_t regs[3] = {in.a, in.b, in.c};
      for (int k = 0; k < 3; ++k) operands[ip][k] = k < arity ? holds[regs[k]] : Source{kConstReg, 0};
      holds[in.dst] = {kOp, static_cast<uint32_t>(ip)};
    }
    std::vector<Source> out_source(copies.size());
    for (size_t k = 0; k < copies.size(); ++k) out_source[k] = holds[copies[k].reg];
    // Depth-first post-order from the outputs, iteratively (chains may be
    // hundreds of thousands deep).
    std::vector<uint32_t> order;
    order.reserve(n);
    {
      std::vector<char> state(n, 0);  // 1: on the stack, 2: emitted
      std::vector<std::pair<uint32_t, int>> stack;
      for (const Source& src : out_source) {
        if (src.kind != kOp || state[src.index] != 0) continue;
        stack.push_back({src.index, 0});
        state[src.index] = 1;
        while (!stack.empty()) {
          auto& [ip, next] = stack.back();
          const int arity = internal::OpcodeArity(ops[ip]);
          if (next < arity) {
            const Source& o = operands[ip][next++];
            if (o.kind == kOp && state[o.index] == 0) {
              state[o.index] = 1;
              stack.push_back({o.index, 0});
            }
            continue;
          }
          state[ip] = 2;
          order.push_back(ip);
          stack.pop_back();
        }
      }
    }
    const size_t m = order.size();
    const size_t chunks = std::max<size_t>(1, (m + kChunk - 1) / kChunk);
    std::vector<uint32_t> chunk_of(n, 0);
    for (size_t pos = 0; pos < m; ++pos) chunk_of[order[pos]] = static_cast<uint32_t>(pos / kChunk);
    // Values read by a later chunk than their own get a stack slot, reused
    // once its last reader's chunk is done.
    std::vector<uint32_t> last_chunk(n, 0);
    for (size_t ip = 0; ip < n; ++ip) {
      for (int k = 0; k < internal::OpcodeArity(ops[ip]); ++k) {
        const Source& o = operands[ip][k];
        if (o.kind == kOp) last_chunk[o.index] = std::max(last_chunk[o.index], chunk_of[ip]);
      }
    }
    constexpr uint32_t kNoSlot = ~0u;
    std::vector<uint32_t> slot(n, kNoSlot);
    uint32_t slots = 0;
    {
      std::vector<uint32_t> free_slots;
      std::vector<std::vector<uint32_t>> release(chunks);
      for (size_t pos = 0; pos < m; ++pos) {
        const uint32_t ip = order[pos];
        const uint32_t c = chunk_of[ip];
        if (pos % kChunk == 0 && c > 0) {
          for (uint32_t sl : release[c - 1]) free_slots.push_back(sl);
        }
        if (last_chunk[ip] <= c) continue;
        if (free_slots.empty()) {
          slot[ip] = slots++;
        } else {
          slot[ip] = free_slots.back();
          free_slots.pop_back();
        }
        release[last_chunk[ip]].push_back(slot[ip]);
      }
    }
    if (static_cast<uint64_t>(slots) * static_cast<uint64_t>(lanes_) > kMaxSpill) return false;
    std::vector<std::vector<size_t>> copies_in(chunks);
    for (size_t k = 0; k < copies.size(); ++k) {
      copies_in[out_source[k].kind == kOp ? chunk_of[out_source[k].index] : 0].push_back(k);
    }

    llvm::Type* ptr = llvm::PointerType::getUnqual(f64_);
    // Each function returns 1 when an output it stored is NaN or infinite.
    auto* type = llvm::FunctionType::get(i64_, {ptr, ptr, ptr}, false);
    auto function = [&](const std::string& fname, llvm::GlobalValue::LinkageTypes linkage) {
      auto* f = llvm::Function::Create(type, linkage, fname, module_);
      f->addFnAttr(llvm::Attribute::NoUnwind);
      f->addFnAttr(llvm::Attribute::NoInline);
      // 8 lanes pass to libmvec's AVX-512 functions in one zmm register,
      // whatever vector width LLVM prefers for this CPU.
      if (vector_math_ && lanes_ == 8) f->addFnAttr("min-legal-vector-width", "512");
      for (unsigned a = 0; a < 3; ++a) f->addParamAttr(a, llvm::Attribute::NoAlias);
      return f;
    };
    llvm::Function* main = function(name, llvm::Function::ExternalLinkage);
    std::vector<llvm::Value*> value(n, nullptr);
    std::vector<llvm::Value*> input(inputs, nullptr);  // in[slot] as loaded in the current chunk
    for (size_t c = 0; c < chunks; ++c) {
      llvm::Function* f = chunks == 1 ? main : function(name + "_" + std::to_string(c), llvm::Function::InternalLinkage);
      llvm::Value* in = f->getArg(0);
      llvm::Value* out = f->getArg(1);
      llvm::Value* spill = f->getArg(2);  // main's stack buffer when chunked
      b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", f));
      auto at = [&](llvm::Value* base, uint64_t k) { return b_.CreateConstInBoundsGEP1_64(f64_, base, k); };
      // Value k of an array of values (lanes_ doubles each).
      auto value_at = [&](llvm::Value* base, uint64_t k) {
        llvm::Value* first = at(base, k * static_cast<uint64_t>(lanes_));
        return lanes_ > 1 ? b_.CreateBitCast(first, llvm::PointerType::getUnqual(ty_)) : first;
      };
      auto load = [&](llvm::Value* base, uint64_t k) {
        return b_.CreateAlignedLoad(ty_, value_at(base, k), llvm::MaybeAlign(8));
      };
      auto store = [&](llvm::Value* v, llvm::Value* base, uint64_t k) {
        b_.CreateAlignedStore(v, value_at(base, k), llvm::MaybeAlign(8));
      };
      std::fill(input.begin(), input.end(), nullptr);
      auto get = [&](const Source& o) -> llvm::Value* {
        switch (o.kind) {
          case kConstReg: return llvm::ConstantFP::get(ty_, init[o.index]);
          case kInput:
            if (input[o.index] == nullptr) input[o.index] = load(in, o.index);
            return input[o.index];
          case kOp:
            if (chunk_of[o.index] == c) return value[o.index];
            return load(spill, slot[o.index]);
        }
        return nullptr;
      };
      for (size_t pos = c * kChunk; pos < std::min(m, (c + 1) * kChunk); ++pos) {
        const uint32_t ip = order[pos];
        const auto& o = operands[ip];
        const int arity = internal::OpcodeArity(ops[ip]);
        llvm::Value* x = arity >= 1 ? get(o[0]) : nullptr;
        llvm::Value* y = arity >= 2 ? get(o[1]) : nullptr;
        llvm::Value* z = arity >= 3 ? get(o[2]) : nullptr;
        value[ip] = EmitOpcode(ops[ip], x, y, z);
        if (slot[ip] != kNoSlot) store(value[ip], spill, slot[ip]);
      }
      // |v| == inf or v unordered (NaN), or-ed over the outputs stored.
      // (Per lane with lanes: a vector of i1.)
      llvm::Value* not_finite = llvm::Constant::getNullValue(llvm::CmpInst::makeCmpResultType(ty_));
      llvm::Value* inf = llvm::ConstantFP::getInfinity(ty_);
      for (size_t k : copies_in[c]) {
        llvm::Value* v = get(out_source[k]);
        store(v, out, copies[k].out);
        not_finite = b_.CreateOr(not_finite, b_.CreateFCmpUEQ(Intrinsic(llvm::Intrinsic::fabs, v), inf));
      }
      if (c == 0) {
        for (const auto& fill : ProgramAccess::fills(p)) {  // runs of one constant
          if (fill.zero != 0) {
            b_.CreateMemSet(value_at(out, fill.begin), b_.getInt8(0),
                            static_cast<uint64_t>(fill.count) * static_cast<uint64_t>(lanes_) * sizeof(double),
                            llvm::MaybeAlign(8));
          } else {
            for (uint32_t k = 0; k < fill.count; ++k) store(get(holds[fill.reg]), out, fill.begin + k);
            if (!std::isfinite(init[fill.reg])) {
              not_finite = llvm::Constant::getAllOnesValue(llvm::CmpInst::makeCmpResultType(ty_));
            }
          }
        }
      }
      // One bit per lane (lane 0 lowest): the lanes with an output not finite.
      if (lanes_ > 1) not_finite = b_.CreateBitCast(not_finite, b_.getIntNTy(static_cast<unsigned>(lanes_)));
      b_.CreateRet(b_.CreateZExt(not_finite, i64_));
    }
    if (chunks > 1) {
      b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", main));
      llvm::Value* buffer =
          b_.CreateAlloca(f64_, b_.getInt64(static_cast<uint64_t>(std::max<uint32_t>(slots, 1)) * lanes_));
      llvm::Value* not_finite = b_.getInt64(0);
      for (size_t c = 0; c < chunks; ++c) {
        llvm::Value* chunk = b_.CreateCall(module_.getFunction(name + "_" + std::to_string(c)),
                                           {main->getArg(0), main->getArg(1), buffer});
        not_finite = b_.CreateOr(not_finite, chunk);
      }
      b_.CreateRet(not_finite);
    }
    return true;
  }

 private:
  llvm::Value* Bool(llvm::Value* i1) { return b_.CreateUIToFP(i1, ty_); }
  // x != 0 (NaN is true): the interpreter's truth of a value.
  llvm::Value* Truth(llvm::Value* x) { return b_.CreateFCmpUNE(x, llvm::ConstantFP::get(ty_, 0.0)); }
  // A call of the function at `fn` by its name, which the JIT links to
  // `fn` (externals()): the machine code holds no address of this process,
  // so the on-disk cache can hand it to another one.
  llvm::Value* Call(const std::string& symbol, void* fn, llvm::FunctionType* type,
                    std::initializer_list<llvm::Value*> args) {
    externals_.emplace(symbol, fn);
    llvm::FunctionCallee callee = module_.getOrInsertFunction(symbol, type);
    llvm::CallInst* call = b_.CreateCall(callee, args);
    call->addFnAttr(llvm::Attribute::NoUnwind);
    call->addFnAttr(llvm::Attribute::ReadNone);
    call->addFnAttr(llvm::Attribute::WillReturn);
    return call;
  }
  // The scalar function on each lane (the interpreter's, so the same bits).
  llvm::Value* CallPerLane(const std::string& symbol, void* fn, llvm::FunctionType* type,
                           std::initializer_list<llvm::Value*> args) {
    if (lanes_ == 1) return Call(symbol, fn, type, args);
    llvm::Value* result = llvm::UndefValue::get(ty_);
    for (int l = 0; l < lanes_; ++l) {
      const uint64_t lane = static_cast<uint64_t>(l);
      llvm::Value* a = b_.CreateExtractElement(*args.begin(), lane);
      llvm::Value* v = args.size() == 1
                           ? Call(symbol, fn, type, {a})
                           : Call(symbol, fn, type, {a, b_.CreateExtractElement(*(args.begin() + 1), lane)});
      result = b_.CreateInsertElement(result, v, lane);
    }
    return result;
  }
  llvm::Value* Intrinsic(llvm::Intrinsic::ID id, llvm::Value* x) {
    return b_.CreateUnaryIntrinsic(id, x);
  }

  // A program instruction: one GOp, or a fused pair as its two operations
  // (the interpreter rounds after each too).
  llvm::Value* EmitOpcode(internal::Opcode op, llvm::Value* x, llvm::Value* y, llvm::Value* z) {
    if (!internal::IsFused(op)) return Emit(static_cast<GOp>(op), x, y, z);
    const internal::FusedPair pair = internal::FusedPairOf(op);
    llvm::Value* u = Emit(pair.inner, x, y, nullptr);
    if (pair.outer == GOp::kNeg) return Emit(GOp::kNeg, u, nullptr, nullptr);
    return pair.right ? Emit(pair.outer, z, u, nullptr) : Emit(pair.outer, u, z, nullptr);
  }

  llvm::Value* Emit(GOp op, llvm::Value* x, llvm::Value* y, llvm::Value* z) {
    switch (op) {
      case GOp::kAdd: return b_.CreateFAdd(x, y);
      case GOp::kSub: return b_.CreateFSub(x, y);
      case GOp::kMul: return b_.CreateFMul(x, y);
      case GOp::kDiv: return b_.CreateFDiv(x, y);
      case GOp::kNeg: return b_.CreateFNeg(x);
      case GOp::kSqrt: return Intrinsic(llvm::Intrinsic::sqrt, x);
      case GOp::kAbs: return Intrinsic(llvm::Intrinsic::fabs, x);
      case GOp::kFloor: return Intrinsic(llvm::Intrinsic::floor, x);
      case GOp::kCeil: return Intrinsic(llvm::Intrinsic::ceil, x);
      case GOp::kQuotient: return Intrinsic(llvm::Intrinsic::trunc, b_.CreateFDiv(x, y));
      // min/max: the first operand unless the other is smaller (larger) and
      // the first is a number, as MinOp/MaxOp.
      case GOp::kMin: return b_.CreateSelect(b_.CreateOr(b_.CreateFCmpOLE(x, y), b_.CreateFCmpUNO(x, x)), x, y);
      case GOp::kMax: return b_.CreateSelect(b_.CreateOr(b_.CreateFCmpOGE(x, y), b_.CreateFCmpUNO(x, x)), x, y);
      case GOp::kEq: return Bool(b_.CreateFCmpOEQ(x, y));
      case GOp::kNeq: return Bool(b_.CreateFCmpUNE(x, y));
      case GOp::kLt: return Bool(b_.CreateFCmpOLT(x, y));
      case GOp::kLe: return Bool(b_.CreateFCmpOLE(x, y));
      case GOp::kGt: return Bool(b_.CreateFCmpOGT(x, y));
      case GOp::kGe: return Bool(b_.CreateFCmpOGE(x, y));
      case GOp::kAnd: return Bool(b_.CreateAnd(Truth(x), Truth(y)));
      case GOp::kOr: return Bool(b_.CreateOr(Truth(x), Truth(y)));
      case GOp::kXor: return Bool(b_.CreateXor(Truth(x), Truth(y)));
      case GOp::kNot: return Bool(b_.CreateFCmpOEQ(x, llvm::ConstantFP::get(ty_, 0.0)));
      case GOp::kSelect: return b_.CreateSelect(Truth(x), y, z);
      default: break;
    }
    if (vector_math_) {
      if (const char* name = VectorName(op)) {
        const int arity = op == GOp::kPow ? 2 : 1;
        std::string symbol;
        if (void* fn = VectorFunction(name, arity, lanes_, &symbol)) {
          auto* type = llvm::FunctionType::get(ty_, arity == 2 ? std::vector<llvm::Type*>{ty_, ty_}
                                                               : std::vector<llvm::Type*>{ty_}, false);
          return arity == 2 ? Call(symbol, fn, type, {x, y}) : Call(symbol, fn, type, {x});
        }
      }
    }
    const std::string symbol = "soma_op_" + std::to_string(static_cast<int>(op));
    if (UnaryFn fn = UnaryFunction(op)) {
      return CallPerLane(symbol, reinterpret_cast<void*>(fn), llvm::FunctionType::get(f64_, {f64_}, false), {x});
    }
    if (BinaryFn fn = BinaryFunction(op)) {
      return CallPerLane(symbol, reinterpret_cast<void*>(fn), llvm::FunctionType::get(f64_, {f64_, f64_}, false),
                         {x, y});
    }
    // kConst and kVar never appear in a Program's code.
    return llvm::ConstantFP::getNaN(ty_);
  }

  llvm::LLVMContext& ctx_;
  llvm::Module& module_;
  llvm::IRBuilder<> b_;
  llvm::Type* f64_;
  llvm::Type* i64_;
  int lanes_;
  bool vector_math_;  // libmvec's functions where it has them (VectorFunction)
  llvm::Type* ty_;  // a value: f64_, or lanes_ of them
  std::map<std::string, void*> externals_;  // the functions called, by symbol

 public:
  const std::map<std::string, void*>& externals() const { return externals_; }
};

// The on-disk cache of machine code (jit.h): one file per module, named by
// the SHA-1 of its bitcode and of what else decides the code (LLVM's
// version, the target, the CPU and its features, the native interface),
// holding the object file and its CRC-32. Best effort: a file that is
// missing, unreadable or fails its CRC is compiled again (and rewritten);
// a cache that cannot be written is skipped. Files are written whole under
// a temporary name and renamed, so processes that share the folder (MPI
// ranks, say) never read half a file. At most kMaxEntries files; the ones
// least recently used go first, and a temporary file a killed writer left
// after an hour. Machine code is code: the folder is made
// private to the user (0700) and not used when another user owns it or
// others may write to it.
class DiskCache : public llvm::ObjectCache {
 public:
  DiskCache(std::filesystem::path dir, std::string salt) : dir_(std::move(dir)), salt_(std::move(salt)) {
    std::error_code ec;
    if (dir_.has_parent_path()) std::filesystem::create_directories(dir_.parent_path(), ec);
    ::mkdir(dir_.c_str(), 0700);  // fails harmlessly when it exists
    struct stat st {};
    usable_ = ::stat(dir_.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == ::geteuid() &&
              (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
  }

  std::unique_ptr<llvm::MemoryBuffer> getObject(const llvm::Module* module) override {
    if (!usable_) return nullptr;
    llvm::SmallVector<char, 0> bitcode;
    llvm::raw_svector_ostream os(bitcode);
    llvm::WriteBitcodeToFile(*module, os);
    llvm::SHA1 sha;
    sha.update(salt_);
    sha.update(llvm::StringRef(bitcode.data(), bitcode.size()));
    static constexpr char kHex[] = "0123456789abcdef";
    std::string key;
    for (uint8_t byte : sha.final()) {
      key += kHex[byte >> 4];
      key += kHex[byte & 15];
    }
    path_ = dir_ / (key + ".o");
    auto file = llvm::MemoryBuffer::getFile(path_.string(), /*IsText=*/false, /*RequiresNullTerminator=*/false);
    if (!file) return nullptr;
    const llvm::StringRef bytes = (*file)->getBuffer();
    if (bytes.size() <= sizeof(uint32_t)) return nullptr;
    const llvm::StringRef object = bytes.drop_back(sizeof(uint32_t));
    uint32_t crc = 0;
    std::memcpy(&crc, bytes.data() + object.size(), sizeof crc);
    if (llvm::crc32(llvm::arrayRefFromStringRef(object)) != crc) return nullptr;
    hit_ = true;
    std::error_code ec;
    std::filesystem::last_write_time(path_, std::filesystem::file_time_type::clock::now(), ec);  // recently used
    return llvm::MemoryBuffer::getMemBufferCopy(object, path_.string());
  }

  void notifyObjectCompiled(const llvm::Module*, llvm::MemoryBufferRef object) override {
    if (path_.empty()) return;
    namespace fs = std::filesystem;
    std::error_code ec;
    // Unique to this process and compile: others may write the same key.
    static std::atomic<uint64_t> writes{0};
    const fs::path temporary =
        path_.string() + "." + std::to_string(::getpid()) + "." + std::to_string(writes.fetch_add(1)) + ".tmp";
    const uint32_t crc = llvm::crc32(llvm::arrayRefFromStringRef(object.getBuffer()));
    {
      std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
      out.write(object.getBufferStart(), static_cast<std::streamsize>(object.getBufferSize()));
      out.write(reinterpret_cast<const char*>(&crc), sizeof crc);
      if (!out.flush()) {
        out.close();
        fs::remove(temporary, ec);
        return;
      }
    }
    fs::rename(temporary, path_, ec);
    if (ec) {
      fs::remove(temporary, ec);
      return;
    }
    Prune();
  }

  bool hit() const { return hit_; }

 private:
  static constexpr size_t kMaxEntries = 256;

  void Prune() {
    namespace fs = std::filesystem;
    std::vector<std::pair<fs::file_time_type, fs::path>> entries;
    std::error_code ec;
    const auto stale = fs::file_time_type::clock::now() - std::chrono::hours(1);
    for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
      const fs::file_time_type written = it->last_write_time(ec);
      if (it->path().extension() == ".o") entries.emplace_back(written, it->path());
      // A temporary file left by a process killed while writing it.
      if (it->path().extension() == ".tmp" && written < stale) fs::remove(it->path(), ec);
    }
    if (entries.size() <= kMaxEntries) return;
    std::sort(entries.begin(), entries.end());
    for (size_t k = 0; k + kMaxEntries < entries.size(); ++k) fs::remove(entries[k].second, ec);
  }

  std::filesystem::path dir_;
  std::string salt_;
  std::filesystem::path path_;  // this module's file
  bool usable_ = false;
  bool hit_ = false;
};

// Compiles programs[0, n) and attaches the code; false with *error set on
// failure (nothing attached). With a cache folder, machine code compiled
// before for the same module is taken from there (*cached = true). Called
// by CompileNative (jit.cpp) through dlsym.
bool Compile(Program* const* programs, size_t n, int lanes, bool vector_math, const char* cache_dir, bool* cached,
             std::string* error) {
  *cached = false;
  using internal::ProgramAccess;
  static std::once_flag targets;
  std::call_once(targets, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
  auto ctx = std::make_unique<llvm::LLVMContext>();
  auto module = std::make_unique<llvm::Module>("soma_programs", *ctx);
  Translator t(*ctx, *module, lanes, vector_math);
  std::vector<char> added(n, 0);
  for (size_t k = 0; k < n; ++k) {
    added[k] = t.Add("program_" + std::to_string(k), *programs[k]);
  }
  auto fail = [&](const std::string& why) {
    *error = why;
    return false;
  };
  std::string broken;
  llvm::raw_string_ostream why(broken);
  if (llvm::verifyModule(*module, &why)) return fail("invalid LLVM module: " + why.str());
  auto machine = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!machine) return fail(ErrorText(machine.takeError()));
  // FastISel and the fast register allocator: with the depth-first order
  // the code is about as fast as with the optimising pipeline, which takes
  // 7-8 times longer to compile (bench/PROFILE.md).
  machine->setCodeGenOptLevel(llvm::CodeGenOpt::None);
  auto code = std::make_shared<Code>();
  DiskCache* cache = nullptr;
  if (cache_dir != nullptr && *cache_dir != '\0') {
    code->cache = std::make_unique<DiskCache>(
        cache_dir, std::string(LLVM_VERSION_STRING) + "|" + machine->getTargetTriple().str() + "|" +
                       machine->getCPU() + "|" + machine->getFeatures().getString() + "|" +
                       std::to_string(internal::NativeInterface()) + "|" + std::to_string(lanes));
    cache = static_cast<DiskCache*>(code->cache.get());
  }
  llvm::orc::LLJITBuilder builder;
  builder.setJITTargetMachineBuilder(std::move(*machine));
  if (cache) {
    builder.setCompileFunctionCreator([cache](llvm::orc::JITTargetMachineBuilder target)
                                          -> llvm::Expected<std::unique_ptr<llvm::orc::IRCompileLayer::IRCompiler>> {
      auto tm = target.createTargetMachine();
      if (!tm) return tm.takeError();
      return std::make_unique<llvm::orc::TMOwningSimpleCompiler>(std::move(*tm), cache);
    });
  }
  auto jit = builder.create();
  if (!jit) return fail("cannot start LLVM's JIT: " + ErrorText(jit.takeError()));
  code->jit = std::move(*jit);
  // The functions the code calls, by name (Translator::Call).
  llvm::orc::SymbolMap functions;
  for (const auto& [symbol, fn] : t.externals()) {
    functions[code->jit->mangleAndIntern(symbol)] = llvm::JITEvaluatedSymbol(
        llvm::pointerToJITTargetAddress(fn), llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable);
  }
  if (llvm::Error e = code->jit->getMainJITDylib().define(llvm::orc::absoluteSymbols(std::move(functions)))) {
    return fail(ErrorText(std::move(e)));
  }
  // memset for long runs of zero outputs: resolved in this process (libc).
  auto process = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      code->jit->getDataLayout().getGlobalPrefix());
  if (!process) return fail(ErrorText(process.takeError()));
  code->jit->getMainJITDylib().addGenerator(std::move(*process));
  module->setDataLayout(code->jit->getDataLayout());
  if (llvm::Error e = code->jit->addIRModule(llvm::orc::ThreadSafeModule(std::move(module), std::move(ctx)))) {
    return fail(ErrorText(std::move(e)));
  }
  std::vector<ProgramAccess::Fn> fns(n, nullptr);
  for (size_t k = 0; k < n; ++k) {
    if (!added[k]) continue;
    auto sym = code->jit->lookup("program_" + std::to_string(k));
    if (!sym) return fail(ErrorText(sym.takeError()));
    fns[k] = reinterpret_cast<ProgramAccess::Fn>(static_cast<uintptr_t>(sym->getAddress()));
  }
  for (size_t k = 0; k < n; ++k) {
    if (added[k]) ProgramAccess::Attach(programs[k], fns[k], code, lanes);
  }
  *cached = cache != nullptr && cache->hit();
  return true;
}

}  // namespace
}  // namespace soma::expr

extern "C" __attribute__((visibility("default"))) uint64_t soma_expr_native_interface() {
  return soma::expr::internal::NativeInterface();
}

extern "C" __attribute__((visibility("default"))) bool soma_expr_compile_native(soma::expr::Program* const* programs,
                                                                                size_t n, int lanes, int flags,
                                                                                const char* cache_dir, bool* cached,
                                                                                std::string* error) {
  return soma::expr::Compile(programs, n, lanes, (flags & 1) != 0, cache_dir, cached, error);
}
