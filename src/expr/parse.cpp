// Recursive-descent parser for infix math (see parse.h for the grammar).

#include "expr/parse.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace soma::expr {
namespace {

// Bounds on parser recursion and on the depth of the produced tree, so that
// neither parsing nor the recursive Expr destructor and printer can
// overflow the stack on hostile input.
constexpr int kMaxNesting = 500;
constexpr int kMaxTreeDepth = 1000;

enum class Tok { kNumber, kIdent, kPunct, kEnd, kBad };

struct Token {
  Tok kind;
  std::string_view text;
  size_t column;  // 1-based
  double number = 0.0;
};

bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

double ParseNumber(std::string_view t) {
  double v = 0.0;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec == std::errc::result_out_of_range) {
    // Overflow gives inf, underflow 0, as strtod would.
    size_t e = t.find_first_of("eE");
    const bool negative_exponent = e != std::string_view::npos && e + 1 < t.size() && t[e + 1] == '-';
    return negative_exponent ? 0.0 : std::numeric_limits<double>::infinity();
  }
  return v;
}

std::vector<Token> Lex(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (true) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i >= s.size()) break;
    const size_t start = i;
    const char c = s[i];
    Token t{Tok::kPunct, {}, start + 1};
    if (IsDigit(c) || (c == '.' && i + 1 < s.size() && IsDigit(s[i + 1]))) {
      while (i < s.size() && IsDigit(s[i])) ++i;
      if (i < s.size() && s[i] == '.') {
        ++i;
        while (i < s.size() && IsDigit(s[i])) ++i;
      }
      if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (j < s.size() && (s[j] == '+' || s[j] == '-')) ++j;
        if (j < s.size() && IsDigit(s[j])) {
          while (j < s.size() && IsDigit(s[j])) ++j;
          i = j;
        }
      }
      t.kind = Tok::kNumber;
      t.text = s.substr(start, i - start);
      t.number = ParseNumber(t.text);
    } else if (IsIdentStart(c)) {
      while (i < s.size() && IsIdentChar(s[i])) ++i;
      t.kind = Tok::kIdent;
      t.text = s.substr(start, i - start);
    } else {
      static constexpr std::string_view kTwo[] = {"<=", ">=", "==", "!=", "&&", "||"};
      std::string_view two = s.substr(i, 2);
      if (std::find(std::begin(kTwo), std::end(kTwo), two) != std::end(kTwo)) {
        i += 2;
        t.text = two;
      } else if (std::string_view("+-*/^(),<>!").find(c) != std::string_view::npos) {
        i += 1;
        t.text = s.substr(start, 1);
      } else {
        t.kind = Tok::kBad;
        t.text = s.substr(start, 1);
        out.push_back(t);
        return out;
      }
    }
    out.push_back(t);
  }
  out.push_back(Token{Tok::kEnd, {}, s.size() + 1});
  return out;
}

const std::unordered_map<std::string_view, Op>& FunctionNames() {
  static const auto* const names = [] {
    auto* m = new std::unordered_map<std::string_view, Op>();
    for (int i = static_cast<int>(Op::kTime); i <= static_cast<int>(Op::kRateOf); ++i) {
      const Op op = static_cast<Op>(i);
      m->emplace(OpName(op), op);
    }
    m->emplace("ceiling", Op::kCeiling);
    m->emplace("power", Op::kPower);
    m->emplace("asin", Op::kArcsin);
    m->emplace("acos", Op::kArccos);
    m->emplace("atan", Op::kArctan);
    m->emplace("asinh", Op::kArcsinh);
    m->emplace("acosh", Op::kArccosh);
    m->emplace("atanh", Op::kArctanh);
    return m;
  }();
  return *names;
}

std::optional<Op> ReservedName(std::string_view n) {
  static const auto* const names = new std::unordered_map<std::string_view, Op>{
      {"pi", Op::kPi},           {"exponentiale", Op::kExponentiale},
      {"true", Op::kTrue},       {"false", Op::kFalse},
      {"INF", Op::kInfinity},    {"inf", Op::kInfinity},
      {"Infinity", Op::kInfinity}, {"infinity", Op::kInfinity},
      {"NaN", Op::kNotANumber},  {"nan", Op::kNotANumber},
      {"NotANumber", Op::kNotANumber}, {"notanumber", Op::kNotANumber},
      {"time", Op::kTime},       {"avogadro", Op::kAvogadro},
  };
  auto it = names->find(n);
  if (it == names->end()) return std::nullopt;
  return it->second;
}

std::optional<Op> RelationOp(std::string_view t) {
  if (t == "<") return Op::kLt;
  if (t == "<=") return Op::kLe;
  if (t == ">") return Op::kGt;
  if (t == ">=") return Op::kGe;
  if (t == "==") return Op::kEq;
  if (t == "!=") return Op::kNeq;
  return std::nullopt;
}

// A parsed subtree with its depth (a leaf has depth 1).
struct P {
  Expr e;
  int depth = 1;
};

class Parser {
 public:
  explicit Parser(std::string_view text) : tokens_(Lex(text)) {}

  Result<Expr> Run() {
    SOMA_ASSIGN_OR_RETURN(P p, ParseOr());
    if (Cur().kind != Tok::kEnd) return Unexpected();
    return std::move(p.e);
  }

 private:
  const Token& Cur() const { return tokens_[pos_]; }
  const Token& Peek() const { return tokens_[std::min(pos_ + 1, tokens_.size() - 1)]; }
  bool IsPunct(std::string_view p) const { return Cur().kind == Tok::kPunct && Cur().text == p; }
  void Advance() {
    if (Cur().kind != Tok::kEnd && Cur().kind != Tok::kBad) ++pos_;
  }

  Status Error(size_t column, const std::string& msg) const {
    return ParseError("column " + std::to_string(column) + ": " + msg);
  }
  Status Unexpected() const {
    const Token& t = Cur();
    if (t.kind == Tok::kEnd) return Error(t.column, "unexpected end of input");
    if (t.kind == Tok::kBad) {
      if (t.text == "=") return Error(t.column, "unexpected '='; use '==' for equality");
      return Error(t.column, "unexpected character '" + std::string(t.text) + "'");
    }
    return Error(t.column, "unexpected '" + std::string(t.text) + "'");
  }
  Status Expected(std::string_view what) const {
    const Token& t = Cur();
    if (t.kind == Tok::kBad) return Unexpected();
    std::string found = t.kind == Tok::kEnd ? "end of input" : "'" + std::string(t.text) + "'";
    return Error(t.column, "expected " + std::string(what) + ", found " + found);
  }

  // Builds op(args) and checks the depth bound.
  Result<P> Make(Op op, std::vector<P> args, size_t column) const {
    P out;
    out.e.op = op;
    int depth = 0;
    out.e.args.reserve(args.size());
    for (P& a : args) {
      depth = std::max(depth, a.depth);
      out.e.args.push_back(std::move(a.e));
    }
    out.depth = depth + 1;
    if (out.depth > kMaxTreeDepth) return Error(column, "expression nested too deeply");
    return out;
  }

  // Appends `rhs` to an n-ary chain node built by the caller.
  Status Append(P& chain, P rhs, size_t column) const {
    chain.depth = std::max(chain.depth, rhs.depth + 1);
    if (chain.depth > kMaxTreeDepth) return Error(column, "expression nested too deeply");
    chain.e.args.push_back(std::move(rhs.e));
    return Status::Ok();
  }

  // A flattened chain of one associative operator: a || b || c.
  template <typename Next>
  Result<P> ParseChain(std::string_view punct, Op op, Next next) {
    SOMA_ASSIGN_OR_RETURN(P first, (this->*next)());
    if (!IsPunct(punct)) return first;
    std::vector<P> items;
    items.push_back(std::move(first));
    while (IsPunct(punct)) {
      Advance();
      SOMA_ASSIGN_OR_RETURN(P item, (this->*next)());
      items.push_back(std::move(item));
    }
    return Make(op, std::move(items), Cur().column);
  }

  Result<P> ParseOr() { return ParseChain("||", Op::kOr, &Parser::ParseAnd); }
  Result<P> ParseAnd() { return ParseChain("&&", Op::kAnd, &Parser::ParseRelation); }

  Result<P> ParseRelation() {
    SOMA_ASSIGN_OR_RETURN(P first, ParseAdditive());
    std::vector<P> operands;
    std::vector<Op> ops;
    operands.push_back(std::move(first));
    size_t column = Cur().column;
    while (Cur().kind == Tok::kPunct && RelationOp(Cur().text)) {
      ops.push_back(*RelationOp(Cur().text));
      column = Cur().column;
      Advance();
      SOMA_ASSIGN_OR_RETURN(P next, ParseAdditive());
      operands.push_back(std::move(next));
    }
    if (ops.empty()) return std::move(operands[0]);
    if (std::all_of(ops.begin(), ops.end(), [&](Op o) { return o == ops[0]; })) {
      return Make(ops[0], std::move(operands), column);
    }
    // Mixed chain: a < b <= c means a < b and b <= c.
    std::vector<P> pairs;
    for (size_t i = 0; i < ops.size(); ++i) {
      std::vector<P> two{operands[i], operands[i + 1]};
      SOMA_ASSIGN_OR_RETURN(P rel, Make(ops[i], std::move(two), column));
      pairs.push_back(std::move(rel));
    }
    return Make(Op::kAnd, std::move(pairs), column);
  }

  // Left-associative level: `plus_punct` chains flatten into an n-ary
  // `plus_op`, `minus_punct` makes a binary `minus_op`.
  Result<P> ParseLeftAssoc(std::string_view plus_punct, Op plus_op, std::string_view minus_punct,
                           Op minus_op, Result<P> (Parser::*next)()) {
    SOMA_ASSIGN_OR_RETURN(P acc, (this->*next)());
    bool acc_is_chain = false;  // acc is an unparenthesised plus_op chain
    while (IsPunct(plus_punct) || IsPunct(minus_punct)) {
      const bool plus = IsPunct(plus_punct);
      const size_t column = Cur().column;
      Advance();
      SOMA_ASSIGN_OR_RETURN(P rhs, (this->*next)());
      if (plus && acc_is_chain) {
        SOMA_RETURN_IF_ERROR(Append(acc, std::move(rhs), column));
        continue;
      }
      std::vector<P> two;
      two.push_back(std::move(acc));
      two.push_back(std::move(rhs));
      SOMA_ASSIGN_OR_RETURN(acc, Make(plus ? plus_op : minus_op, std::move(two), column));
      acc_is_chain = plus;
    }
    return acc;
  }

  Result<P> ParseAdditive() {
    return ParseLeftAssoc("+", Op::kPlus, "-", Op::kMinus, &Parser::ParseMultiplicative);
  }
  Result<P> ParseMultiplicative() {
    return ParseLeftAssoc("*", Op::kTimes, "/", Op::kDivide, &Parser::ParseUnary);
  }

  Result<P> ParseUnary() {
    if (++nesting_ > kMaxNesting) return Error(Cur().column, "expression nested too deeply");
    Result<P> r = ParseUnaryInner();
    --nesting_;
    return r;
  }

  Result<P> ParseUnaryInner() {
    const size_t column = Cur().column;
    if (IsPunct("-")) {
      Advance();
      // "-2" is a negative literal, but "-2^2" is -(2^2).
      if (Cur().kind == Tok::kNumber && !(Peek().kind == Tok::kPunct && Peek().text == "^")) {
        P p;
        p.e = Expr::Number(-Cur().number);
        Advance();
        return p;
      }
      SOMA_ASSIGN_OR_RETURN(P x, ParseUnary());
      std::vector<P> one;
      one.push_back(std::move(x));
      return Make(Op::kMinus, std::move(one), column);
    }
    if (IsPunct("+")) {
      Advance();
      return ParseUnary();
    }
    if (IsPunct("!")) {
      Advance();
      SOMA_ASSIGN_OR_RETURN(P x, ParseUnary());
      std::vector<P> one;
      one.push_back(std::move(x));
      return Make(Op::kNot, std::move(one), column);
    }
    return ParsePower();
  }

  Result<P> ParsePower() {
    SOMA_ASSIGN_OR_RETURN(P base, ParsePrimary());
    if (!IsPunct("^")) return base;
    const size_t column = Cur().column;
    Advance();
    SOMA_ASSIGN_OR_RETURN(P exponent, ParseUnary());  // right associative
    std::vector<P> two;
    two.push_back(std::move(base));
    two.push_back(std::move(exponent));
    return Make(Op::kPower, std::move(two), column);
  }

  Result<P> ParsePrimary() {
    const Token t = Cur();
    if (t.kind == Tok::kNumber) {
      Advance();
      P p;
      p.e = Expr::Number(t.number);
      return p;
    }
    if (t.kind == Tok::kIdent) {
      Advance();
      if (IsPunct("(")) return ParseCall(t);
      P p;
      if (std::optional<Op> op = ReservedName(t.text)) {
        p.e = Expr::Leaf(*op);
      } else {
        p.e = Expr::Symbol(std::string(t.text));
      }
      return p;
    }
    if (t.kind == Tok::kPunct && t.text == "(") {
      Advance();
      if (++nesting_ > kMaxNesting) return Error(t.column, "expression nested too deeply");
      Result<P> inner = ParseOr();
      --nesting_;
      if (!inner.ok()) return inner;
      if (!IsPunct(")")) return Expected("')'");
      Advance();
      return inner;
    }
    if (t.kind == Tok::kBad || t.kind == Tok::kEnd) return Unexpected();
    return Expected("a number, name or '('");
  }

  Result<P> ParseCall(const Token& name) {
    Advance();  // '('
    std::vector<P> args;
    if (!IsPunct(")")) {
      while (true) {
        if (++nesting_ > kMaxNesting) return Error(Cur().column, "expression nested too deeply");
        Result<P> arg = ParseOr();
        --nesting_;
        if (!arg.ok()) return arg;
        args.push_back(std::move(arg).value());
        if (IsPunct(",")) {
          Advance();
          continue;
        }
        if (IsPunct(")")) break;
        return Expected("',' or ')'");
      }
    }
    Advance();  // ')'
    if (name.text == "log10") {
      P ten;
      ten.e = Expr::Number(10.0);
      args.insert(args.begin(), std::move(ten));
      return Make(Op::kLog, std::move(args), name.column);
    }
    const auto& names = FunctionNames();
    auto it = names.find(name.text);
    if (it == names.end()) {
      return Error(name.column, "unknown function '" + std::string(name.text) + "'");
    }
    return Make(it->second, std::move(args), name.column);
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int nesting_ = 0;
};

}  // namespace

Result<Expr> ParseExpression(std::string_view text) { return Parser(text).Run(); }

}  // namespace soma::expr
