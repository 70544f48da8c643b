// A recursive-descent parser for the UCUM grammar (UCUM §2, "Syntax rules"):
//   term      := ['/'] component (('.' | '/') component)*
//   component := '(' term ')' | annotation | factor | simple [exponent] [annotation]
//   simple    := [prefix] atom
// Atoms are looked up whole first and only then split into prefix + atom, as
// UCUM requires ("cd" is the candela, never centi-day; "mo" is the month).

#include "units/ucum.h"

#include <cmath>
#include <cstdint>
#include <string>

#include "units/ucum_atoms.h"

namespace soma::units {
namespace {

using internal::Atom;
using Dims = std::array<int, kNumBaseDimensions>;

constexpr int kMaxExponent = 99;
constexpr int kMaxDepth = 32;

struct Term {
  double factor = 1.0;
  Dims dims{};
  int components = 0;          // components multiplied in, at any depth
  const Atom* affine = nullptr;  // the affine atom met, if any
};

void Combine(Term& acc, const Term& t, int sign) {
  acc.factor = sign > 0 ? acc.factor * t.factor : acc.factor / t.factor;
  for (std::size_t i = 0; i < kNumBaseDimensions; ++i) acc.dims[i] += sign * t.dims[i];
  acc.components += t.components;
  if (t.affine != nullptr) acc.affine = t.affine;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

class Parser {
 public:
  Parser(std::string_view code, const ParseOptions& options) : code_(code), options_(options) {}

  Result<Term> ParseAll() {
    SOMA_ASSIGN_OR_RETURN(Term term, ParseTerm(0));
    if (pos_ != code_.size()) {
      if (code_[pos_] == ')') return Error("unbalanced ')'");
      return Error("unexpected character");
    }
    return term;
  }

 private:
  Status Error(std::string_view what) const {
    return ParseError("UCUM unit '" + std::string(code_) + "': " + std::string(what) +
                      " at offset " + std::to_string(pos_));
  }

  bool AtEnd() const { return pos_ >= code_.size(); }
  char Peek() const { return code_[pos_]; }

  Result<Term> ParseTerm(int depth) {
    if (depth > kMaxDepth) return Error("parentheses nested too deeply");
    Term acc;
    int sign = 1;
    if (!AtEnd() && Peek() == '/') {
      sign = -1;
      ++pos_;
    }
    while (true) {
      SOMA_ASSIGN_OR_RETURN(Term c, ParseComponent(depth));
      Combine(acc, c, sign);
      if (AtEnd() || (Peek() != '.' && Peek() != '/')) break;
      sign = Peek() == '.' ? 1 : -1;
      ++pos_;
    }
    return acc;
  }

  Result<Term> ParseComponent(int depth) {
    if (AtEnd()) return Error("expected a unit");
    const char c = Peek();
    if (c == '(') {
      ++pos_;
      SOMA_ASSIGN_OR_RETURN(Term inner, ParseTerm(depth + 1));
      if (AtEnd() || Peek() != ')') return Error("expected ')'");
      ++pos_;
      return inner;
    }
    if (c == '{') {
      SOMA_RETURN_IF_ERROR(SkipAnnotation());
      Term one;
      one.components = 1;
      return one;
    }
    SOMA_ASSIGN_OR_RETURN(Term t, ParseSimpleWithExponent());
    if (!AtEnd() && Peek() == '{') SOMA_RETURN_IF_ERROR(SkipAnnotation());
    return t;
  }

  Status SkipAnnotation() {
    const std::size_t start = pos_;
    ++pos_;  // '{'
    while (!AtEnd() && Peek() != '}') {
      const unsigned char ch = static_cast<unsigned char>(Peek());
      if (ch < 32 || ch > 126 || ch == '{') return Error("invalid character in annotation");
      ++pos_;
    }
    if (AtEnd()) {
      pos_ = start;
      return Error("unterminated annotation '{'");
    }
    ++pos_;  // '}'
    return Status::Ok();
  }

  // Reads one symbol token: everything up to an operator, parenthesis or
  // annotation, with [...] read whole.
  Result<std::string_view> ReadToken() {
    const std::size_t start = pos_;
    while (!AtEnd()) {
      const char ch = Peek();
      if (ch == '.' || ch == '/' || ch == '(' || ch == ')' || ch == '{' || ch == '}') break;
      const unsigned char u = static_cast<unsigned char>(ch);
      if (u <= 32 || u > 126) return Error("invalid character (UCUM codes are printable ASCII without spaces)");
      if (ch == ']') return Error("unbalanced ']'");
      if (ch == '[') {
        ++pos_;
        while (!AtEnd() && Peek() != ']') {
          const unsigned char b = static_cast<unsigned char>(Peek());
          if (b <= 32 || b > 126 || b == '[') return Error("invalid character in '[...]'");
          ++pos_;
        }
        if (AtEnd()) return Error("unterminated '['");
      }
      ++pos_;
    }
    if (pos_ == start) return Error("expected a unit");
    return code_.substr(start, pos_ - start);
  }

  Result<Term> ParseSimpleWithExponent() {
    const std::size_t start = pos_;
    SOMA_ASSIGN_OR_RETURN(std::string_view token, ReadToken());

    // A bare integer is a factor ("/100", "10.L").
    bool all_digits = true;
    for (char ch : token) all_digits = all_digits && IsDigit(ch);
    if (all_digits) {
      if (token.size() > 15) return ErrorAt(start, "factor too large");
      double value = 0;
      for (char ch : token) value = value * 10 + (ch - '0');
      if (value == 0) return ErrorAt(start, "factor 0");
      Term t;
      t.factor = value;
      t.components = 1;
      return t;
    }

    // Split off a trailing exponent: [+-]digits.
    std::size_t end = token.size();
    while (end > 0 && IsDigit(token[end - 1])) --end;
    std::string_view symbol = token;
    int exponent = 1;
    if (end < token.size()) {
      std::size_t sign_at = end;
      if (sign_at > 0 && (token[sign_at - 1] == '+' || token[sign_at - 1] == '-')) --sign_at;
      if (sign_at == 0) return ErrorAt(start, "exponent without a unit");
      std::string_view digits = token.substr(end);
      if (digits.size() > 2) return ErrorAt(start, "exponent out of range (|e| <= 99)");
      exponent = 0;
      for (char ch : digits) exponent = exponent * 10 + (ch - '0');
      if (sign_at < end && token[sign_at] == '-') exponent = -exponent;
      symbol = token.substr(0, sign_at);
    }

    SOMA_ASSIGN_OR_RETURN(Term t, ResolveSymbol(symbol, start));
    if (exponent != 1) {
      if (t.affine != nullptr) {
        return ErrorAt(start, "special unit '" + std::string(t.affine->code) + "' cannot take an exponent");
      }
      t.factor = std::pow(t.factor, exponent);
      for (int& d : t.dims) d *= exponent;
    }
    t.components = 1;
    return t;
  }

  Status ErrorAt(std::size_t at, std::string_view what) {
    pos_ = at;
    return Error(what);
  }

  Term FromAtom(const Atom& atom, double prefix) const {
    const Atom* a = &atom;
    if (atom.code == "U" && options_.enzyme_unit == EnzymeUnitPolicy::kInternationalUnit) {
      a = internal::FindAtom("[iU]");
    }
    Term t;
    t.factor = a->factor * prefix;
    t.dims = a->dims;
    if (a->affine) t.affine = a;
    return t;
  }

  Result<Term> ResolveSymbol(std::string_view symbol, std::size_t start) {
    if (const Atom* atom = internal::FindAtom(symbol)) return FromAtom(*atom, 1.0);
    for (std::size_t len : {std::size_t{2}, std::size_t{1}}) {
      if (symbol.size() <= len) continue;
      auto prefix = internal::FindPrefix(symbol.substr(0, len));
      if (!prefix) continue;
      const Atom* atom = internal::FindAtom(symbol.substr(len));
      if (atom == nullptr) continue;
      if (!atom->metric) {
        return ErrorAt(start, "unit '" + std::string(atom->code) + "' takes no prefix");
      }
      if (atom->affine) {
        return ErrorAt(start, "special unit '" + std::string(atom->code) + "' takes no prefix");
      }
      return FromAtom(*atom, *prefix);
    }
    return ErrorAt(start, "unknown unit atom '" + std::string(symbol) + "'");
  }

  std::string_view code_;
  const ParseOptions& options_;
  std::size_t pos_ = 0;
};

}  // namespace

std::string Dimension::ToString() const {
  static constexpr const char* kSymbols[kNumBaseDimensions] = {"L", "M", "T", "N", "Theta", "IU"};
  std::string out;
  for (std::size_t i = 0; i < kNumBaseDimensions; ++i) {
    if (exponents[i] == 0) continue;
    if (!out.empty()) out += '.';
    out += kSymbols[i];
    if (exponents[i] != 1) out += std::to_string(exponents[i]);
  }
  return out.empty() ? "1" : out;
}

Result<Unit> ParseUnit(std::string_view code, const ParseOptions& options) {
  if (options.max_length == 0) return InvalidArgument("ParseOptions::max_length = 0; must be > 0");
  if (code.size() > options.max_length) {
    return InvalidArgument("UCUM unit of " + std::to_string(code.size()) + " bytes exceeds ParseOptions::max_length = " +
                           std::to_string(options.max_length));
  }
  if (code.empty()) return ParseError("UCUM unit '': empty (write \"1\" for dimensionless)");
  Parser parser(code, options);
  SOMA_ASSIGN_OR_RETURN(Term term, parser.ParseAll());
  if (term.affine != nullptr && term.components != 1) {
    return ParseError("UCUM unit '" + std::string(code) + "': special unit '" + std::string(term.affine->code) +
                      "' cannot be combined with other units");
  }
  if (term.affine != nullptr && code.front() == '/') {
    return ParseError("UCUM unit '" + std::string(code) + "': special unit '" + std::string(term.affine->code) +
                      "' cannot be inverted");
  }
  if (!std::isfinite(term.factor) || term.factor <= 0) {
    return ParseError("UCUM unit '" + std::string(code) + "': magnitude out of the range of double");
  }
  Unit unit;
  unit.code = std::string(code);
  unit.factor = term.factor;
  unit.dimension.exponents = term.dims;
  if (term.affine != nullptr) {
    unit.affine = true;
    unit.offset = term.affine->offset;
  }
  return unit;
}

Result<Conversion> MakeConversion(const Unit& from, const Unit& to, const ConversionOptions& options) {
  const double mw = options.molar_mass_g_per_mol;
  if (!std::isfinite(mw) || mw < 0) {
    return InvalidArgument("ConversionOptions::molar_mass_g_per_mol = " + std::to_string(mw) +
                           "; must be finite and > 0 (or 0 for none)");
  }
  double extra = 1.0;  // multiplies base values of `from` to make them `to`'s
  if (from.dimension != to.dimension) {
    // Mass <-> amount: the dimensions differ by N^a.M^-a only.
    Dimension diff;
    for (std::size_t i = 0; i < kNumBaseDimensions; ++i) {
      diff.exponents[i] = from.dimension.exponents[i] - to.dimension.exponents[i];
    }
    const int a = diff[BaseDimension::kAmount];
    Dimension pure;
    pure.exponents[static_cast<std::size_t>(BaseDimension::kAmount)] = a;
    pure.exponents[static_cast<std::size_t>(BaseDimension::kMass)] = -a;
    const bool mass_amount = a != 0 && diff == pure;
    std::string msg = "cannot convert '" + from.code + "' (" + from.dimension.ToString() + ") to '" + to.code +
                      "' (" + to.dimension.ToString() + "): incompatible dimensions";
    if (!mass_amount) return InvalidArgument(msg);
    if (mw == 0) {
      return InvalidArgument(msg + "; converting between mass and amount of substance needs a molar mass");
    }
    extra = std::pow(mw, a);
  }
  if ((from.affine || to.affine) && extra != 1.0) {
    return InvalidArgument("cannot convert '" + from.code + "' to '" + to.code + "'");
  }
  // base = v * f1 + o1;  to = (base * extra - o2) / f2.
  Conversion c;
  c.scale = from.factor * extra / to.factor;
  c.offset = (from.offset * extra - to.offset) / to.factor;
  if (!std::isfinite(c.scale) || c.scale == 0 || !std::isfinite(c.offset)) {
    return InvalidArgument("conversion from '" + from.code + "' to '" + to.code + "' is out of the range of double");
  }
  return c;
}

Result<double> Convert(double value, std::string_view from, std::string_view to, const ConversionOptions& options) {
  SOMA_ASSIGN_OR_RETURN(Unit f, ParseUnit(from, options.parse));
  SOMA_ASSIGN_OR_RETURN(Unit t, ParseUnit(to, options.parse));
  SOMA_ASSIGN_OR_RETURN(Conversion c, MakeConversion(f, t, options));
  return c.Apply(value);
}

}  // namespace soma::units
