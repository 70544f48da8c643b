#pragma once
// Reproducible randomness for ensembles: every member of an ensemble draws
// from its own generator, seeded from (base seed, member index) alone, so a
// member's numbers do not depend on which thread, process or MPI rank runs
// it, nor on how many run.

#include <cstdint>
#include <random>

namespace soma::uq {

// SplitMix64 finaliser (Steele, Lea & Flood 2014): a bijective mix whose
// outputs for consecutive inputs are statistically independent.
inline std::uint64_t SplitMix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// The seed of member `index` of an ensemble seeded with `base`.
inline std::uint64_t MemberSeed(std::uint64_t base, std::uint64_t index) {
  return SplitMix64(SplitMix64(base) ^ SplitMix64(index + 0x632be59bd9b4e019ull));
}

// The generator every sampler here uses.
using Rng = std::mt19937_64;

inline Rng MemberRng(std::uint64_t base, std::uint64_t index) { return Rng(MemberSeed(base, index)); }

}  // namespace soma::uq
