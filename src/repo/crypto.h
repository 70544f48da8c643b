#pragma once
// The few cryptographic primitives the repository needs, from OpenSSL's
// libcrypto: SHA-256, HMAC-SHA-256 and random bytes from the OS CSPRNG.

#include <string>
#include <string_view>

namespace soma::repo {

// Lowercase hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

// Incremental SHA-256 for large inputs.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(std::string_view data);
  std::string FinishHex();

 private:
  void* ctx_;
};

// Lowercase hex HMAC-SHA-256 of `data` under `key`.
std::string HmacSha256Hex(std::string_view key, std::string_view data);

// `n` bytes from the OS CSPRNG, hex-encoded (2n characters). Aborts if the
// CSPRNG fails: issuing a predictable token would be worse than stopping.
std::string RandomHex(int n);

// Constant-time equality for secrets.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace soma::repo
