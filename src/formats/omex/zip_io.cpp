#include "formats/omex/zip_io.h"

namespace soma::formats::internal {
namespace {

struct ZipSourceFree {
  void operator()(zip_source_t* s) const { zip_source_free(s); }
};
using SourcePtr = std::unique_ptr<zip_source_t, ZipSourceFree>;

struct ZipFileClose {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};

// RAII for zip_error_t, which may own a message buffer.
class ZipError {
 public:
  ZipError() { zip_error_init(&error_); }
  ~ZipError() { zip_error_fini(&error_); }
  ZipError(const ZipError&) = delete;
  ZipError& operator=(const ZipError&) = delete;
  zip_error_t* get() { return &error_; }
  int code() const { return error_.zip_err; }
  std::string message() { return zip_error_strerror(&error_); }

 private:
  zip_error_t error_;
};

Status StatusFor(zip_error_t* error, std::string_view name) {
  std::string what = std::string(name) + ": " + zip_error_strerror(error);
  switch (zip_error_code_zip(error)) {
    case ZIP_ER_NOPASSWD:
    case ZIP_ER_WRONGPASSWD:
    case ZIP_ER_ENCRNOTSUPP:
      return Unsupported(std::string(name) + ": encrypted zip entries are not supported");
    case ZIP_ER_COMPNOTSUPP:
      return Unsupported(std::string(name) + ": compression method not supported");
    case ZIP_ER_MEMORY:
      return ResourceExhausted(what);
    default:
      return ParseError("corrupt zip entry " + what);
  }
}

// 1980-01-01 00:00:00 in MS-DOS date/time format.
constexpr zip_uint16_t kDosDate = (0 << 9) | (1 << 5) | 1;
constexpr zip_uint16_t kDosTime = 0;
constexpr zip_uint32_t kUnixRegularFile0644 = 0100644;

}  // namespace

Result<ZipReader> ZipReader::Open(std::string_view bytes, std::uint64_t max_entries) {
  ZipError error;
  SourcePtr source(zip_source_buffer_create(bytes.data(), bytes.size(), 0, error.get()));
  if (source == nullptr) return Internal("libzip: " + error.message());
  zip_t* zip = zip_open_from_source(source.get(), ZIP_RDONLY | ZIP_CHECKCONS, error.get());
  if (zip == nullptr) {
    if (error.code() == ZIP_ER_NOZIP) return ParseError("not a zip archive");
    if (error.code() == ZIP_ER_MEMORY) return ResourceExhausted("zip archive: " + error.message());
    return ParseError("unreadable zip archive: " + error.message());
  }
  source.release();  // the archive owns it now
  ZipReader reader;
  reader.zip_.reset(zip);
  zip_int64_t n = zip_get_num_entries(zip, 0);
  reader.num_entries_ = n < 0 ? 0 : static_cast<std::uint64_t>(n);
  if (reader.num_entries_ > max_entries) {
    return ResourceExhausted("zip archive has " + std::to_string(reader.num_entries_) +
                             " entries, more than the limit of " + std::to_string(max_entries));
  }
  for (std::uint64_t i = 0; i < reader.num_entries_; ++i) {
    const char* name = zip_get_name(zip, i, ZIP_FL_ENC_GUESS);
    if (name == nullptr) continue;
    std::string entry = name;
    if (entry.empty() || entry.back() == '/') continue;  // a folder
    reader.files_.emplace(std::move(entry), i);          // the first of duplicates wins
  }
  return reader;
}

std::optional<std::uint64_t> ZipReader::Find(std::string_view name) const {
  auto it = files_.find(name);
  if (it == files_.end()) return std::nullopt;
  return it->second;
}

std::uint64_t ZipReader::DeclaredSize(std::uint64_t index) const {
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(zip_.get(), index, 0, &st) != 0 || (st.valid & ZIP_STAT_SIZE) == 0) return 0;
  return st.size;
}

Result<std::string> ZipReader::Read(std::uint64_t index, std::string_view name,
                                    std::uint64_t max_bytes) const {
  std::uint64_t declared = DeclaredSize(index);
  if (declared > max_bytes) {
    return ResourceExhausted(std::string(name) + ": uncompressed size " + std::to_string(declared) +
                             " bytes exceeds the remaining limit of " + std::to_string(max_bytes) + " bytes");
  }
  std::unique_ptr<zip_file_t, ZipFileClose> file(zip_fopen_index(zip_.get(), index, 0));
  if (file == nullptr) return StatusFor(zip_get_error(zip_.get()), name);
  std::string out;
  out.reserve(static_cast<size_t>(declared));
  char buffer[1 << 16];
  while (true) {
    zip_int64_t n = zip_fread(file.get(), buffer, sizeof buffer);
    if (n < 0) return StatusFor(zip_file_get_error(file.get()), name);
    if (n == 0) break;
    if (out.size() + static_cast<std::uint64_t>(n) > max_bytes) {
      return ResourceExhausted(std::string(name) + ": inflates to more than the remaining limit of " +
                               std::to_string(max_bytes) + " bytes");
    }
    out.append(buffer, static_cast<size_t>(n));
  }
  return out;
}

Result<std::string> WriteZip(const std::vector<ZipFile>& files) {
  ZipError error;
  SourcePtr source(zip_source_buffer_create(nullptr, 0, 0, error.get()));
  if (source == nullptr) return Internal("libzip: " + error.message());
  zip_source_keep(source.get());  // survives zip_close so that we can read it back
  std::unique_ptr<zip_t, ZipDiscard> zip(zip_open_from_source(source.get(), ZIP_TRUNCATE, error.get()));
  if (zip == nullptr) {
    zip_source_free(source.get());  // drop the reference taken by zip_source_keep
    return Internal("libzip: " + error.message());
  }
  auto fail = [&](std::string_view what) {
    return Internal("libzip: " + std::string(what) + ": " + zip_error_strerror(zip_get_error(zip.get())));
  };
  for (const ZipFile& f : files) {
    zip_source_t* data = zip_source_buffer(zip.get(), f.bytes.data(), f.bytes.size(), 0);
    if (data == nullptr) return fail(f.name);
    zip_int64_t index = zip_file_add(zip.get(), f.name.c_str(), data, ZIP_FL_ENC_UTF_8);
    if (index < 0) {
      zip_source_free(data);
      return fail(f.name);
    }
    auto i = static_cast<zip_uint64_t>(index);
    if (zip_set_file_compression(zip.get(), i, ZIP_CM_DEFLATE, 0) != 0 ||
        zip_file_set_dostime(zip.get(), i, kDosTime, kDosDate, 0) != 0 ||
        zip_file_set_external_attributes(zip.get(), i, 0, ZIP_OPSYS_UNIX, kUnixRegularFile0644 << 16) != 0) {
      return fail(f.name);
    }
  }
  if (zip_close(zip.get()) != 0) return fail("writing the archive");
  zip.release();  // zip_close freed it
  if (zip_source_open(source.get()) != 0) return Internal("libzip: cannot reopen the written archive");
  std::string out;
  char buffer[1 << 16];
  zip_int64_t n;
  while ((n = zip_source_read(source.get(), buffer, sizeof buffer)) > 0)
    out.append(buffer, static_cast<size_t>(n));
  zip_source_close(source.get());
  if (n < 0) return Internal("libzip: cannot read the written archive back");
  return out;
}

}  // namespace soma::formats::internal
