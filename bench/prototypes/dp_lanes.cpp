// Measurement behind the plan for batched trial members (bench/PROFILE.md,
// "Trial members in SIMD lanes"): the cost of one Dormand-Prince 5(4) step
// attempt (six right-hand sides, the stages and the error norm) of the T1D
// model (models/t1d-uva-padova.xml, written out by hand with its default
// parameters), for one member in scalar code against 8 (AVX-512) or 4
// (AVX2) members in SIMD lanes, states in struct-of-arrays form and each
// lane with its own step size; tanh from glibc's vector math library
// (libmvec), or with -DSCALAR_TANH per lane from the scalar function (the
// interpreter's TanhOp: the same bits as a scalar run).
//
// Not part of the build. From the repository root, on x86-64 Linux with
// glibc >= 2.35:
//   g++ -O3 -march=native -ffp-contract=off -o /tmp/dp_lanes bench/prototypes/dp_lanes.cpp -lmvec -lm
//   g++ -O3 -march=haswell -DLANES=4 -ffp-contract=off -o /tmp/dp_lanes4 bench/prototypes/dp_lanes.cpp -lmvec -lm
//   /tmp/dp_lanes
// It prints ns per step for the scalar member and per member-step in lanes.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#if LANES == 4
typedef double v8 __attribute__((vector_size(32)));
extern "C" v8 _ZGVdN4v_tanh(v8);
#define VTANH _ZGVdN4v_tanh
#else
#define LANES 8
typedef double v8 __attribute__((vector_size(64)));
extern "C" v8 _ZGVeN8v_tanh(v8);
#define VTANH _ZGVeN8v_tanh
#endif

static inline double Tanh(double x) {
  const double a = std::fabs(x);
  if (!(a >= 0.55)) return std::tanh(x);
  if (a >= 22.0) return std::copysign(1.0, x);
  return std::copysign(1.0 - 2.0 / (std::exp(2.0 * a) + 1.0), x);
}
#ifdef SCALAR_TANH
static inline v8 Tanh(v8 x) {
  v8 r;
  for (int l = 0; l < LANES; ++l) r[l] = Tanh(x[l]);
  return r;
}
#else
static inline v8 Tanh(v8 x) { return VTANH(x); }
#endif
template <class T> static inline T Max0(T x) { return x > 0 ? x : T{} ; }
static inline double Sel(bool c, double a, double b) { return c ? a : b; }
static inline v8 Sel(decltype(v8{} > v8{}) c, v8 a, v8 b) { return c ? a : b; }

struct P { double BW=102.32,kabs=0.08906,kmax=0.046122,kmin=0.0037927,b=0.70391,d=0.21057,f=0.9,Vg=1.9152,Vi=0.054906,k1=0.058138,k2=0.087114,kp1=4.73140582528,kp2=0.00469,kp3=0.01208,ki=0.0046374,Fsnc=1,Vm0=3.2667306607,Vmx=0.031319,Km0=253.52,p2u=0.027802,Ib=100.25,ke1=0.0005,ke2=339,m1=0.15446,m2=0.225027424083,m30=0.23169,m4=0.090010969633,ka1=0.0019,ka2=0.0078,kd=0.0152,ksc=0.0766,meal_rate=0,insulin_rate=1.2,Dbar=45000; };

template <class T>
static inline void Rhs(const P& p, T vmx, const T* y, T* f) {
  const T Qsto1=y[0],Qsto2=y[1],Qgut=y[2],Gp=y[3],Gt=y[4],Ip=y[5],X=y[6],I1=y[7],Id=y[8],Il=y[9],Isc1=y[10],Isc2=y[11],Gs=y[12];
  const T Qsto = Qsto1 + Qsto2;
  const double Dbar = p.Dbar;
  const T kempt = p.kmin + ((p.kmax - p.kmin) / 2) * ((Tanh((5 / (2 * Dbar * (1 - p.b))) * (Qsto - p.b * Dbar)) - Tanh((5 / (2 * Dbar * p.d)) * (Qsto - p.d * Dbar))) + 2);
  const T Ra = p.f * p.kabs * Qgut / p.BW;
  const T EGP = p.kp1 - p.kp2 * Gp - p.kp3 * Id;
  const T Uid = (p.Vm0 + vmx * X) * Gt / (p.Km0 + Gt);
  const T E = Sel(Gp > p.ke2, p.ke1 * (Gp - p.ke2), T{});
  const T I = Ip / p.Vi;
  f[0] = -p.kmax * Qsto1 + p.meal_rate;
  f[1] = p.kmax * Qsto1 - kempt * Qsto2;
  f[2] = kempt * Qsto2 - p.kabs * Qgut;
  f[3] = Sel(Gp >= 0, (Max0(EGP) + Ra - p.Fsnc - E - p.k1 * Gp) + p.k2 * Gt, T{});
  f[4] = Sel(Gt >= 0, -Uid + p.k1 * Gp - p.k2 * Gt, T{});
  f[5] = Sel(Ip >= 0, -(p.m2 + p.m4) * Ip + p.m1 * Il + p.ka1 * Isc1 + p.ka2 * Isc2, T{});
  f[6] = -p.p2u * X + p.p2u * (I - p.Ib);
  f[7] = -p.ki * (I1 - I);
  f[8] = -p.ki * (Id - I1);
  f[9] = Sel(Il >= 0, -(p.m1 + p.m30) * Il + p.m2 * Ip, T{});
  f[10] = Sel(Isc1 >= 0, p.insulin_rate - (p.ka1 + p.kd) * Isc1, T{});
  f[11] = Sel(Isc2 >= 0, p.kd * Isc1 - p.ka2 * Isc2, T{});
  f[12] = Sel(Gs >= 0, -p.ksc * Gs + p.ksc * Gp, T{});
}

constexpr int N = 13;
constexpr double a21 = 1.0 / 5, a31 = 3.0 / 40, a32 = 9.0 / 40, a41 = 44.0 / 45, a42 = -56.0 / 15, a43 = 32.0 / 9;
constexpr double a51 = 19372.0 / 6561, a52 = -25360.0 / 2187, a53 = 64448.0 / 6561, a54 = -212.0 / 729;
constexpr double a61 = 9017.0 / 3168, a62 = -355.0 / 33, a63 = 46732.0 / 5247, a64 = 49.0 / 176, a65 = -5103.0 / 18656;
constexpr double b1 = 35.0 / 384, b3 = 500.0 / 1113, b4 = 125.0 / 192, b5 = -2187.0 / 6784, b6 = 11.0 / 84;
constexpr double e1 = 71.0 / 57600, e3 = -71.0 / 16695, e4 = 71.0 / 1920, e5 = -17253.0 / 339200, e6 = 22.0 / 525, e7 = -1.0 / 40;

// One step attempt: y, k1 in; yn, k7, error norm out.
template <class T>
__attribute__((noinline)) T Step(const P& p, T vmx, T h, const T* y, const T* k1, T* yn, T* k7) {
  T s[N], k2[N], k3[N], k4[N], k5[N], k6[N];
  for (int i = 0; i < N; ++i) s[i] = y[i] + h * (a21 * k1[i]);
  Rhs(p, vmx, s, k2);
  for (int i = 0; i < N; ++i) s[i] = y[i] + h * (a31 * k1[i] + a32 * k2[i]);
  Rhs(p, vmx, s, k3);
  for (int i = 0; i < N; ++i) s[i] = y[i] + h * (a41 * k1[i] + a42 * k2[i] + a43 * k3[i]);
  Rhs(p, vmx, s, k4);
  for (int i = 0; i < N; ++i) s[i] = y[i] + h * (a51 * k1[i] + a52 * k2[i] + a53 * k3[i] + a54 * k4[i]);
  Rhs(p, vmx, s, k5);
  for (int i = 0; i < N; ++i) s[i] = y[i] + h * (a61 * k1[i] + a62 * k2[i] + a63 * k3[i] + a64 * k4[i] + a65 * k5[i]);
  Rhs(p, vmx, s, k6);
  for (int i = 0; i < N; ++i) yn[i] = y[i] + h * (b1 * k1[i] + b3 * k3[i] + b4 * k4[i] + b5 * k5[i] + b6 * k6[i]);
  Rhs(p, vmx, yn, k7);
  T sum{};
  for (int i = 0; i < N; ++i) {
    T err = h * (e1 * k1[i] + e3 * k3[i] + e4 * k4[i] + e5 * k5[i] + e6 * k6[i] + e7 * k7[i]);
    T ay = y[i] > 0 ? y[i] : -y[i], an = yn[i] > 0 ? yn[i] : -yn[i];
    T sc = 1e-9 + 1e-9 * (ay > an ? ay : an);
    T r = err / sc;
    sum += r * r;
  }
  return sum;
}

int main() {
  P p;
  const double y0[N] = {20000, 15000, 5000, 265.37, 162.46, 5.5, 0, 100.25, 100.25, 3.2, 72.4, 141.2, 265.37};
  const long steps = 2000000;
  // scalar
  double y[N], k1[N], yn[N], k7[N];
  std::memcpy(y, y0, sizeof y);
  Rhs(p, 0.031319, y, k1);
  double acc = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (long s = 0; s < steps; ++s) {
    acc += Step<double>(p, 0.031319 * (1 + 1e-9 * (s & 7)), 0.5, y, k1, yn, k7);
    std::memcpy(y, yn, sizeof y); std::memcpy(k1, k7, sizeof k1);
    if ((s & 1023) == 0) { std::memcpy(y, y0, sizeof y); Rhs(p, 0.031319, y, k1); }
  }
  double ts = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // 8 lanes
  v8 Y[N], K1[N], YN[N], K7[N];
  v8 vmx;
  for (int l = 0; l < LANES; ++l) vmx[l] = 0.031319 * (0.8 + 0.05 * l);
  for (int i = 0; i < N; ++i) for (int l = 0; l < LANES; ++l) Y[i][l] = y0[i];
  Rhs(p, vmx, Y, K1);
  v8 vacc{};
  v8 H; for (int l = 0; l < LANES; ++l) H[l] = 0.5 + 0.01 * l;
  auto t1 = std::chrono::steady_clock::now();
  for (long s = 0; s < steps / LANES; ++s) {
    vacc += Step<v8>(p, vmx, H, Y, K1, YN, K7);
    std::memcpy(Y, YN, sizeof Y); std::memcpy(K1, K7, sizeof K1);
    if ((s & 1023) == 0) { for (int i = 0; i < N; ++i) for (int l = 0; l < LANES; ++l) Y[i][l] = y0[i]; Rhs(p, vmx, Y, K1); }
  }
  double tv = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  std::printf("scalar %.1f ns/step, %d lanes %.1f ns/member-step, ratio %.2f (acc %g %g)\n", 1e9 * ts / steps, LANES, 1e9 * tv / steps, ts / tv, acc, vacc[3]);
}
