#include "formats/fhir/pseudonym.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdio>
#include <cstdlib>

namespace soma::formats {

std::string Pseudonymise(std::string_view node_secret, std::string_view key) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), node_secret.data(), static_cast<int>(node_secret.size()),
           reinterpret_cast<const unsigned char*>(key.data()), key.size(), mac, &len) == nullptr ||
      len < 16) {
    std::fprintf(stderr, "soma: OpenSSL HMAC-SHA256 unavailable\n");
    std::abort();
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "psn-";
  for (unsigned int i = 0; i < 16; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 15];
  }
  return out;
}

}  // namespace soma::formats
