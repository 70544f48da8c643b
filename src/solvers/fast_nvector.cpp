#include "solvers/fast_nvector.h"

#include <nvector/nvector_serial.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace soma::solvers {

namespace {

// Each function mirrors N_V*_Serial of SUNDIALS 6.4 (src/nvector/serial),
// including the order of every sum, so that results are bit-identical.

inline sunindextype Len(N_Vector v) { return NV_LENGTH_S(v); }
inline double* Data(N_Vector v) { return NV_DATA_S(v); }

inline double Rsqrt(double x) { return x <= 0.0 ? 0.0 : std::sqrt(x); }

// The element-wise loops are also built for AVX2 (4 doubles per instruction
// instead of SSE2's 2), picked at load time where the CPU has it. No FMA: the
// arithmetic, and so every result, is the same on both paths.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SOMA_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define SOMA_VECTOR_CLONES
#endif

// z = a x + b y. SUNDIALS branches on a, b = +-1 to save multiplications;
// multiplying by +-1 is exact, so one general loop per case below gives the
// same values.
SOMA_VECTOR_CLONES void LinearSum(double a, N_Vector x, double b, N_Vector y, N_Vector z) {
  const sunindextype n = Len(x);
  const double* xd = Data(x);
  const double* yd = Data(y);
  double* zd = Data(z);
  if (a == 1.0 && b == 1.0) {
    for (sunindextype i = 0; i < n; ++i) zd[i] = xd[i] + yd[i];
  } else if (a == 1.0 && b == -1.0) {
    for (sunindextype i = 0; i < n; ++i) zd[i] = xd[i] - yd[i];
  } else if (a == -1.0 && b == 1.0) {
    for (sunindextype i = 0; i < n; ++i) zd[i] = yd[i] - xd[i];
  } else if (b == 1.0) {
    for (sunindextype i = 0; i < n; ++i) zd[i] = a * xd[i] + yd[i];
  } else if (a == 1.0) {
    for (sunindextype i = 0; i < n; ++i) zd[i] = b * yd[i] + xd[i];
  } else if (a == -1.0) {
    for (sunindextype i = 0; i < n; ++i) zd[i] = b * yd[i] - xd[i];
  } else if (b == -1.0) {
    for (sunindextype i = 0; i < n; ++i) zd[i] = a * xd[i] - yd[i];
  } else if (a == b) {
    for (sunindextype i = 0; i < n; ++i) zd[i] = a * (xd[i] + yd[i]);
  } else if (a == -b) {
    for (sunindextype i = 0; i < n; ++i) zd[i] = a * (xd[i] - yd[i]);
  } else {
    for (sunindextype i = 0; i < n; ++i) zd[i] = a * xd[i] + b * yd[i];
  }
}

void Const(double c, N_Vector z) { std::fill_n(Data(z), Len(z), c); }

SOMA_VECTOR_CLONES void Prod(N_Vector x, N_Vector y, N_Vector z) {
  const sunindextype n = Len(x);
  const double *xd = Data(x), *yd = Data(y);
  double* zd = Data(z);
  for (sunindextype i = 0; i < n; ++i) zd[i] = xd[i] * yd[i];
}

SOMA_VECTOR_CLONES void Div(N_Vector x, N_Vector y, N_Vector z) {
  const sunindextype n = Len(x);
  const double *xd = Data(x), *yd = Data(y);
  double* zd = Data(z);
  for (sunindextype i = 0; i < n; ++i) zd[i] = xd[i] / yd[i];
}

SOMA_VECTOR_CLONES void Scale(double c, N_Vector x, N_Vector z) {
  const sunindextype n = Len(x);
  const double* xd = Data(x);
  double* zd = Data(z);
  if (c == 1.0) {
    if (zd != xd) std::memmove(zd, xd, static_cast<size_t>(n) * sizeof(double));
  } else if (c == -1.0) {
    for (sunindextype i = 0; i < n; ++i) zd[i] = -xd[i];
  } else {
    for (sunindextype i = 0; i < n; ++i) zd[i] = c * xd[i];
  }
}

SOMA_VECTOR_CLONES void Abs(N_Vector x, N_Vector z) {
  const sunindextype n = Len(x);
  const double* xd = Data(x);
  double* zd = Data(z);
  for (sunindextype i = 0; i < n; ++i) zd[i] = std::fabs(xd[i]);
}

SOMA_VECTOR_CLONES void Inv(N_Vector x, N_Vector z) {
  const sunindextype n = Len(x);
  const double* xd = Data(x);
  double* zd = Data(z);
  for (sunindextype i = 0; i < n; ++i) zd[i] = 1.0 / xd[i];
}

SOMA_VECTOR_CLONES void AddConst(N_Vector x, double b, N_Vector z) {
  const sunindextype n = Len(x);
  const double* xd = Data(x);
  double* zd = Data(z);
  for (sunindextype i = 0; i < n; ++i) zd[i] = xd[i] + b;
}

double DotProd(N_Vector x, N_Vector y) {
  const sunindextype n = Len(x);
  const double *xd = Data(x), *yd = Data(y);
  double sum = 0.0;
  for (sunindextype i = 0; i < n; ++i) sum += xd[i] * yd[i];
  return sum;
}

double MaxNorm(N_Vector x) {
  const sunindextype n = Len(x);
  const double* xd = Data(x);
  double max = 0.0;
  for (sunindextype i = 0; i < n; ++i) {
    const double a = std::fabs(xd[i]);
    if (a > max) max = a;
  }
  return max;
}

double WSqrSum(N_Vector x, N_Vector w) {
  const sunindextype n = Len(x);
  const double *xd = Data(x), *wd = Data(w);
  double sum = 0.0;
  for (sunindextype i = 0; i < n; ++i) {
    const double p = xd[i] * wd[i];
    sum += p * p;
  }
  return sum;
}

double WSqrSumMask(N_Vector x, N_Vector w, N_Vector id) {
  const sunindextype n = Len(x);
  const double *xd = Data(x), *wd = Data(w), *idd = Data(id);
  double sum = 0.0;
  for (sunindextype i = 0; i < n; ++i) {
    if (idd[i] > 0.0) {
      const double p = xd[i] * wd[i];
      sum += p * p;
    }
  }
  return sum;
}

double WrmsNorm(N_Vector x, N_Vector w) { return Rsqrt(WSqrSum(x, w) / static_cast<double>(Len(x))); }

double WrmsNormMask(N_Vector x, N_Vector w, N_Vector id) {
  return Rsqrt(WSqrSumMask(x, w, id) / static_cast<double>(Len(x)));
}

double Min(N_Vector x) {
  const sunindextype n = Len(x);
  const double* xd = Data(x);
  double min = xd[0];
  for (sunindextype i = 1; i < n; ++i) {
    if (xd[i] < min) min = xd[i];
  }
  return min;
}

double WL2Norm(N_Vector x, N_Vector w) { return Rsqrt(WSqrSum(x, w)); }

double L1Norm(N_Vector x) {
  const sunindextype n = Len(x);
  const double* xd = Data(x);
  double sum = 0.0;
  for (sunindextype i = 0; i < n; ++i) sum += std::fabs(xd[i]);
  return sum;
}

SOMA_VECTOR_CLONES void Compare(double c, N_Vector x, N_Vector z) {
  const sunindextype n = Len(x);
  const double* xd = Data(x);
  double* zd = Data(z);
  for (sunindextype i = 0; i < n; ++i) zd[i] = std::fabs(xd[i]) >= c ? 1.0 : 0.0;
}

sunbooleantype InvTest(N_Vector x, N_Vector z) {
  const sunindextype n = Len(x);
  const double* xd = Data(x);
  double* zd = Data(z);
  sunbooleantype no_zero_found = SUNTRUE;
  for (sunindextype i = 0; i < n; ++i) {
    if (xd[i] == 0.0) {
      no_zero_found = SUNFALSE;
    } else {
      zd[i] = 1.0 / xd[i];
    }
  }
  return no_zero_found;
}

// Fused and vector-array operations: SUNDIALS' serial definitions.

SOMA_VECTOR_CLONES int LinearCombination(int nvec, double* c, N_Vector* x, N_Vector z) {
  if (nvec < 1) return -1;
  if (nvec == 1) {
    Scale(c[0], x[0], z);
    return 0;
  }
  if (nvec == 2) {
    LinearSum(c[0], x[0], c[1], x[1], z);
    return 0;
  }
  const sunindextype n = Len(z);
  double* zd = Data(z);
  if (x[0] == z) {
    if (c[0] != 1.0) {
      for (sunindextype j = 0; j < n; ++j) zd[j] *= c[0];
    }
  } else {
    const double* xd = Data(x[0]);
    for (sunindextype j = 0; j < n; ++j) zd[j] = c[0] * xd[j];
  }
  for (int i = 1; i < nvec; ++i) {
    const double* xd = Data(x[i]);
    const double ci = c[i];
    for (sunindextype j = 0; j < n; ++j) zd[j] += ci * xd[j];
  }
  return 0;
}

SOMA_VECTOR_CLONES int ScaleAddMulti(int nvec, double* a, N_Vector x, N_Vector* y, N_Vector* z) {
  if (nvec < 1) return -1;
  if (nvec == 1) {
    LinearSum(a[0], x, 1.0, y[0], z[0]);
    return 0;
  }
  const sunindextype n = Len(x);
  const double* xd = Data(x);
  for (int i = 0; i < nvec; ++i) {
    const double ai = a[i];
    const double* yd = Data(y[i]);
    double* zd = Data(z[i]);
    if (y == z) {
      for (sunindextype j = 0; j < n; ++j) zd[j] += ai * xd[j];
    } else {
      for (sunindextype j = 0; j < n; ++j) zd[j] = ai * xd[j] + yd[j];
    }
  }
  return 0;
}

int DotProdMulti(int nvec, N_Vector x, N_Vector* y, double* dots) {
  if (nvec < 1) return -1;
  for (int i = 0; i < nvec; ++i) dots[i] = DotProd(x, y[i]);
  return 0;
}

int LinearSumVectorArray(int nvec, double a, N_Vector* x, double b, N_Vector* y, N_Vector* z) {
  if (nvec < 1) return -1;
  for (int i = 0; i < nvec; ++i) LinearSum(a, x[i], b, y[i], z[i]);
  return 0;
}

int ScaleVectorArray(int nvec, double* c, N_Vector* x, N_Vector* z) {
  if (nvec < 1) return -1;
  for (int i = 0; i < nvec; ++i) Scale(c[i], x[i], z[i]);
  return 0;
}

int ConstVectorArray(int nvec, double c, N_Vector* z) {
  if (nvec < 1) return -1;
  for (int i = 0; i < nvec; ++i) Const(c, z[i]);
  return 0;
}

int WrmsNormVectorArray(int nvec, N_Vector* x, N_Vector* w, double* nrm) {
  if (nvec < 1) return -1;
  for (int i = 0; i < nvec; ++i) nrm[i] = WrmsNorm(x[i], w[i]);
  return 0;
}

int WrmsNormMaskVectorArray(int nvec, N_Vector* x, N_Vector* w, N_Vector id, double* nrm) {
  if (nvec < 1) return -1;
  for (int i = 0; i < nvec; ++i) nrm[i] = WrmsNormMask(x[i], w[i], id);
  return 0;
}

// Z[j][i] = a[j] X[i] + Y[j][i] for each of nvec vectors i and nsum terms j.
SOMA_VECTOR_CLONES int ScaleAddMultiVectorArray(int nvec, int nsum, double* a, N_Vector* x, N_Vector** y,
                                                N_Vector** z) {
  if (nvec < 1 || nsum < 1) return -1;
  for (int i = 0; i < nvec; ++i) {
    const sunindextype n = Len(x[i]);
    const double* xd = Data(x[i]);
    for (int j = 0; j < nsum; ++j) {
      const double aj = a[j];
      const double* yd = Data(y[j][i]);
      double* zd = Data(z[j][i]);
      if (y == z) {
        for (sunindextype k = 0; k < n; ++k) zd[k] += aj * xd[k];
      } else {
        for (sunindextype k = 0; k < n; ++k) zd[k] = aj * xd[k] + yd[k];
      }
    }
  }
  return 0;
}

// Z[j] = sum_i c[i] X[i][j] for each of nvec vectors j and nsum terms i.
SOMA_VECTOR_CLONES int LinearCombinationVectorArray(int nvec, int nsum, double* c, N_Vector** x,
                                                    N_Vector* z) {
  if (nvec < 1 || nsum < 1) return -1;
  for (int j = 0; j < nvec; ++j) {
    if (nsum == 1) {
      Scale(c[0], x[0][j], z[j]);
      continue;
    }
    if (nsum == 2) {
      LinearSum(c[0], x[0][j], c[1], x[1][j], z[j]);
      continue;
    }
    const sunindextype n = Len(z[j]);
    double* zd = Data(z[j]);
    if (x[0][j] == z[j]) {
      if (c[0] != 1.0) {
        for (sunindextype k = 0; k < n; ++k) zd[k] *= c[0];
      }
    } else {
      const double* xd = Data(x[0][j]);
      for (sunindextype k = 0; k < n; ++k) zd[k] = c[0] * xd[k];
    }
    for (int i = 1; i < nsum; ++i) {
      const double* xd = Data(x[i][j]);
      const double ci = c[i];
      for (sunindextype k = 0; k < n; ++k) zd[k] += ci * xd[k];
    }
  }
  return 0;
}

}  // namespace

void UseFastSerialOps(N_Vector v) {
  if (v == nullptr || N_VGetVectorID(v) != SUNDIALS_NVEC_SERIAL) return;
  N_Vector_Ops ops = v->ops;
  ops->nvlinearsum = LinearSum;
  ops->nvconst = Const;
  ops->nvprod = Prod;
  ops->nvdiv = Div;
  ops->nvscale = Scale;
  ops->nvabs = Abs;
  ops->nvinv = Inv;
  ops->nvaddconst = AddConst;
  ops->nvdotprod = DotProd;
  ops->nvmaxnorm = MaxNorm;
  ops->nvwrmsnorm = WrmsNorm;
  ops->nvwrmsnormmask = WrmsNormMask;
  ops->nvmin = Min;
  ops->nvwl2norm = WL2Norm;
  ops->nvl1norm = L1Norm;
  ops->nvcompare = Compare;
  ops->nvinvtest = InvTest;

  ops->nvlinearcombination = LinearCombination;
  ops->nvscaleaddmulti = ScaleAddMulti;
  ops->nvdotprodmulti = DotProdMulti;
  ops->nvlinearsumvectorarray = LinearSumVectorArray;
  ops->nvscalevectorarray = ScaleVectorArray;
  ops->nvconstvectorarray = ConstVectorArray;
  ops->nvwrmsnormvectorarray = WrmsNormVectorArray;
  ops->nvwrmsnormmaskvectorarray = WrmsNormMaskVectorArray;
  ops->nvscaleaddmultivectorarray = ScaleAddMultiVectorArray;
  ops->nvlinearcombinationvectorarray = LinearCombinationVectorArray;

  ops->nvdotprodlocal = DotProd;
  ops->nvmaxnormlocal = MaxNorm;
  ops->nvminlocal = Min;
  ops->nvl1normlocal = L1Norm;
  ops->nvinvtestlocal = InvTest;
  ops->nvwsqrsumlocal = WSqrSum;
  ops->nvwsqrsummasklocal = WSqrSumMask;
}

}  // namespace soma::solvers
