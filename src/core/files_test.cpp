#include "core/files.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace soma {
namespace {

namespace fs = std::filesystem;

TEST(ReadWholeFileTest, ReadsARegularFileWhole) {
  const fs::path p = fs::temp_directory_path() / "soma_files_test.txt";
  {
    std::ofstream out(p, std::ios::binary);
    out << std::string("a\0b\nc", 5);
  }
  auto text = ReadWholeFile(p);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(*text, std::string("a\0b\nc", 5));
  // Over the limit: refused by size, not read.
  auto big = ReadWholeFile(p, 4);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), ErrorCode::kResourceExhausted);
  EXPECT_NE(big.status().message().find("5 bytes, more than the 4"), std::string::npos) << big.status().ToString();
  fs::remove(p);
}

TEST(ReadWholeFileTest, NamesWhatIsNotARegularFile) {
  auto missing = ReadWholeFile("/nonexistent/soma/model.xml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.status().message().find("'/nonexistent/soma/model.xml': no such file"), std::string::npos);
  // /dev/zero never ends: refused before reading, not read until memory runs out.
  auto device = ReadWholeFile("/dev/zero");
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.status().code(), ErrorCode::kIoError);
  EXPECT_NE(device.status().message().find("'/dev/zero': not a regular file"), std::string::npos);
  auto folder = ReadWholeFile(fs::temp_directory_path());
  ASSERT_FALSE(folder.ok());
  EXPECT_NE(folder.status().message().find("is a directory, not a file"), std::string::npos);
}

}  // namespace
}  // namespace soma
