#pragma once
// Internal: libSBML MathML trees (ASTNode) to Soma expression trees, with
// user-defined functions inlined.

#include <map>
#include <string>

#include <sbml/SBMLTypes.h>

#include "core/status.h"
#include "expr/expr.h"

namespace soma::formats::internal {

// Converts the math of one model. Holds pointers into `model`, which must
// outlive the converter.
class MathConverter {
 public:
  explicit MathConverter(const ::Model& model);

  // Converts `node` (not null). Calls to function definitions are replaced by
  // the function's body with its bound variables substituted by the call's
  // arguments (simultaneously, so f(y, x) of lambda(x, y, ...) swaps them).
  // Errors (without element context; callers prefix it):
  //   kUnsupported  a MathML construct Soma has no operator for (named), or a
  //                 tree beyond the size/depth limits below.
  //   kInvalidModel wrong number of arguments, a call to an undefined
  //                 function or one without math, recursion among functions.
  Result<expr::Expr> Convert(const ::ASTNode& node) const;

  // Limits that keep hostile documents from exhausting stack or memory.
  static constexpr int kMaxDepth = 1000;          // nesting, after inlining
  static constexpr int kMaxCallDepth = 32;        // nested function calls
  static constexpr size_t kMaxNodes = 1'000'000;  // nodes per converted tree

 private:
  struct State;
  Result<expr::Expr> Walk(const ::ASTNode& node, State& state, int depth) const;
  Result<expr::Expr> Inline(const ::ASTNode& call, State& state, int depth) const;

  std::map<std::string, const ::FunctionDefinition*, std::less<>> functions_;
};

}  // namespace soma::formats::internal
