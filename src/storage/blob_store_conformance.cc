#include "storage/blob_store_conformance.h"

#include <unistd.h>

#include <fstream>

#include <openssl/evp.h>

#include <random>
#include <set>
#include <thread>
#include <vector>

namespace pipy::storage {

void BlobStoreConformanceTest::SetUp() {
  store_ = GetParam().make_store();
  ASSERT_NE(store_, nullptr) << "the factory could not create a store";
}

std::string BlobStoreConformanceName(
    const ::testing::TestParamInfo<BlobStoreConformanceParam>& info) {
  return info.param.name;
}

std::string Sha256HexForTest(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kDigits[md[i] >> 4]);
    out.push_back(kDigits[md[i] & 0xf]);
  }
  return out;
}

namespace {

std::string RandomBytes(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string out(n, '\0');
  for (char& c : out) {
    c = static_cast<char>(gen() & 0xff);
  }
  return out;
}

// Reads `key` back through a reader with an odd buffer size.
std::string ReadBack(BlobStore& store, std::string_view key) {
  auto reader = store.Open(key);
  EXPECT_TRUE(reader.has_value()) << reader.status().ToString();
  if (!reader.has_value()) {
    return {};
  }
  std::string out;
  char buf[7919];
  for (;;) {
    auto n = (*reader)->Read(buf, sizeof buf);
    EXPECT_TRUE(n.has_value()) << n.status().ToString();
    if (!n.has_value() || *n == 0) {
      break;
    }
    out.append(buf, *n);
  }
  EXPECT_EQ((*reader)->size(), out.size());
  return out;
}

std::set<std::string> ListedKeys(BlobStore& store) {
  std::set<std::string> keys;
  Status s = store.List([&](const BlobInfo& info) {
    EXPECT_TRUE(keys.insert(info.key).second) << "listed twice: " << info.key;
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return keys;
}

TEST_P(BlobStoreConformanceTest, SmallBlobRoundTripsUnderItsSha256) {
  auto info = PutBytes(*store_, "hello, pipy");
  ASSERT_TRUE(info.has_value()) << info.status().ToString();
  EXPECT_EQ(info->key, Sha256HexForTest("hello, pipy"));
  EXPECT_EQ(info->size, 11u);
  EXPECT_EQ(ReadBack(*store_, info->key), "hello, pipy");
}

TEST_P(BlobStoreConformanceTest, AdoptStoresALocalFileUnderItsSha256) {
  std::filesystem::path file =
      std::filesystem::temp_directory_path() /
      ("pipy-adopt-" + std::to_string(::getpid()) + "-" + Sha256HexForTest(GetParam().name).substr(0, 8));
  { std::ofstream(file, std::ios::binary) << "adopted bytes"; }
  std::string key = Sha256HexForTest("adopted bytes");
  auto info = store_->Adopt(file, key);
  ASSERT_TRUE(info.has_value()) << info.status().ToString();
  EXPECT_EQ(info->key, key);
  EXPECT_EQ(info->size, 13u);
  EXPECT_EQ(ReadBack(*store_, key), "adopted bytes");
  std::filesystem::remove(file);  // the store may have taken it; either way it is ours
}

TEST_P(BlobStoreConformanceTest, EmptyBlobRoundTrips) {
  auto info = PutBytes(*store_, "");
  ASSERT_TRUE(info.has_value()) << info.status().ToString();
  EXPECT_EQ(info->key, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(info->size, 0u);
  EXPECT_EQ(ReadBack(*store_, info->key), "");
}

TEST_P(BlobStoreConformanceTest, MultiMebibyteBlobWrittenInOddChunks) {
  const std::string data = RandomBytes((3 << 20) + 17, 42);
  auto writer = store_->NewWriter();
  ASSERT_TRUE(writer.has_value()) << writer.status().ToString();
  const std::size_t chunks[] = {1, 4093, 65537, 0, 333333};
  std::size_t pos = 0;
  for (int i = 0; pos < data.size(); ++i) {
    std::size_t n = std::min(chunks[i % 5], data.size() - pos);
    ASSERT_TRUE((*writer)->Write(std::string_view(data).substr(pos, n)).ok());
    pos += n;
  }
  auto info = (*writer)->Commit(Sha256HexForTest(data));
  ASSERT_TRUE(info.has_value()) << info.status().ToString();
  EXPECT_EQ(info->key, Sha256HexForTest(data));
  EXPECT_EQ(info->size, data.size());
  EXPECT_TRUE(ReadBack(*store_, info->key) == data) << "bytes differ";
}

TEST_P(BlobStoreConformanceTest, RewritingTheSameBytesIsIdempotent) {
  auto first = PutBytes(*store_, "same bytes");
  auto second = PutBytes(*store_, "same bytes");
  ASSERT_TRUE(first.has_value()) << first.status().ToString();
  ASSERT_TRUE(second.has_value()) << second.status().ToString();
  EXPECT_EQ(first->key, second->key);
  EXPECT_EQ(ListedKeys(*store_), std::set<std::string>{first->key});
  EXPECT_EQ(ReadBack(*store_, first->key), "same bytes");
}

TEST_P(BlobStoreConformanceTest, ExpectedHashMismatchStoresNothing) {
  auto writer = store_->NewWriter();
  ASSERT_TRUE(writer.has_value());
  ASSERT_TRUE((*writer)->Write("the real bytes").ok());
  auto info = (*writer)->Commit(Sha256HexForTest("other bytes"));
  ASSERT_FALSE(info.has_value());
  EXPECT_EQ(info.error().code(), StatusCode::kDataLoss) << info.error().ToString();
  EXPECT_EQ(store_->Stat(Sha256HexForTest("the real bytes")).status().code(),
            StatusCode::kNotFound);
  EXPECT_TRUE(ListedKeys(*store_).empty());
}

TEST_P(BlobStoreConformanceTest, MatchingExpectedHashCommits) {
  auto writer = store_->NewWriter();
  ASSERT_TRUE(writer.has_value());
  ASSERT_TRUE((*writer)->Write("checked").ok());
  auto info = (*writer)->Commit(Sha256HexForTest("checked"));
  ASSERT_TRUE(info.has_value()) << info.status().ToString();
  EXPECT_EQ(ReadBack(*store_, info->key), "checked");
}

TEST_P(BlobStoreConformanceTest, AbandonedWriterLeavesNothing) {
  {
    auto writer = store_->NewWriter();
    ASSERT_TRUE(writer.has_value());
    ASSERT_TRUE((*writer)->Write("never committed").ok());
  }
  EXPECT_TRUE(ListedKeys(*store_).empty());
  EXPECT_EQ(store_->Stat(Sha256HexForTest("never committed")).status().code(),
            StatusCode::kNotFound);
}

TEST_P(BlobStoreConformanceTest, StatReportsSizeAndAge) {
  const std::string data = RandomBytes(12345, 7);
  auto put = PutBytes(*store_, data);
  ASSERT_TRUE(put.has_value());
  auto info = store_->Stat(put->key);
  ASSERT_TRUE(info.has_value()) << info.status().ToString();
  EXPECT_EQ(info->key, put->key);
  EXPECT_EQ(info->size, 12345u);
  std::int64_t now = ::time(nullptr);
  EXPECT_GT(info->modified_unix, now - 3600);
  EXPECT_LT(info->modified_unix, now + 3600);
}

TEST_P(BlobStoreConformanceTest, OpenAndStatOfAbsentKeyAreNotFound) {
  std::string key = Sha256HexForTest("absent");
  EXPECT_EQ(store_->Open(key).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Stat(key).status().code(), StatusCode::kNotFound);
}

TEST_P(BlobStoreConformanceTest, DeletedBlobIsNotFound) {
  auto put = PutBytes(*store_, "to delete");
  ASSERT_TRUE(put.has_value());
  ASSERT_TRUE(store_->Delete(put->key).ok());
  EXPECT_EQ(store_->Stat(put->key).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Open(put->key).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(ListedKeys(*store_).empty());
  EXPECT_TRUE(store_->Delete(put->key).ok()) << "deleting twice must be OK";
}

TEST_P(BlobStoreConformanceTest, DeletingAnAbsentKeyIsOk) {
  EXPECT_TRUE(store_->Delete(Sha256HexForTest("never stored")).ok());
}

TEST_P(BlobStoreConformanceTest, ListFindsExactlyTheCommittedKeys) {
  std::set<std::string> expected;
  for (int i = 0; i < 5; ++i) {
    auto put = PutBytes(*store_, "blob number " + std::to_string(i));
    ASSERT_TRUE(put.has_value());
    expected.insert(put->key);
  }
  ASSERT_TRUE(PutBytes(*store_, "blob number 0").has_value());  // a duplicate
  {
    auto abandoned = store_->NewWriter();
    ASSERT_TRUE(abandoned.has_value());
    ASSERT_TRUE((*abandoned)->Write("abandoned").ok());
  }
  auto mismatched = store_->NewWriter();
  ASSERT_TRUE(mismatched.has_value());
  ASSERT_TRUE((*mismatched)->Write("mismatched").ok());
  ASSERT_FALSE((*mismatched)->Commit(Sha256HexForTest("x")).has_value());

  EXPECT_EQ(ListedKeys(*store_), expected);
  Status s = store_->List([&](const BlobInfo& info) {
    auto stat = store_->Stat(info.key);
    EXPECT_TRUE(stat.has_value());
    EXPECT_EQ(info.size, stat.value_or(BlobInfo{}).size);
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok());
}

TEST_P(BlobStoreConformanceTest, ListStopsAtTheFirstError) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(PutBytes(*store_, std::to_string(i)).has_value());
  }
  int calls = 0;
  Status s = store_->List([&](const BlobInfo&) {
    ++calls;
    return Internal("stop here");
  });
  EXPECT_EQ(s, Internal("stop here"));
  EXPECT_EQ(calls, 1);
}

TEST_P(BlobStoreConformanceTest, InvalidKeysAreRejected) {
  std::string upper = Sha256HexForTest("x");
  for (char& c : upper) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  const std::string keys[] = {"../x",
                              upper,
                              "abc",
                              "",
                              std::string(62, 'a') + "/b",
                              "../../../../../../../../../../../../../../../../../etc/passwd"};
  for (const std::string& key : keys) {
    EXPECT_FALSE(IsValidKey(key)) << key;
    EXPECT_EQ(store_->Open(key).status().code(), StatusCode::kInvalidArgument) << key;
    EXPECT_EQ(store_->Stat(key).status().code(), StatusCode::kInvalidArgument) << key;
    EXPECT_EQ(store_->Delete(key).code(), StatusCode::kInvalidArgument) << key;
  }
  EXPECT_TRUE(IsValidKey(Sha256HexForTest("x")));
  EXPECT_TRUE(ListedKeys(*store_).empty());
}

TEST_P(BlobStoreConformanceTest, ConcurrentWritersOfTheSameBytesAllSucceed) {
  const std::string data = RandomBytes(256 << 10, 99);
  std::vector<Result<BlobInfo>> results(8, Result<BlobInfo>(Internal("not run")));
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      auto writer = store_->NewWriter();
      if (!writer.has_value()) {
        results[t] = writer.error();
        return;
      }
      for (std::size_t pos = 0; pos < data.size(); pos += 10007) {
        Status s = (*writer)->Write(std::string_view(data).substr(pos, 10007));
        if (!s.ok()) {
          results[t] = s;
          return;
        }
      }
      results[t] = (*writer)->Commit(Sha256HexForTest(data));
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  for (const auto& r : results) {
    ASSERT_TRUE(r.has_value()) << r.status().ToString();
    EXPECT_EQ(r->key, Sha256HexForTest(data));
  }
  EXPECT_EQ(ListedKeys(*store_), std::set<std::string>{Sha256HexForTest(data)});
  EXPECT_TRUE(ReadBack(*store_, Sha256HexForTest(data)) == data);
}

}  // namespace
}  // namespace pipy::storage
