#include "solvers/sparse_lu.h"

#include "solvers/dense_block.h"

#include <klu.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace soma::solvers {

static_assert(sizeof(sunindextype) == sizeof(SuiteSparse_long),
              "KLU's long interface needs 64-bit SUNDIALS indices");

struct SparseLu::Klu {
  klu_l_common common;
  klu_l_symbolic* symbolic = nullptr;

  Klu() {
    klu_l_defaults(&common);
    // AMD ordering: on bench/ networks it gives less fill than KLU's default
    // COLAMD (mass-100: 2.6k vs 3.6k entries in L + U).
    common.ordering = 0;
    // One block: the dense trailing block (see the header) pays off more
    // than the block triangular form's slightly smaller fill.
    common.btf = 0;
  }
  ~Klu() {
    if (symbolic != nullptr) klu_l_free_symbolic(&symbolic, &common);
  }
};

// The dense block's loops are also built for AVX2, picked at load time where
// the CPU has it (no FMA: the same arithmetic on both paths).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SOMA_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define SOMA_VECTOR_CLONES
#endif

namespace {

SuiteSparse_long* Ptr(const sunindextype* p) {
  return reinterpret_cast<SuiteSparse_long*>(const_cast<sunindextype*>(p));
}

}  // namespace

SparseLu::SparseLu() : klu_(new Klu()) {}

SparseLu::~SparseLu() { delete klu_; }

bool SparseLu::SamePattern(sunindextype n, const sunindextype* ap, const sunindextype* ai) const {
  if (a_starts_.size() != static_cast<size_t>(n + 1)) return false;
  if (std::memcmp(a_starts_.data(), ap, a_starts_.size() * sizeof(sunindextype)) != 0) return false;
  return a_rows_.size() == static_cast<size_t>(ap[n]) &&
         std::memcmp(a_rows_.data(), ai, a_rows_.size() * sizeof(sunindextype)) == 0;
}

bool SparseLu::Factor(sunindextype n, const sunindextype* ap, const sunindextype* ai, const double* ax) {
  factored_ = false;
  structure_ = false;
  if (n < 1 || n >= std::numeric_limits<int32_t>::max() || ap[n] >= std::numeric_limits<int32_t>::max()) {
    return false;
  }
  klu_l_common& c = klu_->common;
  if (klu_->symbolic == nullptr || !SamePattern(n, ap, ai)) {
    if (klu_->symbolic != nullptr) klu_l_free_symbolic(&klu_->symbolic, &c);
    a_starts_.clear();
    a_rows_.clear();
    klu_->symbolic = klu_l_analyze(n, Ptr(ap), Ptr(ai), &c);
    if (klu_->symbolic == nullptr) return false;
    a_starts_.assign(ap, ap + n + 1);
    a_rows_.assign(ai, ai + ap[n]);
  }
  klu_l_numeric* numeric = klu_l_factor(Ptr(ap), Ptr(ai), const_cast<double*>(ax), klu_->symbolic, &c);
  if (numeric == nullptr) return false;
  // The pivots and the patterns of L and U; KLU's values are recomputed by
  // Numeric() below (same structure, Soma's arithmetic).
  Extracted& e = extracted_;
  const size_t un = static_cast<size_t>(n);
  e.p.resize(un);
  e.q.resize(un);
  e.r.resize(un + 1);
  e.lp.resize(un + 1);
  e.up.resize(un + 1);
  e.li.resize(static_cast<size_t>(numeric->lnz));
  e.ui.resize(static_cast<size_t>(numeric->unz));
  lx_tmp_.resize(e.li.size());
  ux_tmp_.resize(e.ui.size());
  rs_tmp_.resize(un);
  std::vector<sunindextype> fp(un + 1),
      fi(static_cast<size_t>(std::max<SuiteSparse_long>(numeric->nzoff, 1)));
  f_tmp_.resize(fi.size());
  const bool extracted = klu_l_extract(numeric, klu_->symbolic, Ptr(e.lp.data()), Ptr(e.li.data()),
                                       lx_tmp_.data(), Ptr(e.up.data()), Ptr(e.ui.data()), ux_tmp_.data(),
                                       Ptr(fp.data()), Ptr(fi.data()), f_tmp_.data(), Ptr(e.p.data()),
                                       Ptr(e.q.data()), rs_tmp_.data(), Ptr(e.r.data()), &c) != 0;
  klu_l_free_numeric(&numeric, &c);
  if (!extracted || !BuildStructure(ap, ai, e)) return false;
  structure_ = true;
  factored_ = Numeric(ax);
  return factored_;
}

bool SparseLu::BuildStructure(const sunindextype* ap, const sunindextype* ai, const Extracted& e) {
  const uint32_t n = static_cast<uint32_t>(e.p.size());
  n_ = n;
  p_.assign(e.p.begin(), e.p.end());
  q_.assign(e.q.begin(), e.q.end());
  std::vector<uint32_t> pinv(n);
  for (uint32_t k = 0; k < n; ++k) pinv[p_[k]] = k;
  // The dense block: entry (r, c) of L + U lies in the trailing block from
  // k0 for every k0 <= min(r, c). Per solve a sparse entry costs about five
  // times a dense one (indexed load, multiply-subtract, indexed store versus
  // a vectorised stream).
  std::vector<size_t> starts_at(n + 1, 0);
  size_t total = 0;
  auto count = [&](const std::vector<sunindextype>& cp, const std::vector<sunindextype>& ri) {
    for (uint32_t c = 0; c < n; ++c) {
      for (sunindextype x = cp[c]; x < cp[c + 1]; ++x) {
        ++starts_at[std::min<sunindextype>(ri[x], c)];
        ++total;
      }
    }
  };
  count(e.lp, e.li);
  count(e.up, e.ui);
  size_t trailing = 0, best_cost = 5 * total;
  k0_ = n;
  for (uint32_t k = n; k-- > 0;) {
    trailing += starts_at[k];
    const size_t m = n - k;
    const size_t cost = 5 * (total - trailing) + 2 * m * m;  // L and U share the m x m block
    if (cost < best_cost) {
      best_cost = cost;
      k0_ = k;
    }
  }
  m_ = n - k0_;
  // A's entries, column by factored column.
  a_begin_.assign(1, 0);
  a_src_.clear();
  a_dst_.clear();
  for (uint32_t k = 0; k < n; ++k) {
    const sunindextype col = q_[k];
    for (sunindextype x = ap[col]; x < ap[col + 1]; ++x) {
      a_src_.push_back(static_cast<uint32_t>(x));
      a_dst_.push_back(pinv[ai[x]]);
    }
    a_begin_.push_back(static_cast<uint32_t>(a_src_.size()));
  }
  l_begin_.assign(1, 0);
  u_begin_.assign(1, 0);
  l_row_.clear();
  u_row_.clear();
  for (uint32_t k = 0; k < n; ++k) {
    if (k < k0_) {
      for (sunindextype x = e.lp[k]; x < e.lp[k + 1]; ++x) {
        const sunindextype row = e.li[x];
        if (row == k) continue;
        if (row < k || row >= static_cast<sunindextype>(n)) return false;
        l_row_.push_back(static_cast<uint32_t>(row));
      }
    }
    l_begin_.push_back(static_cast<uint32_t>(l_row_.size()));
    const size_t first = u_row_.size();
    for (sunindextype x = e.up[k]; x < e.up[k + 1]; ++x) {
      const sunindextype row = e.ui[x];
      if (row > k) return false;
      if (row < std::min(k, k0_)) u_row_.push_back(static_cast<uint32_t>(row));
    }
    std::sort(u_row_.begin() + static_cast<long>(first), u_row_.end());
    u_begin_.push_back(static_cast<uint32_t>(u_row_.size()));
  }
  lx_.assign(l_row_.size(), 0.0);
  ux_.assign(u_row_.size(), 0.0);
  u_diag_.assign(n, 0.0);
  dense_.assign(static_cast<size_t>(m_) * m_, 0.0);
  rs_.assign(n, 0.0);
  work_.assign(n, 0.0);
  rhs_.assign(n, 0.0);
  return true;
}

SOMA_VECTOR_CLONES bool SparseLu::Numeric(const double* ax) {
  const uint32_t n = n_, k0 = k0_, m = m_;
  const sunindextype* a_rows = a_rows_.data();
  // Row scaling as KLU's default: each row by its largest magnitude.
  double* rs = rs_.data();
  std::fill_n(rs, n, 0.0);
  const size_t nnz = a_rows_.size();
  for (size_t x = 0; x < nnz; ++x) rs[a_rows[x]] = std::max(rs[a_rows[x]], std::fabs(ax[x]));
  for (uint32_t i = 0; i < n; ++i) {
    if (rs[i] == 0.0) rs[i] = 1.0;
  }
  double* w = work_.data();
  const uint32_t* l_begin = l_begin_.data();
  const uint32_t* l_row = l_row_.data();
  double* lx = lx_.data();
  bool ok = true;
  for (uint32_t k = 0; k < n && ok; ++k) {
    for (uint32_t x = a_begin_[k]; x < a_begin_[k + 1]; ++x) {
      const uint32_t src = a_src_[x];
      w[a_dst_[x]] = ax[src] / rs[a_rows[src]];
    }
    // Left-looking: subtract L(:, j) U(j, k) for the sparse rows j of U's
    // column k, in ascending order.
    for (uint32_t x = u_begin_[k]; x < u_begin_[k + 1]; ++x) {
      const uint32_t j = u_row_[x];
      const double u = w[j];
      w[j] = 0.0;
      ux_[x] = u;
      if (u == 0.0) continue;
      for (uint32_t y = l_begin[j]; y < l_begin[j + 1]; ++y) w[l_row[y]] -= lx[y] * u;
    }
    if (k >= k0) {
      // What the sparse columns leave of column k in the dense rows.
      double* col = dense_.data() + static_cast<size_t>(k - k0) * m;
      std::copy(w + k0, w + n, col);
      std::fill(w + k0, w + n, 0.0);
      continue;
    }
    const double d = w[k];
    w[k] = 0.0;
    u_diag_[k] = d;
    ok = d != 0.0 && std::isfinite(d);
    for (uint32_t y = l_begin[k]; y < l_begin[k + 1]; ++y) {
      lx[y] = w[l_row[y]] / d;
      w[l_row[y]] = 0.0;
    }
  }
  if (!ok) {
    std::fill_n(w, n, 0.0);
    return false;
  }
  // The dense block: right-looking LU without pivoting (the pivots are KLU's).
  return internal::DenseLu(dense_.data(), m, u_diag_.data() + k0);
}

bool SparseLu::Refactor(sunindextype n, const sunindextype* ap, const sunindextype* ai, const double* ax) {
  factored_ = false;
  if (!structure_ || static_cast<sunindextype>(n_) != n || !SamePattern(n, ap, ai)) return false;
  if (!Numeric(ax)) return false;
  // KLU's cheap reciprocal condition estimate, with SUNLinSol_KLU's limit.
  double lo = std::numeric_limits<double>::infinity(), hi = 0.0;
  for (double d : u_diag_) {
    const double a = std::fabs(d);
    lo = std::min(lo, a);
    hi = std::max(hi, a);
  }
  static const double kMinRcond = std::pow(std::numeric_limits<double>::epsilon(), 2.0 / 3.0);
  if (!(lo >= kMinRcond * hi)) return false;
  factored_ = true;
  return true;
}

SOMA_VECTOR_CLONES void SparseLu::Solve(double* x) {
  const uint32_t n = n_, k0 = k0_, m = m_;
  double* y = rhs_.data();
  for (uint32_t k = 0; k < n; ++k) y[k] = x[p_[k]] / rs_[p_[k]];
  const uint32_t* l_begin = l_begin_.data();
  const uint32_t* l_row = l_row_.data();
  const double* lx = lx_.data();
  const uint32_t* u_begin = u_begin_.data();
  const uint32_t* u_row = u_row_.data();
  const double* ux = ux_.data();
  // L: sparse columns, then the dense block.
  for (uint32_t j = 0; j < k0; ++j) {
    const double yj = y[j];
    if (yj == 0.0) continue;
    for (uint32_t x = l_begin[j]; x < l_begin[j + 1]; ++x) y[l_row[x]] -= lx[x] * yj;
  }
  double* __restrict z = y + k0;
  const double* a = dense_.data();
  internal::DenseLowerSolve(a, m, z);
  // U: the dense block (and its columns' sparse rows), then sparse columns.
  internal::DenseUpperSolve(a, m, z);
  for (uint32_t j = k0; j < n; ++j) {
    const double yj = y[j];
    if (yj == 0.0) continue;
    for (uint32_t x = u_begin[j]; x < u_begin[j + 1]; ++x) y[u_row[x]] -= ux[x] * yj;
  }
  for (uint32_t j = k0; j-- > 0;) {
    const double yj = y[j] / u_diag_[j];
    y[j] = yj;
    if (yj == 0.0) continue;
    for (uint32_t x = u_begin[j]; x < u_begin[j + 1]; ++x) y[u_row[x]] -= ux[x] * yj;
  }
  for (uint32_t k = 0; k < n; ++k) x[q_[k]] = y[k];
}

}  // namespace soma::solvers
