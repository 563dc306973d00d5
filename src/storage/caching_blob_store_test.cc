#include "storage/caching_blob_store.h"

#include <gtest/gtest.h>

#include <atomic>

#include "core/sha256.h"
#include "storage/blob_store_conformance.h"
#include "testing/temp_dir.h"

namespace pipy::storage {
namespace {

namespace fs = std::filesystem;

// A new subfolder of one temp folder for the whole binary, which is removed at exit.
fs::path NewDir() {
  static const pipy::testing::TempDir root("pipy-cache-test");
  static std::atomic<int> n{0};
  fs::path dir = root.path() / ("t" + std::to_string(n++));
  fs::create_directories(dir);
  return dir;
}

// A stand-in for a remote store: a filesystem store that counts opens and can be told to
// hand out wrong bytes (a corrupted remote object).
class CountingStore final : public BlobStore {
 public:
  explicit CountingStore(std::unique_ptr<BlobStore> inner) : inner_(std::move(inner)) {}
  Result<std::unique_ptr<BlobWriter>> NewWriter() override { return inner_->NewWriter(); }
  Result<std::unique_ptr<BlobReader>> Open(std::string_view key) override {
    ++opens;
    PIPY_ASSIGN_OR_RETURN(auto reader, inner_->Open(key));
    if (!corrupt) {
      return reader;
    }
    return std::unique_ptr<BlobReader>(new Corrupting(std::move(reader)));
  }
  Result<BlobInfo> Stat(std::string_view key) override { return inner_->Stat(key); }
  Status Delete(std::string_view key) override { return inner_->Delete(key); }
  Status List(const std::function<Status(const BlobInfo&)>& fn) override {
    return inner_->List(fn);
  }

  std::atomic<int> opens{0};
  bool corrupt = false;

 private:
  class Corrupting final : public BlobReader {
   public:
    explicit Corrupting(std::unique_ptr<BlobReader> r) : r_(std::move(r)) {}
    std::uint64_t size() const override { return r_->size(); }
    Result<std::size_t> Read(char* buf, std::size_t n) override {
      PIPY_ASSIGN_OR_RETURN(std::size_t got, r_->Read(buf, n));
      if (got > 0) {
        buf[0] ^= 0x01;
      }
      return got;
    }

   private:
    std::unique_ptr<BlobReader> r_;
  };
  std::unique_ptr<BlobStore> inner_;
};

std::unique_ptr<CachingBlobStore> MakeCaching(CountingStore** remote_out,
                                              BlobCacheOptions options = {}) {
  fs::path dir = NewDir();
  auto inner = FilesystemBlobStore::OpenAt(dir / "remote");
  EXPECT_TRUE(inner.has_value());
  auto remote = std::make_unique<CountingStore>(std::move(*inner));
  if (remote_out != nullptr) {
    *remote_out = remote.get();
  }
  options.dir = dir / "cache";
  auto store = CachingBlobStore::Create(std::move(remote), options);
  EXPECT_TRUE(store.has_value()) << store.error().ToString();
  return std::move(*store);
}

std::unique_ptr<BlobStore> FreshCachingStore() { return MakeCaching(nullptr); }

INSTANTIATE_TEST_SUITE_P(Caching, BlobStoreConformanceTest,
                         ::testing::Values(BlobStoreConformanceParam{"caching",
                                                                     FreshCachingStore}),
                         BlobStoreConformanceName);

std::string ReadWhole(BlobReader& reader) {
  std::string out;
  char buf[4096];
  for (;;) {
    auto n = reader.Read(buf, sizeof buf);
    EXPECT_TRUE(n.has_value());
    if (!n.has_value() || *n == 0) {
      return out;
    }
    out.append(buf, *n);
  }
}

TEST(CachingBlobStore, SecondOpenIsALocalFileWithoutARemoteRead) {
  CountingStore* remote = nullptr;
  auto store = MakeCaching(&remote);
  auto info = PutBytes(*store, "a wheel");
  ASSERT_TRUE(info.has_value());
  auto first = store->Open(info->key);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(ReadWhole(**first), "a wheel");
  EXPECT_EQ(remote->opens.load(), 1);
  auto second = store->Open(info->key);
  ASSERT_TRUE(second.has_value());
  EXPECT_GE((*second)->native_fd(), 0) << "a cached blob is a local file (sendfile)";
  EXPECT_EQ(ReadWhole(**second), "a wheel");
  EXPECT_EQ(remote->opens.load(), 1) << "the cache went back to the remote store";
}

TEST(CachingBlobStore, ACorruptRemoteBlobIsNeverCached) {
  CountingStore* remote = nullptr;
  auto store = MakeCaching(&remote);
  auto info = PutBytes(*store, "good bytes");
  ASSERT_TRUE(info.has_value());
  remote->corrupt = true;
  auto opened = store->Open(info->key);
  ASSERT_FALSE(opened.has_value());
  EXPECT_EQ(opened.error().code(), StatusCode::kDataLoss);
  EXPECT_EQ(store->cached_bytes(), 0u);
  remote->corrupt = false;
  auto healed = store->Open(info->key);
  ASSERT_TRUE(healed.has_value());
  EXPECT_EQ(ReadWhole(**healed), "good bytes");
}

TEST(CachingBlobStore, StaysWithinItsBudgetAndStreamsLargeBlobs) {
  CountingStore* remote = nullptr;
  BlobCacheOptions options;
  options.budget_bytes = 3000;
  options.max_blob_bytes = 1500;
  auto store = MakeCaching(&remote, options);
  std::vector<std::string> keys;
  for (int i = 0; i < 5; ++i) {
    auto info = PutBytes(*store, std::string(1000, static_cast<char>('a' + i)));
    ASSERT_TRUE(info.has_value());
    keys.push_back(info->key);
    ASSERT_TRUE(store->Open(info->key).has_value());
  }
  EXPECT_LE(store->cached_bytes(), 3000u);
  int before = remote->opens.load();
  ASSERT_TRUE(store->Open(keys.back()).has_value());  // recent: still cached
  EXPECT_EQ(remote->opens.load(), before);
  ASSERT_TRUE(store->Open(keys.front()).has_value());  // dropped: fetched again
  EXPECT_EQ(remote->opens.load(), before + 1);

  auto big = PutBytes(*store, std::string(2000, 'z'));
  ASSERT_TRUE(big.has_value());
  std::uint64_t cached = store->cached_bytes();
  int opens = remote->opens.load();
  for (int i = 0; i < 2; ++i) {
    auto streamed = store->Open(big->key);
    ASSERT_TRUE(streamed.has_value());
    EXPECT_EQ(ReadWhole(**streamed), std::string(2000, 'z'));
  }
  EXPECT_EQ(remote->opens.load(), opens + 2) << "a blob over max_blob_bytes was cached";
  EXPECT_EQ(store->cached_bytes(), cached);
}

TEST(CachingBlobStore, DeleteDropsTheCachedCopyAndARestartKeepsTheRest) {
  fs::path dir = NewDir();
  auto inner = FilesystemBlobStore::OpenAt(dir / "remote");
  ASSERT_TRUE(inner.has_value());
  BlobStore* remote_raw = inner->get();
  BlobCacheOptions options;
  options.dir = dir / "cache";
  auto store = CachingBlobStore::Create(std::move(*inner), options);
  ASSERT_TRUE(store.has_value());
  auto kept = PutBytes(**store, "kept");
  auto gone = PutBytes(**store, "gone");
  ASSERT_TRUE((*store)->Open(kept->key).has_value());
  ASSERT_TRUE((*store)->Open(gone->key).has_value());
  ASSERT_TRUE((*store)->Delete(gone->key).ok());
  EXPECT_EQ((*store)->Open(gone->key).error().code(), StatusCode::kNotFound);
  EXPECT_EQ((*store)->cached_bytes(), 4u);
  (void)remote_raw;

  // A new process finds what the old one cached.
  auto inner2 = FilesystemBlobStore::OpenAt(dir / "remote");
  ASSERT_TRUE(inner2.has_value());
  auto again = CachingBlobStore::Create(std::move(*inner2), options);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ((*again)->cached_bytes(), 4u);
}

}  // namespace
}  // namespace pipy::storage
