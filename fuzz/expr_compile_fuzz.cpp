// libFuzzer target for the expression pipeline: text or byte-built trees ->
// Graph::FromTree -> Derivative -> Program::Compile -> Run, checked against
// the reference walker Graph::Evaluate (NaN-aware, bit-exact otherwise), and
// ParseExpression / ToString round trips, and hoisting of operations on
// steady slots over a sequence of inputs. Aborts on any mismatch.
//
// Input: byte 0 selects the mode (even: the rest is expression text; odd:
// the rest drives a random tree builder).
//
//   build-fuzzx/bin/expr_compile_fuzz -max_total_time=120 -max_len=512

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "expr/expr.h"
#include "expr/graph.h"
#include "expr/parse.h"
#include "expr/program.h"

namespace {

using soma::Result;
using soma::expr::Expr;
using soma::expr::Graph;
using soma::expr::NodeId;
using soma::expr::Op;
using soma::expr::Program;

constexpr uint32_t kSlots = 6;  // 5 symbol slots + time

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "expr_compile_fuzz: %s\n", what.c_str());
  std::abort();
}

bool SameValue(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

class Bytes {
 public:
  Bytes(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t Next() { return pos_ < size_ ? data_[pos_++] : 0; }
  bool empty() const { return pos_ >= size_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

Expr RandomTree(Bytes& in, int depth) {
  const uint8_t b = in.Next();
  if (depth >= 12 || in.empty() || b < 80) {
    switch (b % 4) {
      case 0: {
        static const double kNumbers[] = {0.0, 1.0, -1.0, 0.5, 2.0, -0.0, 3.0, 1e-300, 1e300, 10.0};
        return Expr::Number(kNumbers[in.Next() % 10]);
      }
      case 1: return Expr::Number(static_cast<double>(static_cast<int8_t>(in.Next())) / 8.0);
      case 2: return Expr::Symbol("s" + std::to_string(in.Next() % 5));
      default:  // time, avogadro, pi, ..., NaN
        return Expr::Leaf(static_cast<Op>(static_cast<int>(Op::kTime) + in.Next() % 8));
    }
  }
  const int first = static_cast<int>(Op::kPlus);
  const int last = static_cast<int>(Op::kPiecewise);  // delay and rateOf are rejected by the resolver
  const Op op = static_cast<Op>(first + in.Next() % (last - first + 1));
  const uint8_t arity_byte = in.Next();
  const int arity = arity_byte < 200 ? 1 + arity_byte % 3 : arity_byte % 6;
  std::vector<Expr> args;
  for (int i = 0; i < arity; ++i) args.push_back(RandomTree(in, depth + 1));
  return Expr::Apply(op, std::move(args));
}

Graph::Resolver MakeResolver(Graph& g) {
  return [&g](const Expr& e) -> Result<NodeId> {
    if (e.op == Op::kTime) return g.Variable(5);
    if (e.op != Op::kSymbol) return soma::Unsupported("csymbol");
    return g.Variable(static_cast<uint32_t>(std::hash<std::string>()(e.name) % 5));
  };
}

// Number of nodes of the tree that a DAG expands to, saturating at `cap`.
double ExpandedSize(const Graph& g, NodeId f, double cap) {
  std::vector<NodeId> order = g.TopologicalOrder({&f, 1});
  std::vector<double> size(static_cast<size_t>(f) + 1, 0.0);
  for (NodeId id : order) {
    const soma::expr::Node& n = g.node(id);
    double s = 1;
    const NodeId ops[3] = {n.a, n.b, n.c};
    for (int i = 0; i < n.arity; ++i) s += size[ops[i]];
    size[id] = std::min(s, cap);
  }
  return size[f];
}

void CheckProgram(const Graph& g, const std::vector<NodeId>& outs, const std::vector<double>& in) {
  Program p = Program::Compile(g, outs);
  if (p.num_inputs() > in.size()) Fail("program reads beyond the inputs");
  std::vector<double> scratch = p.NewScratch();
  std::vector<double> out(outs.size());
  p.Run(in.data(), out.data(), scratch.data());
  for (size_t i = 0; i < outs.size(); ++i) {
    const double ref = g.Evaluate(outs[i], in.data());
    if (!SameValue(out[i], ref)) {
      Fail("Run != Evaluate for output " + std::to_string(i) + ": " + std::to_string(out[i]) +
           " vs " + std::to_string(ref) + " in " + g.ToString(outs[i]));
    }
  }
}

// The same outputs compiled with some slots steady (hoisting), run on one
// scratch over a sequence of inputs that repeats and changes them: each
// call must give Evaluate's bits, whether the hoisted part ran or not.
void CheckHoisted(const Graph& g, const std::vector<NodeId>& outs, const std::vector<std::vector<double>>& inputs,
                  uint8_t mask) {
  std::vector<bool> steady(kSlots);
  for (uint32_t i = 0; i < kSlots; ++i) steady[i] = ((mask >> i) & 1) != 0;
  const Program p = Program::Compile(g, outs, steady);
  std::vector<double> scratch = p.NewScratch();
  if (scratch.size() != p.scratch_size()) Fail("NewScratch size");
  std::vector<double> out(outs.size());
  for (size_t k = 0; k < 2 * inputs.size(); ++k) {
    const std::vector<double>& in = inputs[(k / 2) % inputs.size()];  // each input twice in a row
    // Every other call through RunFinite, which must also say whether all
    // outputs are finite.
    if (k % 2 == 0) {
      p.Run(in.data(), out.data(), scratch.data());
    } else {
      const bool said = p.RunFinite(in.data(), out.data(), scratch.data());
      const bool all = std::all_of(out.begin(), out.end(), [](double v) { return std::isfinite(v); });
      if (said != all) Fail(std::string("RunFinite says ") + (said ? "finite" : "not finite") + " wrongly");
    }
    for (size_t i = 0; i < outs.size(); ++i) {
      const double ref = g.Evaluate(outs[i], in.data());
      if (!SameValue(out[i], ref)) {
        Fail("hoisted Run != Evaluate for output " + std::to_string(i) + " (call " + std::to_string(k) +
             ", steady mask " + std::to_string(mask) + "): " + std::to_string(out[i]) + " vs " +
             std::to_string(ref) + " in " + g.ToString(outs[i]));
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  Expr e;
  if (data[0] % 2 == 0) {
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    Result<Expr> parsed = soma::expr::ParseExpression(text);
    if (!parsed.ok()) return 0;
    e = std::move(parsed).value();
  } else {
    Bytes bytes(data + 1, size - 1);
    e = RandomTree(bytes, 0);
  }

  // Tree text round trip: structural equality up to non-finite numbers,
  // which print as INF/NaN and read back as constants; both lower alike.
  const std::string text = soma::expr::ToString(e);
  Result<Expr> reparsed = soma::expr::ParseExpression(text);
  if (!reparsed.ok()) Fail("ToString output does not parse: " + text + ": " + reparsed.status().ToString());

  Graph g;
  Result<NodeId> f = g.FromTree(e, MakeResolver(g));
  if (!f.ok()) return 0;
  Result<NodeId> f2 = g.FromTree(*reparsed, MakeResolver(g));
  if (!f2.ok() || *f2 != *f) Fail("reparsed text lowers differently: " + text);

  // Graph text round trip, when the DAG's tree expansion is small.
  if (ExpandedSize(g, *f, 1e4) < 1e4) {
    auto name = [](uint32_t s) { return "v" + std::to_string(s); };
    const std::string gtext = g.ToString(*f, name);
    Result<Expr> gparsed = soma::expr::ParseExpression(gtext);
    if (!gparsed.ok()) Fail("Graph::ToString output does not parse: " + gtext);
    Graph::Resolver by_name = [&g](const Expr& x) -> Result<NodeId> {
      if (x.op != Op::kSymbol || x.name.size() < 2 || x.name[0] != 'v') return soma::Internal("unexpected leaf");
      return g.Variable(static_cast<uint32_t>(std::stoul(x.name.substr(1))));
    };
    Result<NodeId> f3 = g.FromTree(*gparsed, by_name);
    if (!f3.ok() || *f3 != *f) Fail("Graph::ToString does not read back as the same node: " + gtext);
  }

  std::vector<NodeId> outs = {*f};
  for (uint32_t slot : {0u, 1u, 5u}) outs.push_back(g.Derivative(*f, slot));
  outs.push_back(g.Derivative(outs[1], 2));  // a second derivative
  if (g.size() > 200000) return 0;

  static const std::vector<std::vector<double>> kInputs = {
      {0.5, -1.25, 2.0, 0.0, 3.0, 1.0},
      {-2.0, 0.0, 1.0, -0.5, 7.5, 0.25},
      {1.0, 1.0, 1.0, 1.0, 1.0, 0.0},
  };
  for (const std::vector<double>& in : kInputs) CheckProgram(g, outs, in);
  std::vector<double> from_bytes(kSlots);
  for (uint32_t i = 0; i < kSlots; ++i) {
    from_bytes[i] = static_cast<double>(static_cast<int8_t>(data[(i * 7 + 3) % size])) / 16.0;
  }
  CheckProgram(g, outs, from_bytes);
  std::vector<std::vector<double>> sequence = kInputs;
  sequence.push_back(from_bytes);
  CheckHoisted(g, outs, sequence, static_cast<uint8_t>(data[size - 1] | 0x3c));  // slots 2-5 steady, 0-1 by the input
  return 0;
}
