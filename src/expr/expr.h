#pragma once
// Expression trees: the math of a model in Soma's own form, independent of
// any file format. Formats (SBML MathML, text) produce trees; the compiler
// (expr/graph.h, expr/program.h) turns them into a hash-consed DAG,
// differentiates it and emits straight-line bytecode. Trees are never walked
// while a simulation is running.
//
// Semantics follow MathML as used by SBML: relational and logical operators
// yield 1.0 (true) or 0.0 (false); any non-zero value counts as true.
// Function definitions are inlined by the format importers, so a tree in a
// Model never contains a call to a user-defined function.
//
// Thread safety: Expr is a plain value; distinct objects may be used from
// distinct threads.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace soma::expr {

enum class Op : uint8_t {
  // Leaves.
  kNumber,     // value
  kSymbol,     // name: a model symbol (compartment, species, parameter, ...)
  kTime,       // csymbol time (model time, in the model's time units)
  kAvogadro,   // csymbol avogadro (6.02214179e23, as fixed by SBML L3)
  kPi, kExponentiale, kTrue, kFalse, kInfinity, kNotANumber,
  // Arithmetic. kPlus and kTimes are n-ary (0 args: 0 resp. 1); kMinus takes
  // 1 (negation) or 2 arguments.
  kPlus, kMinus, kTimes, kDivide, kPower,
  kRoot,       // args: (degree, x) -> x^(1/degree)
  kLog,        // args: (base, x)
  kLn, kExp, kAbs, kFloor, kCeiling, kFactorial, kSqrt,
  kSin, kCos, kTan, kSec, kCsc, kCot,
  kSinh, kCosh, kTanh, kSech, kCsch, kCoth,
  kArcsin, kArccos, kArctan, kArcsec, kArccsc, kArccot,
  kArcsinh, kArccosh, kArctanh, kArcsech, kArccsch, kArccoth,
  kMin, kMax,          // n-ary (n >= 1)
  kRem, kQuotient,     // SBML L3V2: remainder and truncated integer quotient
  // Relational (n-ary chains as in MathML: a < b < c).
  kEq, kNeq, kLt, kLe, kGt, kGe,
  // Logical (kAnd, kOr, kXor n-ary; kNot unary; kImplies binary).
  kAnd, kOr, kXor, kNot, kImplies,
  // piecewise: args = value0, cond0, value1, cond1, ..., [otherwise]. An odd
  // number of args means the last one is the otherwise value. No condition
  // true and no otherwise: NaN.
  kPiecewise,
  // csymbol delay: args = (x, tau): x evaluated at time - tau.
  kDelay,
  // csymbol rateOf: args = (symbol): the rate of change of a symbol.
  kRateOf,
};

// Name used in text output and by the text parser ("sin", "piecewise", ...).
std::string_view OpName(Op op);

struct Expr {
  Op op = Op::kNumber;
  double value = 0.0;        // for kNumber
  std::string name;          // for kSymbol
  std::vector<Expr> args;    // operands

  static Expr Number(double v) { Expr e; e.op = Op::kNumber; e.value = v; return e; }
  static Expr Symbol(std::string n) { Expr e; e.op = Op::kSymbol; e.name = std::move(n); return e; }
  static Expr Leaf(Op op) { Expr e; e.op = op; return e; }
  static Expr Apply(Op op, std::vector<Expr> args) { Expr e; e.op = op; e.args = std::move(args); return e; }

  bool IsSymbol(std::string_view n) const { return op == Op::kSymbol && name == n; }
  bool operator==(const Expr& o) const = default;
};

// Readable infix text (for messages and `soma check`), e.g.
// "k1 * S1 * compartment", "piecewise(1, time > 5, 0)".
std::string ToString(const Expr& e);

// Calls f(symbol_name) for every kSymbol leaf (in depth-first order).
template <typename F>
void ForEachSymbol(const Expr& e, F&& f) {
  if (e.op == Op::kSymbol) f(e.name);
  for (const Expr& a : e.args) ForEachSymbol(a, f);
}

// True if any node in `e` has the given op.
bool Contains(const Expr& e, Op op);

// Returns `e` with every symbol `from` replaced by a copy of `to`.
Expr Substitute(const Expr& e, std::string_view from, const Expr& to);

}  // namespace soma::expr
