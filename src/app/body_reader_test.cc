#include "app/body_reader.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "app/temp_file.h"
#include "testing/temp_dir.h"

namespace pipy::app {
namespace {

std::string ReadAll(const ChunkReader& read) {
  std::string out;
  char buf[3];
  while (true) {
    Result<std::size_t> n = read(buf, sizeof buf);
    EXPECT_TRUE(n.has_value());
    if (!n || *n == 0) {
      return out;
    }
    out.append(buf, *n);
  }
}

class SpooledBodyTest : public ::testing::Test {
 protected:
  http::RequestBody Spool(const std::string& text) {
    http::RequestBody body;
    body.file = tmp_.path() / "body";
    std::ofstream(body.file, std::ios::binary) << text;
    body.size = text.size();
    return body;
  }

  pipy::testing::TempDir tmp_{"pipy-app-body"};
};

TEST(BodyReaderTest, ReadsAMemoryBodyInChunks) {
  http::RequestBody body;
  body.memory = "hello, body";
  body.size = body.memory.size();
  Result<ChunkReader> read = OpenBodyReader(body);
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(ReadAll(*read), "hello, body");
}

TEST_F(SpooledBodyTest, ReadsASpooledBodyInChunks) {
  http::RequestBody body = Spool("spooled bytes");
  Result<ChunkReader> read = OpenBodyReader(body);
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(ReadAll(*read), "spooled bytes");
}

TEST_F(SpooledBodyTest, AMissingSpoolFileIsAnInternalError) {
  http::RequestBody body;
  body.file = tmp_.path() / "gone";
  body.size = 5;
  Result<ChunkReader> read = OpenBodyReader(body);
  ASSERT_FALSE(read.has_value());
  EXPECT_EQ(read.error().code(), StatusCode::kInternal);
}

TEST_F(SpooledBodyTest, ReadSmallBodyEnforcesTheLimitOnBothKinds) {
  http::RequestBody memory;
  memory.memory = "12345";
  memory.size = 5;
  EXPECT_EQ(ReadSmallBody(memory, 5).value(), "12345");
  ASSERT_FALSE(ReadSmallBody(memory, 4).has_value());
  EXPECT_EQ(ReadSmallBody(memory, 4).error().code(), StatusCode::kTooLarge);

  http::RequestBody spooled = Spool("123456");
  EXPECT_EQ(ReadSmallBody(spooled, 6).value(), "123456");
  ASSERT_FALSE(ReadSmallBody(spooled, 5).has_value());
  EXPECT_EQ(ReadSmallBody(spooled, 5).error().code(), StatusCode::kTooLarge);
}

TEST_F(SpooledBodyTest, TempFileIsRemovedWhenItsOwnerGoes) {
  std::filesystem::path path;
  {
    Result<TempFile> file = TempFile::Create(tmp_.path());
    ASSERT_TRUE(file.has_value());
    path = file->path();
    EXPECT_EQ(path.filename().string().rfind("upload-", 0), 0u);
    ASSERT_TRUE(file->Write("abc").ok());
    ASSERT_TRUE(file->Close().ok());
    EXPECT_EQ(std::filesystem::file_size(path), 3u);
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace pipy::app
