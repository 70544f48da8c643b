// The LLVM half of expr/jit.h, built as its own shared library
// (libsoma_jit.so) that jit.cpp loads on first use: linking libLLVM into
// every soma process would add about 50 ms to each start for relocating it.
// Entry point: soma_expr_compile_native below.


#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "expr/gop_eval.h"
#include "expr/program.h"

namespace soma::expr {

namespace internal {

// What the compiler reads of a Program, and where it attaches the code.
struct ProgramAccess {
  static const Program& Of(const Program* p) { return *p; }
  static const auto& init(const Program& p) { return p.init_; }
  static uint32_t block_base(const Program& p) { return p.block_load_base_; }
  static uint32_t block_count(const Program& p) { return p.block_load_count_; }
  static const auto& loads(const Program& p) { return p.loads_; }
  static const auto& blocks(const Program& p) { return p.blocks_; }
  static const auto& code(const Program& p) { return p.code_; }
  static const auto& copies(const Program& p) { return p.copies_; }
  static const auto& fills(const Program& p) { return p.fills_; }
  using Fn = Program::NativeFn;
  static void Attach(Program* p, Fn fn, std::shared_ptr<const void> code) {
    p->native_ = fn;
    p->native_code_ = std::move(code);
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

std::string ErrorText(llvm::Error e) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << e;
  return os.str();
}

// The LLJIT instance that owns the machine code of a set of programs.
struct Code {
  std::unique_ptr<llvm::orc::LLJIT> jit;
};

// Operations per generated function (see Translator::Add).
constexpr size_t kChunk = 400;

class Translator {
 public:
  explicit Translator(llvm::LLVMContext& ctx, llvm::Module& module)
      : ctx_(ctx), module_(module), b_(ctx), f64_(llvm::Type::getDoubleTy(ctx)),
        i64_(llvm::Type::getInt64Ty(ctx)) {}

  // One program as function `name`(in, out, scratch); see the file comment
  // in jit.h. Long programs are cut into chunks of kChunk operations, each
  // its own function: LLVM's instruction scheduling and register allocation
  // grow faster than linearly with a function's size (a 300-species
  // Jacobian in one function took seconds to compile). Values that cross
  // chunks pass through the interpreter's register file `scratch`, at the
  // same register numbers.
  void Add(const std::string& name, const std::vector<double>& init, uint32_t block_base, uint32_t block_count,
           const auto& loads, const auto& blocks, const auto& code, const auto& copies, const auto& fills) {
    const size_t n = code.size();
    std::vector<GOp> ops;
    ops.reserve(n);
    for (const auto& block : blocks) ops.insert(ops.end(), block.count, block.op);
    // Registers never written hold constants (init).
    std::vector<char> written(init.size(), 0);
    for (uint32_t s = 0; s < block_count; ++s) written[block_base + s] = 1;
    for (const auto& l : loads) written[l.reg] = 1;
    for (const auto& in : code) written[in.dst] = 1;
    const size_t chunks = std::max<size_t>(1, (n + kChunk - 1) / kChunk);
    // Each output is stored by the chunk that computes its final value (an
    // output's register is never reused), so no chunk ends with thousands
    // of stores: LLVM's scheduler compares memory operations pairwise.
    std::vector<uint32_t> final_chunk(init.size(), 0);
    for (size_t ip = 0; ip < n; ++ip) final_chunk[code[ip].dst] = static_cast<uint32_t>(ip / kChunk);
    std::vector<std::vector<size_t>> copies_in(chunks);
    for (size_t k = 0; k < copies.size(); ++k) copies_in[final_chunk[copies[k].reg]].push_back(k);
    // Liveness across chunks, backwards: registers a chunk reads before
    // writing them (upward exposed) and those it writes.
    std::vector<std::vector<uint32_t>> live_in(chunks), defs(chunks);
    std::vector<char> seen(init.size(), 0);
    for (size_t c = 0; c < chunks; ++c) {
      std::vector<uint32_t> reads;
      std::fill(seen.begin(), seen.end(), 0);  // 1: written here, 2: read first
      auto read = [&](uint32_t r) {
        if (written[r] && seen[r] == 0) {
          seen[r] = 2;
          reads.push_back(r);
        }
      };
      auto write = [&](uint32_t r) {
        if (seen[r] != 1) defs[c].push_back(r);  // once per chunk (maybe read first)
        seen[r] = 1;
      };
      if (c == 0) {
        for (uint32_t s = 0; s < block_count; ++s) write(block_base + s);
        for (const auto& l : loads) write(l.reg);
      }
      for (size_t ip = c * kChunk; ip < std::min(n, (c + 1) * kChunk); ++ip) {
        const auto& in = code[ip];
        const int arity = internal::Arity(ops[ip]);
        if (arity >= 1) read(in.a);
        if (arity >= 2) read(in.b);
        if (arity >= 3) read(in.c);
        write(in.dst);
      }
      live_in[c] = std::move(reads);
    }
    // live_out[c] = live_in[c + 1] plus what later chunks need that c + 1
    // passes through without writing.
    std::vector<std::vector<uint32_t>> stores(chunks);
    {
      std::vector<char> live(init.size(), 0);
      for (size_t c = chunks; c-- > 0;) {
        for (uint32_t r : defs[c]) {
          if (live[r]) stores[c].push_back(r);
        }
        for (uint32_t r : defs[c]) live[r] = 0;
        for (uint32_t r : live_in[c]) live[r] = 1;
      }
    }
    llvm::Type* ptr = llvm::PointerType::getUnqual(f64_);
    auto* type = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx_), {ptr, ptr, ptr}, false);
    auto function = [&](const std::string& fname, llvm::GlobalValue::LinkageTypes linkage) {
      auto* f = llvm::Function::Create(type, linkage, fname, module_);
      f->addFnAttr(llvm::Attribute::NoUnwind);
      f->addFnAttr(llvm::Attribute::NoInline);
      for (unsigned a = 0; a < 3; ++a) f->addParamAttr(a, llvm::Attribute::NoAlias);
      return f;
    };
    llvm::Function* main = function(name, llvm::Function::ExternalLinkage);
    std::vector<llvm::Value*> r(init.size(), nullptr);
    for (size_t c = 0; c < chunks; ++c) {
      llvm::Function* f = chunks == 1 ? main : function(name + "_" + std::to_string(c), llvm::Function::InternalLinkage);
      llvm::Value* in = f->getArg(0);
      llvm::Value* out = f->getArg(1);
      llvm::Value* scratch = f->getArg(2);
      b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", f));
      auto at = [&](llvm::Value* base, uint64_t k) { return b_.CreateConstInBoundsGEP1_64(f64_, base, k); };
      for (size_t k = 0; k < init.size(); ++k) r[k] = written[k] ? nullptr : llvm::ConstantFP::get(f64_, init[k]);
      for (uint32_t reg : live_in[c]) r[reg] = b_.CreateLoad(f64_, at(scratch, reg));
      if (c == 0) {
        for (uint32_t s = 0; s < block_count; ++s) r[block_base + s] = b_.CreateLoad(f64_, at(in, s));
        for (const auto& l : loads) r[l.reg] = b_.CreateLoad(f64_, at(in, l.slot));
      }
      for (size_t ip = c * kChunk; ip < std::min(n, (c + 1) * kChunk); ++ip) {
        const auto& ins = code[ip];
        r[ins.dst] = Emit(ops[ip], r[ins.a], r[ins.b], r[ins.c]);
      }
      for (size_t k : copies_in[c]) b_.CreateStore(r[copies[k].reg], at(out, copies[k].out));
      if (c == 0) {
        for (const auto& fill : fills) {  // constants
          if (fill.zero != 0) {
            b_.CreateMemSet(at(out, fill.begin), b_.getInt8(0), static_cast<uint64_t>(fill.count) * sizeof(double),
                            llvm::MaybeAlign(8));
          } else {
            for (uint32_t k = 0; k < fill.count; ++k) b_.CreateStore(r[fill.reg], at(out, fill.begin + k));
          }
        }
      }
      for (uint32_t reg : stores[c]) b_.CreateStore(r[reg], at(scratch, reg));
      b_.CreateRetVoid();
    }
    if (chunks > 1) {
      b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", main));
      for (size_t c = 0; c < chunks; ++c) {
        b_.CreateCall(module_.getFunction(name + "_" + std::to_string(c)), {main->getArg(0), main->getArg(1), main->getArg(2)});
      }
      b_.CreateRetVoid();
    }
  }

 private:
  llvm::Value* Bool(llvm::Value* i1) { return b_.CreateUIToFP(i1, f64_); }
  // x != 0 (NaN is true): the interpreter's truth of a value.
  llvm::Value* Truth(llvm::Value* x) { return b_.CreateFCmpUNE(x, llvm::ConstantFP::get(f64_, 0.0)); }
  llvm::Value* Call(void* fn, llvm::FunctionType* type, std::initializer_list<llvm::Value*> args) {
    llvm::Value* callee = llvm::ConstantExpr::getIntToPtr(
        llvm::ConstantInt::get(i64_, reinterpret_cast<uintptr_t>(fn)), llvm::PointerType::getUnqual(type));
    llvm::CallInst* call = b_.CreateCall(type, callee, args);
    call->addFnAttr(llvm::Attribute::NoUnwind);
    call->addFnAttr(llvm::Attribute::ReadNone);
    call->addFnAttr(llvm::Attribute::WillReturn);
    return call;
  }
  llvm::Value* Intrinsic(llvm::Intrinsic::ID id, llvm::Value* x) {
    return b_.CreateUnaryIntrinsic(id, x);
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
      case GOp::kNot: return Bool(b_.CreateFCmpOEQ(x, llvm::ConstantFP::get(f64_, 0.0)));
      case GOp::kSelect: return b_.CreateSelect(Truth(x), y, z);
      default: break;
    }
    if (UnaryFn fn = UnaryFunction(op)) {
      return Call(reinterpret_cast<void*>(fn), llvm::FunctionType::get(f64_, {f64_}, false), {x});
    }
    if (BinaryFn fn = BinaryFunction(op)) {
      return Call(reinterpret_cast<void*>(fn), llvm::FunctionType::get(f64_, {f64_, f64_}, false), {x, y});
    }
    // kConst and kVar never appear in a Program's code.
    return llvm::ConstantFP::getNaN(f64_);
  }

  llvm::LLVMContext& ctx_;
  llvm::Module& module_;
  llvm::IRBuilder<> b_;
  llvm::Type* f64_;
  llvm::Type* i64_;
};

// Compiles programs[0, n) and attaches the code; false with *error set on
// failure (nothing attached). Called by CompileNative (jit.cpp) through
// dlsym.
bool Compile(Program* const* programs, size_t n, std::string* error) {
  using internal::ProgramAccess;
  static std::once_flag targets;
  std::call_once(targets, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
  auto ctx = std::make_unique<llvm::LLVMContext>();
  auto module = std::make_unique<llvm::Module>("soma_programs", *ctx);
  Translator t(*ctx, *module);
  for (size_t k = 0; k < n; ++k) {
    const Program& p = *programs[k];
    t.Add("program_" + std::to_string(k), ProgramAccess::init(p), ProgramAccess::block_base(p),
          ProgramAccess::block_count(p), ProgramAccess::loads(p), ProgramAccess::blocks(p), ProgramAccess::code(p),
          ProgramAccess::copies(p), ProgramAccess::fills(p));
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
  machine->setCodeGenOptLevel(llvm::CodeGenOpt::Less);
  auto jit = llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(std::move(*machine)).create();
  if (!jit) return fail("cannot start LLVM's JIT: " + ErrorText(jit.takeError()));
  auto code = std::make_shared<Code>();
  code->jit = std::move(*jit);
  // memset for long runs of zero outputs: resolved in this process (libc).
  auto process = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      code->jit->getDataLayout().getGlobalPrefix());
  if (!process) return fail(ErrorText(process.takeError()));
  code->jit->getMainJITDylib().addGenerator(std::move(*process));
  module->setDataLayout(code->jit->getDataLayout());
  if (llvm::Error e = code->jit->addIRModule(llvm::orc::ThreadSafeModule(std::move(module), std::move(ctx)))) {
    return fail(ErrorText(std::move(e)));
  }
  std::vector<ProgramAccess::Fn> fns(n);
  for (size_t k = 0; k < n; ++k) {
    auto sym = code->jit->lookup("program_" + std::to_string(k));
    if (!sym) return fail(ErrorText(sym.takeError()));
    fns[k] = reinterpret_cast<ProgramAccess::Fn>(static_cast<uintptr_t>(sym->getAddress()));
  }
  for (size_t k = 0; k < n; ++k) ProgramAccess::Attach(programs[k], fns[k], code);
  return true;
}

}  // namespace
}  // namespace soma::expr

extern "C" __attribute__((visibility("default"))) bool soma_expr_compile_native(soma::expr::Program* const* programs,
                                                                                size_t n, std::string* error) {
  return soma::expr::Compile(programs, n, error);
}
